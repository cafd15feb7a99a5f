//! The hub's rules for one frame from a device or a dashboard: a pure function from frame and state to outcome.
//!
//! The Durable Object only loads the state, calls these functions and carries the outcome out.

use serde_json::{Map, Value};
use telemetry_protocol::limits::MAX_FRAME_BYTES;
use telemetry_protocol::{
    Ack, Command, CommandResult, DashboardCommand, DashboardMessage, DashboardTelemetry,
    DeviceFrame, DeviceId, DeviceMessage, ErrorCode, ErrorFrame, HubToDashboard, Telemetry,
    parse_dashboard_frame, parse_device_frame,
};

use crate::access::Access;
use crate::clock::is_rfc3339;
use crate::seq_ranges::{LEGACY_EPOCH, SeqRanges, Verdict};

/// A frame as received.
#[derive(Debug, Clone, Copy)]
pub enum Inbound<'a> {
    /// A text frame.
    Text(&'a str),
    /// A binary frame of this many bytes.
    Binary(usize),
}

/// Samples judged against the seqs the hub holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    /// The new samples, in order, as dashboards see them; empty when every sample was a resend.
    pub accepted: Vec<DashboardTelemetry>,
    /// Resends of samples the hub holds already, as `(epoch, seq)`.
    pub resent: Vec<(String, u64)>,
    /// The seqs held after these samples; `None` only before any sample.
    pub held: Option<SeqRanges>,
    /// The ack for the device.
    pub ack: Ack,
}

/// What the hub does with a device frame.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceOutcome {
    /// Telemetry or a batch: keep and broadcast `accepted`, hold their seqs, ack.
    Samples(Ingested),
    /// A command result for every dashboard.
    CommandResult(CommandResult),
    /// Answer `{"type":"pong"}`.
    Pong,
    /// Send this error frame to the device; nothing else happens.
    Refused(ErrorFrame),
    /// Close the socket with 1009.
    TooBig,
}

/// What the hub does with a dashboard frame.
#[derive(Debug, Clone, PartialEq)]
pub enum DashboardOutcome {
    /// Relay this command to the connected device.
    Forward(Command),
    /// Extension: queue this command for the device for this many seconds (`hub_commands`).
    Enqueue(Command, u32),
    /// Extension: cancel the queued command with this id (`hub_commands`).
    Cancel(String),
    /// Answer the dashboard alone (pong, an offline result, an error).
    Reply(HubToDashboard),
    /// Close the socket with 1009.
    TooBig,
}

/// Applies the hub's rules to a frame from the device `device_id`.
pub fn on_device_frame(
    device_id: &DeviceId,
    frame: Inbound<'_>,
    held: Option<SeqRanges>,
    now: &str,
) -> DeviceOutcome {
    let text = match screen(frame) {
        Ok(text) => text,
        Err(Screened::TooBig) => return DeviceOutcome::TooBig,
        Err(Screened::Refused(error)) => return DeviceOutcome::Refused(error),
    };
    let result = match parse_device_frame(text) {
        Ok(DeviceFrame::Ping) => return DeviceOutcome::Pong,
        Ok(DeviceFrame::Message(DeviceMessage::CommandResult(mut result))) => {
            result.device_id = Some(device_id.to_string());
            return DeviceOutcome::CommandResult(result);
        }
        Ok(DeviceFrame::Message(DeviceMessage::Telemetry(sample))) => {
            checked(device_id, sample).map(|s| vec![s])
        }
        Ok(DeviceFrame::Message(DeviceMessage::Batch(batch))) => batch
            .items
            .into_iter()
            .map(|sample| checked(device_id, sample))
            .collect(),
        Ok(DeviceFrame::Legacy(object)) => {
            legacy_sample(device_id, object, held.as_ref(), now).map(|s| vec![s])
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(samples) => DeviceOutcome::Samples(ingest(device_id, samples, held, now)),
        Err(error) => DeviceOutcome::Refused(error),
    }
}

/// Applies the hub's rules to a frame from a dashboard of `device_id`.
pub fn on_dashboard_frame(
    device_id: &DeviceId,
    frame: Inbound<'_>,
    access: Access,
    device_online: bool,
) -> DashboardOutcome {
    let text = match screen(frame) {
        Ok(text) => text,
        Err(Screened::TooBig) => return DashboardOutcome::TooBig,
        Err(Screened::Refused(error)) => {
            return DashboardOutcome::Reply(HubToDashboard::Error(error));
        }
    };
    match parse_dashboard_frame(text) {
        Ok(DashboardMessage::Ping) => DashboardOutcome::Reply(HubToDashboard::Pong),
        Ok(DashboardMessage::Command(_) | DashboardMessage::CancelCommand(_))
            if access == Access::Read =>
        {
            DashboardOutcome::Reply(HubToDashboard::Error(ErrorFrame::new(
                ErrorCode::ReadOnly,
                "this dashboard token has read access only; commands need control access",
            )))
        }
        Ok(DashboardMessage::Command(DashboardCommand {
            command,
            ttl_s: Some(ttl_s),
        })) => DashboardOutcome::Enqueue(command, ttl_s),
        Ok(DashboardMessage::CancelCommand(cancel)) => DashboardOutcome::Cancel(cancel.id),
        Ok(DashboardMessage::Command(DashboardCommand { command, .. })) if !device_online => {
            DashboardOutcome::Reply(HubToDashboard::CommandResult(CommandResult {
                id: command.id,
                ok: false,
                detail: Value::from("device offline"),
                device_id: Some(device_id.to_string()),
            }))
        }
        Ok(DashboardMessage::Command(DashboardCommand { command, .. })) => {
            DashboardOutcome::Forward(command)
        }
        Err(error) => DashboardOutcome::Reply(HubToDashboard::Error(error)),
    }
}

enum Screened {
    TooBig,
    Refused(ErrorFrame),
}

fn screen(frame: Inbound<'_>) -> Result<&str, Screened> {
    match frame {
        Inbound::Binary(len) if len > MAX_FRAME_BYTES => Err(Screened::TooBig),
        Inbound::Binary(_) => Err(Screened::Refused(ErrorFrame::new(
            ErrorCode::BinaryNotSupported,
            "binary frames are not supported; send JSON text frames",
        ))),
        Inbound::Text(text) if text.len() > MAX_FRAME_BYTES => Err(Screened::TooBig),
        Inbound::Text(text) => Ok(text),
    }
}

/// Checks what the protocol crate cannot: the payload's device id and the timestamp.
fn checked(device_id: &DeviceId, sample: Telemetry) -> Result<Telemetry, ErrorFrame> {
    if sample
        .device_id
        .as_deref()
        .is_some_and(|claimed| claimed != device_id.as_str())
    {
        return Err(mismatch());
    }
    if !is_rfc3339(&sample.ts) {
        return Err(ErrorFrame::new(
            ErrorCode::InvalidMessage,
            "\"ts\" must be an RFC 3339 timestamp",
        ));
    }
    Ok(sample)
}

/// Turns a legacy flat payload into a sample: `device_id` is checked and dropped, a valid RFC 3339
/// `timestamp` becomes `ts` (else the receive time), the hub numbers it in the legacy epoch.
fn legacy_sample(
    device_id: &DeviceId,
    mut data: Map<String, Value>,
    held: Option<&SeqRanges>,
    now: &str,
) -> Result<Telemetry, ErrorFrame> {
    match data.remove("device_id") {
        None => {}
        Some(Value::String(claimed)) if claimed == device_id.as_str() => {}
        Some(_) => return Err(mismatch()),
    }
    let timestamp = match data.get("timestamp") {
        Some(Value::String(ts)) if is_rfc3339(ts) => Some(ts.clone()),
        _ => None,
    };
    if timestamp.is_some() {
        data.remove("timestamp");
    }
    let ts = timestamp.unwrap_or_else(|| now.to_owned());
    Ok(Telemetry {
        epoch: LEGACY_EPOCH.to_owned(),
        seq: SeqRanges::next_legacy_seq(held),
        ts,
        data,
        device_id: None,
    })
}

fn ingest(
    device_id: &DeviceId,
    samples: Vec<Telemetry>,
    mut held: Option<SeqRanges>,
    now: &str,
) -> Ingested {
    let mut accepted = Vec::with_capacity(samples.len());
    let mut resent = Vec::new();
    for sample in samples {
        if SeqRanges::admit(&mut held, &sample.epoch, sample.seq) == Verdict::Duplicate {
            resent.push((sample.epoch, sample.seq));
            continue;
        }
        accepted.push(DashboardTelemetry {
            device_id: device_id.to_string(),
            epoch: Some(sample.epoch),
            seq: sample.seq,
            ts: sample.ts,
            received_at: now.to_owned(),
            data: sample.data,
        });
    }
    // A batch may be empty; an empty batch before any sample acks 0 without an epoch.
    let ack = Ack {
        seq: held.as_ref().map_or(0, SeqRanges::highest),
        epoch: held.as_ref().map(|h| h.epoch.clone()),
    };
    Ingested {
        accepted,
        resent,
        held,
        ack,
    }
}

fn mismatch() -> ErrorFrame {
    ErrorFrame::new(
        ErrorCode::DeviceIdMismatch,
        "payload device_id differs from the authenticated device id",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: &str = "2026-02-03T12:00:01.000Z";

    fn id() -> DeviceId {
        DeviceId::parse("ems_001").expect("valid")
    }

    fn device(text: &str, held: Option<SeqRanges>) -> DeviceOutcome {
        on_device_frame(&id(), Inbound::Text(text), held, NOW)
    }

    fn telemetry(epoch: &str, seq: u64) -> String {
        json!({"type":"telemetry","epoch":epoch,"seq":seq,"ts":"2026-02-03T12:00:00Z","data":{"v":seq}})
            .to_string()
    }

    fn ingested(outcome: DeviceOutcome) -> Ingested {
        match outcome {
            DeviceOutcome::Samples(ingested) => ingested,
            other => panic!("expected samples, got {other:?}"),
        }
    }

    fn refused(outcome: DeviceOutcome) -> ErrorCode {
        match outcome {
            DeviceOutcome::Refused(error) => error.code,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn cursor(epoch: &str, seq: u64) -> Option<SeqRanges> {
        Some(SeqRanges::up_to(epoch, seq))
    }

    #[test]
    fn new_telemetry_is_accepted_stamped_and_acked() {
        let out = ingested(device(&telemetry("e1", 1), None));
        assert_eq!(out.accepted.len(), 1);
        let sample = &out.accepted[0];
        assert_eq!((sample.device_id.as_str(), sample.seq), ("ems_001", 1));
        assert_eq!(sample.received_at, NOW);
        assert_eq!(sample.data["v"], 1);
        assert_eq!(
            out.ack,
            Ack {
                seq: 1,
                epoch: Some("e1".into())
            }
        );
    }

    #[test]
    fn a_resend_is_acked_but_not_accepted_again() {
        let out = ingested(device(&telemetry("e1", 3), cursor("e1", 5)));
        assert!(out.accepted.is_empty());
        assert_eq!(out.ack.seq, 5);
        assert_eq!(out.resent, vec![("e1".to_owned(), 3)]);
        assert_eq!(out.held, cursor("e1", 5));
    }

    #[test]
    fn a_resend_into_a_gap_is_accepted_in_its_place() {
        let held = Some(SeqRanges {
            epoch: "e1".into(),
            ranges: vec![(1, 4), (9, 9)],
        });
        let out = ingested(device(&telemetry("e1", 6), held));
        assert_eq!(out.accepted.len(), 1);
        assert!(out.resent.is_empty());
        assert_eq!(out.ack.seq, 9);
    }

    #[test]
    fn a_batch_keeps_order_and_skips_what_was_seen() {
        let items: Vec<Value> = (3..=7)
            .map(|seq| serde_json::from_str(&telemetry("e1", seq)).expect("json"))
            .collect();
        let batch = json!({"type":"batch","items":items}).to_string();
        let out = ingested(device(&batch, cursor("e1", 4)));
        let seqs: Vec<u64> = out.accepted.iter().map(|s| s.seq).collect();
        assert_eq!(seqs, vec![5, 6, 7]);
        assert_eq!(out.ack.seq, 7);
    }

    #[test]
    fn one_bad_item_refuses_the_whole_batch() {
        let batch = json!({"type":"batch","items":[
            {"epoch":"e","seq":1,"ts":"2026-02-03T12:00:00Z","data":{}},
            {"epoch":"e","seq":2,"ts":"not a time","data":{}}
        ]})
        .to_string();
        assert_eq!(refused(device(&batch, None)), ErrorCode::InvalidMessage);
    }

    #[test]
    fn payload_device_ids_are_never_trusted() {
        let typed = json!({"type":"telemetry","epoch":"e","seq":1,"ts":"2026-02-03T12:00:00Z","data":{},"device_id":"other"});
        assert_eq!(
            refused(device(&typed.to_string(), None)),
            ErrorCode::DeviceIdMismatch
        );
        let legacy = json!({"device_id":"other","battery":{"soc":1}});
        assert_eq!(
            refused(device(&legacy.to_string(), None)),
            ErrorCode::DeviceIdMismatch
        );
        let legacy_number = json!({"device_id":7});
        assert_eq!(
            refused(device(&legacy_number.to_string(), None)),
            ErrorCode::DeviceIdMismatch
        );
    }

    #[test]
    fn legacy_flat_payload_becomes_telemetry() {
        let legacy = r#"{"device_id":"ems_001","timestamp":"2026-02-03T12:00:00Z","battery":{"voltage":53.2,"soc":85}}"#;
        let out = ingested(device(legacy, cursor(LEGACY_EPOCH, 41)));
        let sample = &out.accepted[0];
        assert_eq!(sample.seq, 42);
        assert_eq!(sample.ts, "2026-02-03T12:00:00Z");
        assert_eq!(sample.epoch.as_deref(), Some(LEGACY_EPOCH));
        assert_eq!(
            Value::Object(sample.data.clone()),
            json!({"battery":{"voltage":53.2,"soc":85}})
        );
    }

    #[test]
    fn legacy_without_a_usable_timestamp_gets_the_receive_time() {
        let out = ingested(device(r#"{"timestamp":"noon","soc":3}"#, None));
        let sample = &out.accepted[0];
        assert_eq!(sample.ts, NOW);
        assert_eq!(sample.data["timestamp"], "noon");
    }

    #[test]
    fn device_edge_cases() {
        assert_eq!(device(r#"{"type" : "ping"}"#, None), DeviceOutcome::Pong);
        assert_eq!(
            on_device_frame(&id(), Inbound::Binary(10), None, NOW),
            DeviceOutcome::Refused(ErrorFrame::new(
                ErrorCode::BinaryNotSupported,
                "binary frames are not supported; send JSON text frames"
            ))
        );
        let big = "x".repeat(MAX_FRAME_BYTES + 1);
        assert_eq!(device(&big, None), DeviceOutcome::TooBig);
        assert_eq!(refused(device("{oops", None)), ErrorCode::InvalidJson);
        assert_eq!(
            refused(device(r#"{"type":"command","id":"1","name":"x"}"#, None)),
            ErrorCode::WrongDirection
        );
    }

    #[test]
    fn command_results_are_stamped_with_the_authenticated_id() {
        let out = device(
            r#"{"type":"command_result","id":"c1","ok":true,"detail":"done","device_id":"forged"}"#,
            None,
        );
        let DeviceOutcome::CommandResult(result) = out else {
            panic!("expected a command result");
        };
        assert_eq!(result.device_id.as_deref(), Some("ems_001"));
    }

    #[test]
    fn dashboard_commands_need_control_and_a_device() {
        let command = r#"{"type":"command","id":"c1","name":"ping","args":{}}"#;
        let frame = Inbound::Text(command);
        assert!(matches!(
            on_dashboard_frame(&id(), frame, Access::Control, true),
            DashboardOutcome::Forward(c) if c.id == "c1"
        ));
        assert!(matches!(
            on_dashboard_frame(&id(), frame, Access::Read, true),
            DashboardOutcome::Reply(HubToDashboard::Error(e)) if e.code == ErrorCode::ReadOnly
        ));
        let offline = on_dashboard_frame(&id(), frame, Access::Control, false);
        let DashboardOutcome::Reply(HubToDashboard::CommandResult(result)) = offline else {
            panic!("expected an offline result, got {offline:?}");
        };
        assert!(!result.ok);
        assert_eq!(result.detail, "device offline");
    }

    #[test]
    fn commands_with_a_ttl_are_queued_online_or_not_and_cancels_need_control() {
        let queued = r#"{"type":"command","id":"c1","name":"relay","ttl_s":60}"#;
        for online in [true, false] {
            let outcome = on_dashboard_frame(&id(), Inbound::Text(queued), Access::Control, online);
            assert!(
                matches!(&outcome, DashboardOutcome::Enqueue(c, 60) if c.id == "c1"),
                "{outcome:?}"
            );
        }
        let cancel = r#"{"type":"cancel_command","id":"c1"}"#;
        assert_eq!(
            on_dashboard_frame(&id(), Inbound::Text(cancel), Access::Control, false),
            DashboardOutcome::Cancel("c1".into())
        );
        for text in [queued, cancel] {
            assert!(matches!(
                on_dashboard_frame(&id(), Inbound::Text(text), Access::Read, true),
                DashboardOutcome::Reply(HubToDashboard::Error(e)) if e.code == ErrorCode::ReadOnly
            ));
        }
    }

    #[test]
    fn dashboard_edge_cases() {
        let reply =
            |text: &str| on_dashboard_frame(&id(), Inbound::Text(text), Access::Control, true);
        assert_eq!(
            reply(r#"{"type":"ping"}"#),
            DashboardOutcome::Reply(HubToDashboard::Pong)
        );
        assert!(matches!(
            reply(&telemetry("e", 1)),
            DashboardOutcome::Reply(HubToDashboard::Error(e)) if e.code == ErrorCode::WrongDirection
        ));
        assert_eq!(
            reply(&"y".repeat(MAX_FRAME_BYTES + 1)),
            DashboardOutcome::TooBig
        );
    }
}
