//! Freezes the wire format: every message serialises exactly as the committed file in `golden/` says.
//!
//! A change to a file here is a change to the contract that Pi scripts and browsers rely on.
//! Run with `UPDATE_GOLDEN=1` to rewrite the files after an intended, documented extension.

mod support;

use serde_json::{Value, json};
use telemetry_protocol::dashboard::object;
use telemetry_protocol::*;

use support::{check, path};

fn sample() -> Telemetry {
    Telemetry {
        epoch: "01J9Z3K8B2".into(),
        seq: 42,
        ts: "2026-02-03T12:00:00Z".into(),
        data: object([
            ("battery", json!({"voltage": 53.2, "soc": 85})),
            ("pv_power_w", json!(1250.5)),
        ]),
        device_id: None,
    }
}

fn dashboard_sample() -> DashboardTelemetry {
    DashboardTelemetry {
        device_id: "ems_001".into(),
        epoch: Some("01J9Z3K8B2".into()),
        seq: 42,
        ts: "2026-02-03T12:00:00Z".into(),
        received_at: "2026-02-03T12:00:00.120Z".into(),
        data: sample().data,
    }
}

fn command() -> Command {
    Command {
        id: "c-17".into(),
        name: "set_interval".into(),
        args: object([("seconds", json!(5))]),
    }
}

#[test]
fn device_to_hub() {
    check("device_telemetry", &DeviceMessage::Telemetry(sample()));
    let mut second = sample();
    second.seq = 43;
    check(
        "device_batch",
        &DeviceMessage::Batch(Batch {
            items: vec![sample(), second],
        }),
    );
    check(
        "device_command_result",
        &DeviceMessage::CommandResult(CommandResult {
            id: "c-17".into(),
            ok: true,
            detail: json!("interval set to 5 s"),
            device_id: None,
        }),
    );
}

#[test]
fn hub_to_device() {
    check(
        "hub_ack",
        &HubToDevice::Ack(Ack {
            seq: 42,
            epoch: Some("01J9Z3K8B2".into()),
        }),
    );
    check("hub_command", &HubToDevice::Command(command()));
    check(
        "hub_error",
        &HubToDevice::Error(ErrorFrame::new(
            ErrorCode::DeviceIdMismatch,
            "payload device_id differs from the authenticated device",
        )),
    );
    check("hub_pong", &HubToDevice::Pong);
    check(
        "hub_stored",
        &HubToDevice::Stored(Stored {
            epoch: "01J9Z3K8B2".into(),
            from: 42,
            to: 641,
        }),
    );
    check(
        "hub_error_rate_limited",
        &HubToDevice::Error(ErrorFrame::new(
            ErrorCode::RateLimited,
            "more than 20 frames a second from this device; closing",
        )),
    );
}

#[test]
fn hub_to_dashboard() {
    check(
        "dashboard_snapshot",
        &HubToDashboard::Snapshot(Snapshot {
            device_id: "ems_001".into(),
            online: true,
            last: Some(dashboard_sample()),
            commands: Vec::new(),
        }),
    );
    check(
        "dashboard_snapshot_empty",
        &HubToDashboard::Snapshot(Snapshot {
            device_id: "ems_001".into(),
            online: false,
            last: None,
            commands: Vec::new(),
        }),
    );
    check(
        "dashboard_telemetry",
        &HubToDashboard::Telemetry(dashboard_sample()),
    );
    check(
        "dashboard_presence",
        &HubToDashboard::Presence(Presence {
            device_id: "ems_001".into(),
            online: false,
            at: "2026-02-03T12:00:05.000Z".into(),
            reason: PresenceReason::Disconnected,
        }),
    );
    check(
        "dashboard_presence_timeout",
        &HubToDashboard::Presence(Presence {
            device_id: "ems_001".into(),
            online: false,
            at: "2026-02-03T12:01:05.000Z".into(),
            reason: PresenceReason::Timeout,
        }),
    );
    check(
        "dashboard_command_result",
        &HubToDashboard::CommandResult(CommandResult {
            id: "c-17".into(),
            ok: false,
            detail: json!("device offline"),
            device_id: Some("ems_001".into()),
        }),
    );
    check("dashboard_pong", &HubToDashboard::Pong);
}

fn command_status(state: CommandState) -> CommandStatus {
    CommandStatus {
        device_id: "ems_001".into(),
        id: "c-18".into(),
        name: "relay".into(),
        state,
        queued_at: "2026-02-03T12:00:00.000Z".into(),
        expires_at: "2026-02-03T13:00:00.000Z".into(),
    }
}

#[test]
fn queued_commands_hub_to_dashboard() {
    check(
        "dashboard_command_status",
        &HubToDashboard::CommandStatus(command_status(CommandState::Queued)),
    );
    let mut done = command_status(CommandState::Done);
    done.id = "c-17".into();
    check(
        "dashboard_snapshot_commands",
        &HubToDashboard::Snapshot(Snapshot {
            device_id: "ems_001".into(),
            online: false,
            last: None,
            commands: vec![command_status(CommandState::Queued), done],
        }),
    );
    check(
        "dashboard_command_result_expired",
        &HubToDashboard::CommandResult(CommandResult {
            id: "c-18".into(),
            ok: false,
            detail: json!("expired"),
            device_id: Some("ems_001".into()),
        }),
    );
    check(
        "dashboard_error_not_queued",
        &HubToDashboard::Error(ErrorFrame::new(
            ErrorCode::NotQueued,
            "no queued command has this id",
        )),
    );
    for state in ["queued", "sent", "done", "expired", "cancelled"] {
        let parsed = CommandState::parse(state).expect("a state");
        assert_eq!(serde_json::to_value(parsed).expect("json"), json!(state));
        assert_eq!(parsed.as_str(), state);
    }
}

#[test]
fn queued_commands_dashboard_to_hub() {
    check(
        "dashboard_command_ttl",
        &DashboardMessage::Command(DashboardCommand {
            command: Command {
                id: "c-18".into(),
                name: "relay".into(),
                args: object([("on", json!(true))]),
            },
            ttl_s: Some(3600),
        }),
    );
    check(
        "dashboard_cancel_command",
        &DashboardMessage::CancelCommand(CancelCommand { id: "c-18".into() }),
    );
}

#[test]
fn dashboard_to_hub() {
    check(
        "dashboard_command",
        &DashboardMessage::Command(command().into()),
    );
    check("dashboard_ping", &DashboardMessage::Ping);
}

#[test]
fn ping_and_pong_texts_match_the_types() {
    let ping: Value = serde_json::from_str(limits::PING_TEXT).expect("json");
    assert_eq!(
        ping,
        serde_json::to_value(DashboardMessage::Ping).expect("json")
    );
    let pong: Value = serde_json::from_str(limits::PONG_TEXT).expect("json");
    assert_eq!(
        pong,
        serde_json::to_value(HubToDashboard::Pong).expect("json")
    );
    assert_eq!(pong, serde_json::to_value(HubToDevice::Pong).expect("json"));
}

#[test]
fn legacy_flat_payload_example_is_accepted() {
    let text = std::fs::read_to_string(path("device_legacy_flat")).expect("golden file");
    assert!(matches!(
        parse_device_frame(&text),
        Ok(DeviceFrame::Legacy(_))
    ));
}

#[test]
fn history_answers() {
    check(
        "history_samples",
        &HistoryResponse {
            device_id: "ems_001".into(),
            from: "2026-02-03T11:00:00.000Z".into(),
            to: "2026-02-03T12:00:00.000Z".into(),
            fields: vec!["battery.soc".into(), "battery.voltage".into()],
            bucket_ms: 0,
            samples: vec![
                HistorySample {
                    t: 1_770_116_400_000,
                    v: vec![Some(85.0), Some(53.2)],
                },
                HistorySample {
                    t: 1_770_116_401_000,
                    v: vec![Some(85.0), None],
                },
            ],
            buckets: Vec::new(),
            truncated: false,
        },
    );
    check(
        "history_buckets",
        &HistoryResponse {
            device_id: "ems_001".into(),
            from: "2026-02-02T12:00:00.000Z".into(),
            to: "2026-02-03T12:00:00.000Z".into(),
            fields: vec!["battery.soc".into()],
            bucket_ms: 86_400,
            samples: Vec::new(),
            buckets: vec![HistoryBucket {
                t: 1_770_033_600_000,
                n: 87,
                min: vec![Some(84.0)],
                max: vec![Some(86.5)],
                mean: vec![Some(85.25)],
            }],
            truncated: false,
        },
    );
}
