//! The `command` sensor: runs a program directly (never through a shell) and merges the one JSON object it prints.
//!
//! The program gets no stdin and an environment of `PATH` only, so the agent's own settings (its token among them)
//! never reach it. It runs in a process group of its own; at `timeout_ms` the whole group is killed (SIGKILL), so
//! nothing it started outlives it, and the program is reaped. Stdout must be one JSON object of at most 64 KiB;
//! reading stops one byte past that. Output that breaks a bound of [`super::reading_bounds`] (too deep, a NaN,
//! `Infinity` or `1e999`, too much of it) is a refused reading, not a failed one.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::reading_bounds::{OutOfBounds, check_printed_json};
use super::{Sensor, SensorError, validate_field};

/// Largest stdout accepted.
pub const MAX_STDOUT: usize = 64 * 1024;
/// Stderr kept for error messages; the rest is read and dropped.
const STDERR_KEPT: usize = 4 * 1024;
/// Characters of stderr quoted in an error.
const STDERR_EXCERPT_CHARS: usize = 300;
/// The only environment variable the program sees.
const SAFE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `[[sensors]] kind = "command"`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CommandConfig {
    /// Absolute path of the program, e.g. `/usr/local/bin/read-bms`.
    pub program: String,
    /// Arguments, passed as they are: no shell, no globbing, no `$VAR` expansion.
    #[serde(default)]
    pub args: Vec<String>,
    /// Kill the program after this long, ms. Default 2000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Payload field for the printed object. Without it, the object's keys go to the top level of the payload.
    #[serde(default)]
    pub field: Option<String>,
}

fn default_timeout_ms() -> u64 {
    2000
}

impl CommandConfig {
    /// Checks the path, arguments, timeout and field; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !Path::new(&self.program).is_absolute() || self.program.contains('\0') {
            return Err(format!(
                "program: must be an absolute path (got {:?})",
                self.program
            ));
        }
        if let Some(i) = self.args.iter().position(|a| a.contains('\0')) {
            return Err(format!("args[{i}]: must not contain a NUL byte"));
        }
        if !(1..=60_000).contains(&self.timeout_ms) {
            return Err(format!(
                "timeout_ms: must be 1 to 60000 (got {})",
                self.timeout_ms
            ));
        }
        match &self.field {
            Some(field) => validate_field("field", field),
            None => Ok(()),
        }
    }
}

/// What a finished program left behind.
#[derive(Debug)]
pub struct ProgramOutput {
    /// How it exited.
    pub status: ExitStatus,
    /// Its stdout, at most [`MAX_STDOUT`] + 1 bytes (one more means it printed too much).
    pub stdout: Vec<u8>,
    /// The start of its stderr.
    pub stderr: Vec<u8>,
}

/// Runs `program` with `args` directly, in a new process group, with stdin closed and only `PATH` set; kills
/// the group at `timeout`, or when the program exited but something it started still holds its stdout.
pub fn run_program(
    program: &str,
    args: &[String],
    timeout: Duration,
) -> Result<ProgramOutput, String> {
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", SAFE_PATH)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("could not start: {e}"))?;
    let deadline = Instant::now() + timeout;
    // Stdout past its limit is an error anyway: stop reading, so a runaway writer gets EPIPE. Stderr is drained.
    let stdout = read_in_background(child.stdout.take(), MAX_STDOUT + 1, false);
    let stderr = read_in_background(child.stderr.take(), STDERR_KEPT, true);
    let status = wait_until(&mut child, deadline, timeout)?;
    // A background process that inherited the pipes could hold them open: wait a little, not forever.
    let grace = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(100);
    let stdout = stdout.recv_timeout(grace).map_err(|_| {
        kill_group(&child);
        "exited, but something it started still holds its stdout open".to_string()
    })?;
    let stderr = stderr
        .recv_timeout(Duration::from_millis(100))
        .unwrap_or_default();
    Ok(ProgramOutput {
        status,
        stdout,
        stderr,
    })
}

/// Reads up to `keep` bytes of a pipe on a thread and sends them; then, if `drain_rest`, reads the rest into
/// nothing so the writer never blocks on a full pipe.
fn read_in_background(
    pipe: Option<impl Read + Send + 'static>,
    keep: usize,
    drain_rest: bool,
) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(pipe) = pipe {
        thread::spawn(move || {
            let mut kept = Vec::new();
            let mut pipe = pipe.take(keep as u64);
            let _ = pipe.read_to_end(&mut kept);
            let _ = tx.send(kept);
            if drain_rest {
                let _ = std::io::copy(&mut pipe.into_inner(), &mut std::io::sink());
            }
        });
    }
    rx
}

/// Waits for the child to exit; at `deadline` kills its process group and reaps it.
fn wait_until(
    child: &mut Child,
    deadline: Instant,
    timeout: Duration,
) -> Result<ExitStatus, String> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                kill_group(child);
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "timed out after {} ms and was killed",
                    timeout.as_millis()
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("could not wait for it: {e}")),
        }
    }
}

/// Sends SIGKILL to the child's process group (its id: [`run_program`] made it the group's leader). The group is
/// gone already if everything in it exited; that is not an error.
fn kill_group(child: &Child) {
    use rustix::process::{Pid, Signal, kill_process_group};
    let _ = kill_process_group(Pid::from_child(child), Signal::KILL);
}

/// Checks a finished program's output and returns the JSON object it printed. Output past a bound is
/// [`SensorError::OutOfBounds`]; anything else wrong is [`SensorError::Read`].
pub fn parse_output(output: &ProgramOutput) -> Result<Map<String, Value>, SensorError> {
    let stderr = excerpt(&output.stderr);
    let with_stderr = |message: String| {
        if stderr.is_empty() {
            message
        } else {
            format!("{message}; stderr: {stderr}")
        }
    };
    // First: a runaway writer is cut off and then dies of SIGPIPE, which is not the failure to report.
    if output.stdout.len() > MAX_STDOUT {
        return Err(OutOfBounds::OutputTooLarge {
            limit_kib: MAX_STDOUT / 1024,
        }
        .into());
    }
    if !output.status.success() {
        return Err(SensorError::Read(with_stderr(format!(
            "failed ({})",
            output.status
        ))));
    }
    match serde_json::from_slice::<Value>(&output.stdout) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(SensorError::Read(format!(
            "printed JSON that is not an object (a {})",
            json_kind(&other)
        ))),
        Err(e) => Err(match check_printed_json(&output.stdout) {
            Some(bound) => bound.into(),
            None => SensorError::Read(with_stderr(format!("did not print one JSON object ({e})"))),
        }),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The start of `bytes` as one line of printable text, at most `STDERR_EXCERPT_CHARS` characters.
pub fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(STDERR_EXCERPT_CHARS + 1)
        .collect();
    if line.chars().count() > STDERR_EXCERPT_CHARS {
        line = line
            .chars()
            .take(STDERR_EXCERPT_CHARS)
            .chain(['…'])
            .collect();
    }
    line
}

/// A configured program, run once per read.
pub struct ExternalCommand {
    name: String,
    config: CommandConfig,
}

impl ExternalCommand {
    /// Checks that the program exists now, so a typo in the path is caught at start.
    pub fn open(config: &CommandConfig) -> Result<Self, SensorError> {
        let error = |message: String| SensorError::Command {
            program: config.program.clone(),
            message,
        };
        config.validate().map_err(error)?;
        if !Path::new(&config.program).is_file() {
            return Err(error(
                "no such program (the path must be absolute; no shell is used)".into(),
            ));
        }
        Ok(Self {
            name: format!("command {}", config.program),
            config: config.clone(),
        })
    }
}

impl Sensor for ExternalCommand {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&mut self, fields: &mut Map<String, Value>) -> Result<(), SensorError> {
        let timeout = Duration::from_millis(self.config.timeout_ms);
        let output = run_program(&self.config.program, &self.config.args, timeout)
            .map_err(SensorError::Read)?;
        let object = parse_output(&output)?;
        match &self.config.field {
            Some(field) => {
                fields.insert(field.clone(), Value::Object(object));
            }
            None => fields.extend(object),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
