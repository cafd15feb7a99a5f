//! Classifying a text frame: which message it is, or precisely why it is refused.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::command::{CancelCommand, Command, DashboardCommand};
use crate::dashboard::DashboardMessage;
use crate::device::{Batch, DeviceMessage, Telemetry};
use crate::error_frame::{ErrorCode, ErrorFrame};
use crate::limits::{
    MAX_BATCH_ITEMS, MAX_COMMAND_ID_LEN, MAX_COMMAND_NAME_LEN, MAX_COMMAND_TTL_SECS, MAX_EPOCH_LEN,
};

/// A frame from a device, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceFrame {
    /// A typed message.
    Message(DeviceMessage),
    /// A JSON object without `type`: the flat payload of existing Pi scripts, taken as telemetry.
    Legacy(Map<String, Value>),
    /// `{"type":"ping"}` with other spacing than the exact text the hub answers without waking.
    Ping,
}

/// Message types only devices send.
const DEVICE_TYPES: [&str; 3] = ["telemetry", "batch", "command_result"];
/// Message types only dashboards send.
const DASHBOARD_TYPES: [&str; 2] = ["command", "cancel_command"];

/// Classifies a text frame from a device.
pub fn parse_device_frame(text: &str) -> Result<DeviceFrame, ErrorFrame> {
    let object = parse_object(text)?;
    let Some(kind) = message_type(&object)? else {
        return Ok(DeviceFrame::Legacy(object));
    };
    match kind.as_str() {
        "ping" => Ok(DeviceFrame::Ping),
        "telemetry" => {
            let sample: Telemetry = typed(object)?;
            check_telemetry(&sample)?;
            Ok(DeviceFrame::Message(DeviceMessage::Telemetry(sample)))
        }
        "batch" => {
            check_batch_len(&object)?;
            let batch: Batch = typed(object)?;
            batch.items.iter().try_for_each(check_telemetry)?;
            Ok(DeviceFrame::Message(DeviceMessage::Batch(batch)))
        }
        "command_result" => Ok(DeviceFrame::Message(DeviceMessage::CommandResult(typed(
            object,
        )?))),
        other if DASHBOARD_TYPES.contains(&other) => Err(wrong_direction(other, "a device")),
        other => Err(unknown_type(other)),
    }
}

/// Classifies a text frame from a dashboard.
pub fn parse_dashboard_frame(text: &str) -> Result<DashboardMessage, ErrorFrame> {
    let object = parse_object(text)?;
    let Some(kind) = message_type(&object)? else {
        return Err(ErrorFrame::new(
            ErrorCode::InvalidMessage,
            "a dashboard message needs a \"type\"",
        ));
    };
    match kind.as_str() {
        "ping" => Ok(DashboardMessage::Ping),
        "command" => {
            check_ttl_present(&object)?;
            let command: DashboardCommand = typed(object)?;
            check_command(&command.command)?;
            check_ttl(command.ttl_s)?;
            Ok(DashboardMessage::Command(command))
        }
        "cancel_command" => {
            let cancel: CancelCommand = typed(object)?;
            check_command_id(&cancel.id)?;
            Ok(DashboardMessage::CancelCommand(cancel))
        }
        other if DEVICE_TYPES.contains(&other) => Err(wrong_direction(other, "a dashboard")),
        other => Err(unknown_type(other)),
    }
}

fn parse_object(text: &str) -> Result<Map<String, Value>, ErrorFrame> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(ErrorFrame::new(
            ErrorCode::NotAnObject,
            "a message must be a JSON object",
        )),
        Err(err) => Err(ErrorFrame::new(
            ErrorCode::InvalidJson,
            format!("invalid JSON: {err}"),
        )),
    }
}

fn message_type(object: &Map<String, Value>) -> Result<Option<String>, ErrorFrame> {
    match object.get("type") {
        None => Ok(None),
        Some(Value::String(kind)) => Ok(Some(kind.clone())),
        Some(_) => Err(ErrorFrame::new(
            ErrorCode::InvalidMessage,
            "\"type\" must be a string",
        )),
    }
}

fn typed<T: DeserializeOwned>(object: Map<String, Value>) -> Result<T, ErrorFrame> {
    serde_json::from_value(Value::Object(object))
        .map_err(|err| ErrorFrame::new(ErrorCode::InvalidMessage, err.to_string()))
}

fn check_batch_len(object: &Map<String, Value>) -> Result<(), ErrorFrame> {
    match object.get("items").and_then(Value::as_array) {
        Some(items) if items.len() > MAX_BATCH_ITEMS => Err(ErrorFrame::new(
            ErrorCode::BatchTooLarge,
            format!(
                "a batch holds at most {MAX_BATCH_ITEMS} items, this one has {}",
                items.len()
            ),
        )),
        _ => Ok(()),
    }
}

fn check_telemetry(sample: &Telemetry) -> Result<(), ErrorFrame> {
    if sample.epoch.is_empty() || sample.epoch.len() > MAX_EPOCH_LEN {
        return Err(ErrorFrame::new(
            ErrorCode::InvalidMessage,
            format!("\"epoch\" must be 1 to {MAX_EPOCH_LEN} bytes"),
        ));
    }
    Ok(())
}

fn check_command(command: &Command) -> Result<(), ErrorFrame> {
    let id_ok = !command.id.is_empty() && command.id.len() <= MAX_COMMAND_ID_LEN;
    let name_ok = !command.name.is_empty() && command.name.len() <= MAX_COMMAND_NAME_LEN;
    if !id_ok || !name_ok {
        return Err(ErrorFrame::new(
            ErrorCode::InvalidMessage,
            format!(
                "command \"id\" must be 1 to {MAX_COMMAND_ID_LEN} bytes and \"name\" 1 to {MAX_COMMAND_NAME_LEN}"
            ),
        ));
    }
    Ok(())
}

fn check_command_id(id: &str) -> Result<(), ErrorFrame> {
    if id.is_empty() || id.len() > MAX_COMMAND_ID_LEN {
        return Err(ErrorFrame::new(
            ErrorCode::InvalidMessage,
            format!("command \"id\" must be 1 to {MAX_COMMAND_ID_LEN} bytes"),
        ));
    }
    Ok(())
}

/// `"ttl_s": null` would read as no time to live; it is refused like any other non-number.
fn check_ttl_present(object: &Map<String, Value>) -> Result<(), ErrorFrame> {
    match object.get("ttl_s") {
        Some(Value::Null) => Err(ttl_refusal()),
        _ => Ok(()),
    }
}

fn check_ttl(ttl_s: Option<u32>) -> Result<(), ErrorFrame> {
    match ttl_s {
        Some(ttl) if ttl == 0 || ttl > MAX_COMMAND_TTL_SECS => Err(ttl_refusal()),
        _ => Ok(()),
    }
}

fn ttl_refusal() -> ErrorFrame {
    ErrorFrame::new(
        ErrorCode::InvalidMessage,
        format!("\"ttl_s\" must be a whole number of seconds from 1 to {MAX_COMMAND_TTL_SECS}"),
    )
}

fn wrong_direction(kind: &str, sender: &str) -> ErrorFrame {
    ErrorFrame::new(
        ErrorCode::WrongDirection,
        format!("{sender} may not send \"{kind}\" messages"),
    )
}

fn unknown_type(kind: &str) -> ErrorFrame {
    let shown: String = kind.chars().take(64).collect();
    ErrorFrame::new(
        ErrorCode::UnknownType,
        format!("unknown message type \"{shown}\""),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device_code(text: &str) -> ErrorCode {
        parse_device_frame(text).expect_err("must be refused").code
    }

    fn dashboard_code(text: &str) -> ErrorCode {
        parse_dashboard_frame(text)
            .expect_err("must be refused")
            .code
    }

    #[test]
    fn typed_telemetry_is_a_message() {
        let frame = parse_device_frame(
            r#"{"type":"telemetry","epoch":"e1","seq":7,"ts":"2026-02-03T12:00:00Z","data":{"v":1}}"#,
        )
        .expect("valid");
        let DeviceFrame::Message(DeviceMessage::Telemetry(sample)) = frame else {
            panic!("not telemetry: {frame:?}");
        };
        assert_eq!((sample.epoch.as_str(), sample.seq), ("e1", 7));
    }

    #[test]
    fn object_without_type_is_legacy_telemetry() {
        let frame = parse_device_frame(
            r#"{"device_id":"ems_001","timestamp":"2026-02-03T12:00:00Z","battery":{"voltage":53.2,"soc":85}}"#,
        )
        .expect("valid");
        let DeviceFrame::Legacy(object) = frame else {
            panic!("not legacy: {frame:?}");
        };
        assert_eq!(object["battery"]["soc"], 85);
    }

    #[test]
    fn malformed_input_gets_a_precise_code() {
        assert_eq!(device_code("{not json"), ErrorCode::InvalidJson);
        assert_eq!(device_code("[1,2]"), ErrorCode::NotAnObject);
        assert_eq!(device_code("42"), ErrorCode::NotAnObject);
        assert_eq!(device_code(r#"{"type":7}"#), ErrorCode::InvalidMessage);
        assert_eq!(device_code(r#"{"type":"reboot"}"#), ErrorCode::UnknownType);
        assert_eq!(
            device_code(r#"{"type":"telemetry","seq":1}"#),
            ErrorCode::InvalidMessage
        );
        assert_eq!(
            device_code(r#"{"type":"telemetry","epoch":"","seq":1,"ts":"x","data":{}}"#),
            ErrorCode::InvalidMessage
        );
        assert_eq!(
            device_code(r#"{"type":"telemetry","epoch":"e","seq":-1,"ts":"x","data":{}}"#),
            ErrorCode::InvalidMessage
        );
    }

    #[test]
    fn roles_cannot_send_each_others_messages() {
        assert_eq!(
            device_code(r#"{"type":"command","id":"1","name":"ping"}"#),
            ErrorCode::WrongDirection
        );
        assert_eq!(
            dashboard_code(r#"{"type":"telemetry","epoch":"e","seq":1,"ts":"t","data":{}}"#),
            ErrorCode::WrongDirection
        );
        assert_eq!(
            dashboard_code(r#"{"type":"batch","items":[]}"#),
            ErrorCode::WrongDirection
        );
    }

    #[test]
    fn batch_limit_is_checked_before_items_are_decoded() {
        let item = r#"{"epoch":"e","seq":1,"ts":"t","data":{}}"#;
        let at_limit = format!(
            r#"{{"type":"batch","items":[{}]}}"#,
            vec![item; MAX_BATCH_ITEMS].join(",")
        );
        assert!(parse_device_frame(&at_limit).is_ok());
        let over = format!(
            r#"{{"type":"batch","items":[{}]}}"#,
            vec!["0"; MAX_BATCH_ITEMS + 1].join(",")
        );
        assert_eq!(device_code(&over), ErrorCode::BatchTooLarge);
    }

    #[test]
    fn dashboard_messages_and_command_limits() {
        assert_eq!(
            parse_dashboard_frame(r#"{ "type" : "ping" }"#),
            Ok(DashboardMessage::Ping)
        );
        let ok =
            parse_dashboard_frame(r#"{"type":"command","id":"c1","name":"ping"}"#).expect("valid");
        assert!(
            matches!(ok, DashboardMessage::Command(c) if c.command.args.is_empty() && c.ttl_s.is_none())
        );
        assert_eq!(
            dashboard_code(r#"{"type":"command","id":"","name":"ping"}"#),
            ErrorCode::InvalidMessage
        );
        assert_eq!(dashboard_code(r#"{"id":"1"}"#), ErrorCode::InvalidMessage);
        assert_eq!(dashboard_code(r#"{"type":"x"}"#), ErrorCode::UnknownType);
    }

    #[test]
    fn ttl_is_a_whole_number_of_seconds_up_to_seven_days() {
        let with_ttl = |ttl: &str| {
            parse_dashboard_frame(&format!(
                r#"{{"type":"command","id":"c1","name":"relay","ttl_s":{ttl}}}"#
            ))
        };
        assert!(matches!(
            with_ttl("1"),
            Ok(DashboardMessage::Command(c)) if c.ttl_s == Some(1)
        ));
        assert!(matches!(
            with_ttl("604800"),
            Ok(DashboardMessage::Command(c)) if c.ttl_s == Some(MAX_COMMAND_TTL_SECS)
        ));
        for bad in [
            "0", "-1", "1.5", "1.0", "604801", "1e10", "null", "\"60\"", "true", "[]",
        ] {
            assert_eq!(
                with_ttl(bad).expect_err(bad).code,
                ErrorCode::InvalidMessage,
                "{bad}"
            );
        }
    }

    #[test]
    fn cancel_command_needs_a_valid_id() {
        assert_eq!(
            parse_dashboard_frame(r#"{"type":"cancel_command","id":"c-18"}"#),
            Ok(DashboardMessage::CancelCommand(CancelCommand {
                id: "c-18".into()
            }))
        );
        for bad in [
            r#"{"type":"cancel_command"}"#,
            r#"{"type":"cancel_command","id":""}"#,
            r#"{"type":"cancel_command","id":7}"#,
        ] {
            assert_eq!(dashboard_code(bad), ErrorCode::InvalidMessage, "{bad}");
        }
        let long = format!(r#"{{"type":"cancel_command","id":"{}"}}"#, "x".repeat(129));
        assert_eq!(dashboard_code(&long), ErrorCode::InvalidMessage);
        assert_eq!(
            device_code(r#"{"type":"cancel_command","id":"c"}"#),
            ErrorCode::WrongDirection
        );
    }

    #[test]
    fn unknown_type_echo_is_bounded() {
        let long = format!(r#"{{"type":"{}"}}"#, "x".repeat(10_000));
        let err = parse_device_frame(&long).expect_err("refused");
        assert!(err.message.len() < 120, "{}", err.message.len());
    }
}
