//! Target for what the agent does with a message from the hub: decoding it as the link does, and the command
//! allowlist (`edge_agent::commands`).
//!
//! Input: an optional `outputs: 17,27` line (the configured GPIO outputs), then `message:` and the text frame
//! from the hub. Properties: a decoded message serialises and decodes to an equivalent one; an allowed command's
//! arguments are within their bounds; a refusal's reason stays short whatever the dashboard sent; the
//! `command_result` the agent answers with is one the hub accepts, unchanged.

use edge_agent::commands::{self, Action, MAX_INTERVAL_SECS, MIN_INTERVAL_SECS};
use telemetry_protocol::{Command, DeviceFrame, DeviceMessage, HubToDevice, parse_device_frame};

use crate::fields::{Fields, text};
use crate::json_equivalence::{assert_equivalent, to_text};

/// Longest refusal reason: every echo of the dashboard's text is cut to 64 characters.
const MAX_REASON_CHARS: usize = 1024;

/// A hub message decoded as the agent's link decodes it, and a command run through the allowlist.
pub fn agent_commands(data: &[u8]) {
    let text = text(data);
    let fields = Fields::parse(&text, "message");
    let outputs: Vec<u8> = fields
        .get("outputs")
        .unwrap_or("")
        .split(',')
        .filter_map(|pin| pin.trim().parse().ok())
        .collect();
    let Ok(message) = serde_json::from_str::<HubToDevice>(fields.body().unwrap_or("")) else {
        return;
    };
    match serde_json::from_str::<HubToDevice>(&to_text(&message)) {
        Ok(again) => assert_equivalent("hub message", &message, &again),
        Err(error) => panic!("{message:?} re-serialised does not decode: {error}"),
    }
    if let HubToDevice::Command(command) = message {
        check_command(&command, &outputs);
    }
}

fn check_command(command: &Command, outputs: &[u8]) {
    let outcome = commands::parse(command, outputs);
    match &outcome {
        Ok(Action::SetInterval(every)) => {
            assert!((MIN_INTERVAL_SECS..=MAX_INTERVAL_SECS).contains(&every.as_secs()));
        }
        Ok(Action::GpioWrite { pin, .. }) => assert!(outputs.contains(pin), "pin {pin}"),
        Ok(Action::Ping) => assert!(command.args.is_empty()),
        Err(reason) => {
            let chars = reason.chars().count();
            assert!(chars <= MAX_REASON_CHARS, "a reason of {chars} characters");
        }
    }
    let result = commands::result(&command.id, outcome.map(|action| action.done_detail()));
    let answer = DeviceMessage::CommandResult(result);
    match parse_device_frame(&to_text(&answer)) {
        Ok(DeviceFrame::Message(accepted)) => {
            assert_equivalent("command result", &answer, &accepted)
        }
        other => panic!("the hub does not take the agent's answer {answer:?}: {other:?}"),
    }
}
