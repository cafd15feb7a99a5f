//! Everything a hub's `wrangler dev` printed, collected by drain threads and readable by tests.

use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A growing, shared log: stdout and stderr of the hub's processes, line by line, in arrival order.
///
/// Cloning gives another handle to the same log.
#[derive(Clone, Default)]
pub struct Logs {
    shared: Arc<(Mutex<String>, Condvar)>,
}

impl Logs {
    /// A copy of everything logged so far.
    pub fn snapshot(&self) -> String {
        self.text().clone()
    }

    /// How many bytes have been logged so far; pass it to [`Logs::since`] to see only what comes later.
    pub fn len(&self) -> usize {
        self.text().len()
    }

    /// Whether nothing was logged yet.
    pub fn is_empty(&self) -> bool {
        self.text().is_empty()
    }

    /// What was logged after the first `offset` bytes.
    pub fn since(&self, offset: usize) -> String {
        self.text().get(offset..).unwrap_or_default().to_owned()
    }

    /// Appends one line (a newline is added).
    pub fn push_line(&self, line: &str) {
        let (_, changed) = &*self.shared;
        let mut text = self.text();
        text.push_str(line);
        text.push('\n');
        drop(text);
        changed.notify_all();
    }

    /// Waits until `find` returns `Some` for the log text after `offset`, or `timeout` passes.
    pub fn wait_for<T>(
        &self,
        offset: usize,
        timeout: Duration,
        mut find: impl FnMut(&str) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let (_, changed) = &*self.shared;
        let mut text = self.text();
        loop {
            if let Some(found) = find(text.get(offset..).unwrap_or_default()) {
                return Some(found);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            text = changed
                .wait_timeout(text, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Starts a thread that appends every line read from `source` (prefixed with `tag`) until EOF.
    pub fn drain(&self, tag: &'static str, source: impl Read + Send + 'static) -> JoinHandle<()> {
        let logs = self.clone();
        thread::Builder::new()
            .name(format!("hub-log-{tag}"))
            .spawn(move || {
                let mut reader = BufReader::new(source);
                let mut line = Vec::new();
                while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                    let text = String::from_utf8_lossy(&line);
                    logs.push_line(&format!("[{tag}] {}", text.trim_end()));
                    line.clear();
                }
            })
            .expect("spawn a log drain thread")
    }

    /// The Worker's log events so far: every line that is a JSON object with an `event` (see
    /// [`worker_events`]).
    pub fn events(&self) -> Vec<serde_json::Value> {
        worker_events(&self.text())
    }

    fn text(&self) -> MutexGuard<'_, String> {
        self.shared.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A logged line without the drain's `[out] ` or `[err] ` tag.
pub fn untagged(line: &str) -> &str {
    ["[out] ", "[err] "]
        .iter()
        .find_map(|tag| line.strip_prefix(tag))
        .unwrap_or(line)
}

/// The Worker's log events in `text`: each line (tag stripped) that parses as a JSON object with a string
/// `event`, in order. The Worker logs nothing else (docs/operations.md).
pub fn worker_events(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(untagged(line)).ok())
        .filter(|value| value.get("event").is_some_and(serde_json::Value::is_string))
        .collect()
}

/// The events named `event` among `events` whose fields include every `(key, value)` of `with`.
pub fn events_where<'a>(
    events: &'a [serde_json::Value],
    event: &str,
    with: &[(&str, serde_json::Value)],
) -> Vec<&'a serde_json::Value> {
    events
        .iter()
        .filter(|e| e["event"] == event && with.iter().all(|(k, v)| e.get(*k) == Some(v)))
        .collect()
}

impl std::fmt::Debug for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logs").field("bytes", &self.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drains_lines_with_a_tag_and_finds_them() {
        let logs = Logs::default();
        let handle = logs.drain("out", &b"first\nReady on http://127.0.0.1:4242\n"[..]);
        let port = logs.wait_for(0, Duration::from_secs(5), |text| {
            text.split("Ready on http://127.0.0.1:")
                .nth(1)
                .map(|rest| rest.trim_end().to_owned())
        });
        assert_eq!(port.as_deref(), Some("4242"));
        handle.join().expect("drain thread");
        assert_eq!(
            logs.snapshot(),
            "[out] first\n[out] Ready on http://127.0.0.1:4242\n"
        );
    }

    #[test]
    fn worker_events_are_the_json_lines_with_an_event() {
        let logs = Logs::default();
        logs.push_line(r#"[out] {"event":"auth_refused","reason":"wrong token"}"#);
        logs.push_line("[out] [wrangler:info] GET /admin/devices 200 OK (3ms)");
        logs.push_line(r#"[err] {"no_event":1}"#);
        logs.push_line(r#"{"event":"metric","blob1":"device_connected"}"#);
        let events = logs.events();
        assert_eq!(events.len(), 2);
        let found = events_where(&events, "auth_refused", &[("reason", "wrong token".into())]);
        assert_eq!(found.len(), 1);
        assert!(events_where(&events, "auth_refused", &[("reason", "other".into())]).is_empty());
        assert_eq!(untagged("[err] x"), "x");
    }

    #[test]
    fn since_skips_what_was_already_seen_and_wait_times_out() {
        let logs = Logs::default();
        logs.push_line("old");
        let mark = logs.len();
        logs.push_line("new");
        assert_eq!(logs.since(mark), "new\n");
        let none = logs.wait_for(mark, Duration::from_millis(20), |t| {
            t.contains("old").then_some(())
        });
        assert!(none.is_none());
    }
}
