//! Freezes the HTTP bodies: every admin API and dashboard API body, and the error body of every refusal,
//! serialises exactly as the committed file in `golden/` says (`admin_*`, `api_*`, `error_*`).
//!
//! The Worker serialises these types and hubctl and the dashboard read them, so a change to a file here is a
//! change to the contract. Run with `UPDATE_GOLDEN=1` to rewrite the files after an intended extension.

mod support;

use telemetry_protocol::admin::*;
use telemetry_protocol::*;

use support::{check, path};

fn id(raw: &str) -> DeviceId {
    DeviceId::parse(raw).expect("valid")
}

/// A well-formed token of `kind` from fixed bytes: an example, never a credential.
fn example_token(kind: TokenKind) -> String {
    generate_token(kind, |buf| buf.fill(7))
}

fn token_id() -> TokenId {
    TokenId::parse("dt_0123456789ab").expect("valid")
}

fn device_row(device_id: &str, online: bool, storage: Option<StorageMeter>) -> DeviceSummary {
    DeviceSummary {
        device_id: device_id.into(),
        created_at: "2026-02-01T10:00:00.000Z".into(),
        disabled_at: None,
        previous_token_valid_until: None,
        online,
        last_seen: online.then(|| "2026-02-03T12:00:00.120Z".into()),
        last_seq: online.then_some(42),
        sync_pending: false,
        storage,
        counters: None,
    }
}

fn counters() -> DeviceCounters {
    let mut counters = DeviceCounters::starting("2026-02-01T10:05:00.000Z");
    counters.device_connections = 3;
    counters.device_frames = 3620;
    counters.device_bytes = 905_000;
    counters.samples_accepted = 3600;
    counters.frames_refused.insert("invalid_json".into(), 2);
    counters.dashboard_connections = 4;
    counters.commands_relayed = 1;
    counters.command_results = 1;
    counters.closes.insert("1000".into(), 2);
    counters.closes.insert("1006".into(), 1);
    counters.rows_read = 40;
    counters.rows_written = 31;
    counters
}

fn meter() -> StorageMeter {
    StorageMeter {
        rows_read: 3,
        rows_written: 12,
        groups_written: 5,
        samples_written: 3000,
        alarms_set: 9,
        database_bytes: 40_960,
    }
}

#[test]
fn admin_devices() {
    check(
        "admin_create_device_request",
        &CreateDeviceRequest {
            device_id: id("ems_001"),
        },
    );
    check(
        "admin_device_created",
        &CreatedDevice {
            device_id: id("ems_001"),
            token: example_token(TokenKind::Device),
        },
    );
    check("admin_device", &device_row("ems_001", true, Some(meter())));
    let mut counted = device_row("ems_001", true, Some(meter()));
    counted.counters = Some(counters());
    check("admin_device_counters", &counted);
    let mut disabled = device_row("ems_002", false, None);
    disabled.disabled_at = Some("2026-02-02T08:00:00.000Z".into());
    disabled.sync_pending = true;
    check("admin_device_disabled", &disabled);
    check(
        "admin_device_page",
        &DevicePage {
            devices: vec![device_row("ems_001", true, Some(meter())), disabled],
            next_after: None,
        },
    );
    check(
        "admin_device_page_full",
        &DevicePage {
            devices: vec![device_row("a", false, None)],
            next_after: Some("a".into()),
        },
    );
}

#[test]
fn admin_rotations() {
    check(
        "admin_rotate_request",
        &RotateDeviceRequest {
            grace_seconds: 3600,
            token_sha256: Some("ab".repeat(32)),
        },
    );
    check(
        "admin_rotate_request_grace",
        &RotateDeviceRequest {
            grace_seconds: 600,
            token_sha256: None,
        },
    );
    check(
        "admin_device_rotated",
        &RotatedDevice {
            device_id: id("ems_001"),
            previous_token_valid_until: Some("2026-02-03T13:00:00.000Z".into()),
            sync_pending: false,
            token: Some(example_token(TokenKind::Device)),
            token_sha256: None,
        },
    );
    check(
        "admin_device_rotated_hash",
        &RotatedDevice {
            device_id: id("ems_001"),
            previous_token_valid_until: None,
            sync_pending: true,
            token: None,
            token_sha256: Some("ab".repeat(32)),
        },
    );
}

#[test]
fn admin_dashboard_tokens() {
    check(
        "admin_create_dashboard_token_request",
        &CreateDashboardTokenRequest {
            devices: DeviceScope::Devices(vec![id("ems_001"), id("ems_002")]),
            access: Access::Control,
            label: Some("ops wall".into()),
        },
    );
    check(
        "admin_create_dashboard_token_request_all",
        &CreateDashboardTokenRequest {
            devices: DeviceScope::All,
            access: Access::Read,
            label: None,
        },
    );
    check(
        "admin_dashboard_token_created",
        &CreatedDashboardToken {
            token_id: token_id(),
            token: example_token(TokenKind::Dashboard),
            devices: "ems_001,ems_002".into(),
            access: Access::Control,
            label: Some("ops wall".into()),
        },
    );
    let row =
        |token_id: &str, access, label: Option<&str>, revoked_at: Option<&str>| DashboardTokenRow {
            token_id: token_id.into(),
            devices: "*".into(),
            access,
            label: label.map(str::to_owned),
            created_at: "2026-02-01T10:00:00.000Z".into(),
            revoked_at: revoked_at.map(str::to_owned),
        };
    check(
        "admin_dashboard_token_list",
        &DashboardTokenList {
            dashboard_tokens: vec![
                row("dt_0123456789ab", Access::Read, Some("kiosk"), None),
                row(
                    "dt_ba9876543210",
                    Access::Control,
                    None,
                    Some("2026-02-02T08:00:00.000Z"),
                ),
            ],
        },
    );
    check(
        "admin_dashboard_token_revoked",
        &RevokedDashboardToken {
            token_id: token_id(),
            revoked: true,
            closed_sockets: 1,
            pending_devices: 0,
        },
    );
}

#[test]
fn dashboard_api() {
    check(
        "api_devices",
        &DeviceList {
            devices: vec!["ems_001".into(), "ems_002".into()],
            access: Access::Read,
        },
    );
}

#[test]
fn error_bodies() {
    check(
        "error_forbidden",
        &ErrorBody {
            error: HttpErrorCode::Forbidden,
            message: "forbidden".into(),
            field: None,
        },
    );
    check(
        "error_invalid_field",
        &ErrorBody {
            error: HttpErrorCode::InvalidField,
            message: "grace_seconds: must be a whole number from 0 to 2592000".into(),
            field: Some("grace_seconds".into()),
        },
    );
    let forbidden = std::fs::read_to_string(path("error_forbidden")).expect("golden file");
    assert_eq!(
        forbidden.trim_end(),
        r#"{"error":"forbidden","message":"forbidden"}"#,
        "docs/protocol.md promises this exact 403 body"
    );
}
