//! Carries out allowed commands: the thin impure side of [`crate::commands`], holding the output pins and the
//! sampler's interval, which it saves (when given an [`IntervalSaver`]) so that it survives a restart.

use std::time::Duration;

use telemetry_protocol::{Command, CommandResult};
use tokio::sync::watch;

use crate::commands::{self, Action};
use crate::gpio::OutputPins;
use crate::settings::file::IntervalSaver;

/// Executes commands and answers each with a `command_result`.
pub struct CommandRunner {
    outputs: Vec<u8>,
    pins: Box<dyn OutputPins>,
    interval: watch::Sender<Duration>,
    saver: Option<IntervalSaver>,
}

impl CommandRunner {
    /// A runner that may drive `outputs` through `pins` and change the sampler's `interval`.
    pub fn new(
        outputs: Vec<u8>,
        pins: Box<dyn OutputPins>,
        interval: watch::Sender<Duration>,
    ) -> Self {
        Self {
            outputs,
            pins,
            interval,
            saver: None,
        }
    }

    /// The same runner, saving every interval a command sets through `saver`.
    pub fn saving_interval(self, saver: IntervalSaver) -> Self {
        Self {
            saver: Some(saver),
            ..self
        }
    }

    /// Checks `command` against the allowlist, carries it out, and returns the result to send.
    pub fn run(&mut self, command: &Command) -> CommandResult {
        let outcome =
            commands::parse(command, &self.outputs).and_then(|action| self.execute(action));
        match &outcome {
            Ok(detail) => {
                tracing::info!(id = %command.id, name = %command.name, %detail, "command done")
            }
            Err(reason) => {
                tracing::warn!(id = %command.id, name = %command.name, %reason, "command refused")
            }
        }
        commands::result(&command.id, outcome)
    }

    fn execute(&mut self, action: Action) -> Result<String, String> {
        match action {
            Action::SetInterval(every) => {
                self.interval.send_replace(every);
                if let Some(saver) = &self.saver {
                    saver.save_current();
                }
            }
            Action::GpioWrite { pin, high } => {
                self.pins.write(pin, high).map_err(|e| e.to_string())?;
            }
            Action::Ping => {}
        }
        Ok(action.done_detail())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::gpio::RecordingPins;
    use crate::settings::SettingsFile;

    fn command(name: &str, args: Value) -> Command {
        serde_json::from_value(json!({"id": "c-1", "name": name, "args": args})).expect("command")
    }

    #[test]
    fn commands_act_and_answer() {
        let pins = RecordingPins::new(&[17]);
        let (tx, rx) = watch::channel(Duration::from_secs(1));
        let mut runner = CommandRunner::new(vec![17], Box::new(pins.clone()), tx);
        let result = runner.run(&command("set_interval", json!({"seconds": 5})));
        assert!(result.ok, "{result:?}");
        assert_eq!(*rx.borrow(), Duration::from_secs(5));
        let result = runner.run(&command("gpio_write", json!({"pin": 17, "level": "high"})));
        assert_eq!((result.ok, result.detail), (true, json!("pin 17 set high")));
        assert_eq!(pins.writes(), [(17, true)]);
        let result = runner.run(&command("ping", json!({})));
        assert_eq!(
            (result.id.as_str(), result.ok, result.detail),
            ("c-1", true, json!("pong"))
        );
    }

    #[test]
    fn refusals_change_nothing() {
        let pins = RecordingPins::new(&[17]);
        let (tx, rx) = watch::channel(Duration::from_secs(1));
        let mut runner = CommandRunner::new(vec![17], Box::new(pins.clone()), tx);
        for (name, args) in [
            ("set_interval", json!({"seconds": 0})),
            ("gpio_write", json!({"pin": 4, "level": 1})),
            ("exec", json!({"cmd": "reboot"})),
        ] {
            let result = runner.run(&command(name, args));
            assert!(!result.ok, "{result:?}");
            assert!(result.detail.as_str().is_some_and(|d| !d.is_empty()));
        }
        assert_eq!(*rx.borrow(), Duration::from_secs(1));
        assert!(pins.writes().is_empty());
    }

    #[test]
    fn a_set_interval_is_saved_and_a_refused_one_is_not() {
        let dir = tempfile::tempdir().expect("scratch");
        let file = SettingsFile::beside(&dir.path().join("samples"));
        let (tx, rx) = watch::channel(Duration::from_secs(1));
        let saver = IntervalSaver::new(file.clone(), Duration::from_secs(1), rx);
        let mut runner = CommandRunner::new(vec![], Box::new(RecordingPins::new(&[])), tx)
            .saving_interval(saver);
        assert!(
            !runner
                .run(&command("set_interval", json!({"seconds": 0})))
                .ok
        );
        assert_eq!(file.read(), Ok(None));
        assert!(
            runner
                .run(&command("set_interval", json!({"seconds": 9})))
                .ok
        );
        let saved = file.read().expect("readable").expect("saved");
        assert_eq!(
            (saved.sample_interval_secs, saved.config_interval_secs),
            (9, 1.0)
        );
    }

    #[test]
    fn a_failed_pin_write_is_reported() {
        let (tx, _rx) = watch::channel(Duration::from_secs(1));
        let mut runner = CommandRunner::new(vec![17], Box::new(RecordingPins::new(&[])), tx);
        let result = runner.run(&command("gpio_write", json!({"pin": 17, "level": 0})));
        assert_eq!(
            (result.ok, result.detail),
            (false, json!("GPIO 17 is not a configured output"))
        );
    }
}
