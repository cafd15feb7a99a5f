//! The command allowlist: a dashboard's `command` becomes an [`Action`] or a refusal that says what is wrong.
//!
//! Pure: nothing here touches a pin or a timer, and no command ever reaches a shell. Allowed:
//!
//! | name | args | effect |
//! |---|---|---|
//! | `set_interval` | `{"seconds": 1..=3600}` (a whole number) | changes the sample interval, kept across restarts by [`crate::settings`] |
//! | `gpio_write` | `{"pin": N, "level": 0/1, "low"/"high" or false/true}` | drives a pin listed in `gpio_outputs` |
//! | `ping` | `{}` | answers `pong` |

use std::time::Duration;

use serde_json::{Map, Value};
use telemetry_protocol::{Command, CommandResult};

/// Shortest interval `set_interval` accepts, in seconds.
pub const MIN_INTERVAL_SECS: u64 = 1;
/// Longest interval `set_interval` accepts, in seconds.
pub const MAX_INTERVAL_SECS: u64 = 3600;

/// An allowed command with checked arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Sample every this long from now on.
    SetInterval(Duration),
    /// Drive output `pin` high (`true`) or low.
    GpioWrite {
        /// BCM pin number, one of the configured outputs.
        pin: u8,
        /// The level to drive.
        high: bool,
    },
    /// Answer `pong`.
    Ping,
}

impl Action {
    /// The `detail` of a successful result.
    pub fn done_detail(&self) -> String {
        match self {
            Self::SetInterval(every) => format!("interval set to {} s", every.as_secs()),
            Self::GpioWrite { pin, high } => {
                format!("pin {pin} set {}", if *high { "high" } else { "low" })
            }
            Self::Ping => "pong".to_owned(),
        }
    }
}

/// Checks `command` against the allowlist; `gpio_outputs` are the pins the config lets commands drive.
/// The error is the reason sent back in `command_result.detail`.
pub fn parse(command: &Command, gpio_outputs: &[u8]) -> Result<Action, String> {
    let args = &command.args;
    match command.name.as_str() {
        "set_interval" => {
            only_args(args, &["seconds"])?;
            let seconds = whole_number(args, "seconds")?;
            if !(MIN_INTERVAL_SECS..=MAX_INTERVAL_SECS).contains(&seconds) {
                return Err(format!(
                    "seconds must be between {MIN_INTERVAL_SECS} and {MAX_INTERVAL_SECS}, got {seconds}"
                ));
            }
            Ok(Action::SetInterval(Duration::from_secs(seconds)))
        }
        "gpio_write" => {
            only_args(args, &["pin", "level"])?;
            let pin = whole_number(args, "pin")?;
            let pin = u8::try_from(pin)
                .ok()
                .filter(|p| gpio_outputs.contains(p))
                .ok_or_else(|| not_an_output(pin, gpio_outputs))?;
            let high = level(args.get("level"))?;
            Ok(Action::GpioWrite { pin, high })
        }
        "ping" => {
            only_args(args, &[])?;
            Ok(Action::Ping)
        }
        other => Err(format!(
            "unknown command {:?}; allowed: set_interval, gpio_write, ping",
            truncate(other)
        )),
    }
}

/// A `command_result` for `id`: `ok` with the action's detail, or not ok with the reason.
pub fn result(id: &str, outcome: Result<String, String>) -> CommandResult {
    let (ok, detail) = match outcome {
        Ok(detail) => (true, detail),
        Err(reason) => (false, reason),
    };
    CommandResult {
        id: id.to_owned(),
        ok,
        detail: Value::String(detail),
        device_id: None,
    }
}

fn only_args(args: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    match args.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(format!("unexpected argument {:?}", truncate(key))),
        None => Ok(()),
    }
}

fn whole_number(args: &Map<String, Value>, key: &str) -> Result<u64, String> {
    match args.get(key) {
        None => Err(format!("missing argument {key:?}")),
        Some(value) => value.as_u64().ok_or_else(|| {
            format!(
                "{key} must be a whole number, got {}",
                truncate(&value.to_string())
            )
        }),
    }
}

fn level(value: Option<&Value>) -> Result<bool, String> {
    let value = value.ok_or("missing argument \"level\"")?;
    match value {
        Value::Bool(high) => Ok(*high),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("low") => Ok(false),
        Value::String(s) if s.eq_ignore_ascii_case("high") => Ok(true),
        other => Err(format!(
            "level must be 0, 1, \"low\", \"high\", false or true, got {}",
            truncate(&other.to_string())
        )),
    }
}

fn not_an_output(pin: u64, outputs: &[u8]) -> String {
    if outputs.is_empty() {
        format!("pin {pin} is not a configured output (no gpio_outputs are configured)")
    } else {
        format!("pin {pin} is not a configured output (allowed: {outputs:?})")
    }
}

/// At most 64 characters of text a dashboard sent, for echoing in a reason.
fn truncate(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests;
