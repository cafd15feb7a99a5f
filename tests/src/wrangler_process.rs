//! One `wrangler dev` in its own process group, which cannot outlive the test process that started it.
//!
//! wrangler runs under a small bash supervisor that leads a new process group. The supervisor holds the read
//! end of a pipe whose write end only this process has; when the pipe closes (on [`WranglerProcess::stop`],
//! on drop, or because the test process died, even by `SIGKILL` or by exiting without running destructors),
//! it sends `SIGTERM` and then `SIGKILL` to the whole group: wrangler, its workerd children and itself.

use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use crate::logs::Logs;
use crate::workspace;

/// Printed by the supervisor when wrangler exits on its own; the harness stops waiting when it sees it.
pub const EXITED_MARKER: &str = "[hub-e2e] wrangler exited with status";

/// What `wrangler dev` prints once it listens; the port follows.
const READY_PREFIX: &str = "Ready on http://127.0.0.1:";

/// In a `wrangler dev` log: `Ok(port)` once the ready line is there, `Err(())` if wrangler exited first.
pub fn ready_or_exit(text: &str) -> Option<Result<u16, ()>> {
    if let Some(rest) = text.split(READY_PREFIX).nth(1) {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(port) = digits.parse() {
            return Some(Ok(port));
        }
    }
    text.contains(EXITED_MARKER).then_some(Err(()))
}

/// The supervisor: `$@` is the wrangler command line.
///
/// It ignores `SIGTERM` and `SIGPIPE` itself (set after wrangler is forked, so wrangler keeps the defaults):
/// it survives the group-wide `SIGTERM`, and its exit notice to a reader that is gone, so that it can always
/// follow up with `SIGKILL`.
const SUPERVISOR: &str = r#"
exec 3<&0
"$@" </dev/null 3<&- &
child=$!
trap '' TERM PIPE
{
    read -r _ <&3 || true
    kill -TERM -- -$$ 2>/dev/null
    sleep 3
    kill -KILL -- -$$ 2>/dev/null
} &
exec 3<&-
wait "$child"
status=$?
echo "[hub-e2e] wrangler exited with status $status" >&2
kill -KILL -- -$$ 2>/dev/null
"#;

/// How long [`WranglerProcess::stop`] waits for the group to go before killing it outright.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A running `wrangler dev` (or any wrangler command) and the threads draining its output into [`Logs`].
#[derive(Debug)]
pub struct WranglerProcess {
    supervisor: Child,
    lifeline: Option<ChildStdin>,
    drains: Vec<JoinHandle<()>>,
}

impl WranglerProcess {
    /// Starts `wrangler <args>` from `cwd` in a new process group; its output goes to `logs`.
    pub fn spawn(args: &[String], cwd: &Path, logs: &Logs) -> Self {
        let wrangler = workspace::wrangler();
        assert!(
            wrangler.exists(),
            "{} is missing: run scripts/bootstrap (npm ci)",
            wrangler.display()
        );
        let mut supervisor = Command::new("bash")
            .arg("-c")
            .arg(SUPERVISOR)
            .arg("hub-e2e-wrangler")
            .arg(&wrangler)
            .args(args)
            .current_dir(cwd)
            .envs(workspace::WRANGLER_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("spawn bash to supervise wrangler");
        let lifeline = supervisor.stdin.take();
        let mut drains = Vec::with_capacity(2);
        if let Some(out) = supervisor.stdout.take() {
            drains.push(logs.drain("out", out));
        }
        if let Some(err) = supervisor.stderr.take() {
            drains.push(logs.drain("err", err));
        }
        Self {
            supervisor,
            lifeline,
            drains,
        }
    }

    /// The id of the process group (the supervisor's pid).
    pub fn process_group(&self) -> u32 {
        self.supervisor.id()
    }

    /// Stops the whole group and waits until it is gone and its output is drained. Idempotent.
    pub fn stop(&mut self) {
        drop(self.lifeline.take());
        let deadline = Instant::now() + STOP_GRACE;
        while matches!(self.supervisor.try_wait(), Ok(None)) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        // The supervisor kills the group on its way out; this covers a supervisor that hung or was killed.
        kill_group(self.process_group());
        let _ = self.supervisor.wait();
        for drain in self.drains.drain(..) {
            let _ = drain.join();
        }
    }
}

impl Drop for WranglerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `kill -KILL -- -pgid`; an already empty group is fine.
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_port_in_the_ready_line() {
        let log = "[out] ⎔ Starting local server...\n[out] [wrangler:info] Ready on http://127.0.0.1:41234\n";
        assert_eq!(ready_or_exit(log), Some(Ok(41234)));
        assert_eq!(ready_or_exit("[out] Ready on http://127.0.0.1:"), None);
        assert_eq!(ready_or_exit("[out] Starting"), None);
        assert_eq!(
            ready_or_exit("[err] [hub-e2e] wrangler exited with status 1\n"),
            Some(Err(()))
        );
    }
}
