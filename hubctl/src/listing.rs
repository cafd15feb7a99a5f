//! What hubctl prints about existing devices and dashboard tokens: aligned tables and detail lines built from
//! the admin API's JSON. Text from the hub is cleaned before it reaches the terminal.

use serde_json::{Value, json};
use telemetry_protocol::DeviceId;

use crate::admin_client::RevokedDashboardToken;
use crate::api_error::clean;
use crate::output::json_line;

/// Columns of `device list`.
const DEVICE_COLUMNS: [&str; 6] = [
    "DEVICE",
    "ONLINE",
    "LAST SEEN",
    "LAST SEQ",
    "DISABLED",
    "GRACE UNTIL",
];

/// Columns of `dashboard list`.
const TOKEN_COLUMNS: [&str; 6] = [
    "TOKEN ID", "ACCESS", "CREATED", "REVOKED", "DEVICES", "LABEL",
];

/// One row per device: id, online, last seen, last seq, disabled since, end of the old token's grace.
pub fn devices_table(devices: &[Value]) -> String {
    if devices.is_empty() {
        return "no devices\n".into();
    }
    let keys = [
        "device_id",
        "online",
        "last_seen",
        "last_seq",
        "disabled_at",
        "previous_token_valid_until",
    ];
    let rows: Vec<Vec<String>> = devices
        .iter()
        .map(|d| keys.iter().map(|key| field(d, key)).collect())
        .collect();
    table(&DEVICE_COLUMNS, &rows)
}

/// One device, a field per line.
pub fn device_text(device: &Value) -> String {
    let pairs = [
        ("device", "device_id"),
        ("created", "created_at"),
        ("online", "online"),
        ("last seen", "last_seen"),
        ("last seq", "last_seq"),
        ("disabled", "disabled_at"),
        ("grace until", "previous_token_valid_until"),
        ("sync pending", "sync_pending"),
    ];
    let mut rows: Vec<Vec<String>> = pairs
        .iter()
        .map(|(name, key)| vec![(*name).to_owned(), field(device, key)])
        .collect();
    // What the device's object stored and what it cost, since it last started (hubs with history only).
    let storage = [
        ("samples stored", "samples_written"),
        ("history writes", "groups_written"),
        ("rows written", "rows_written"),
        ("rows read", "rows_read"),
        ("alarms set", "alarms_set"),
        ("database bytes", "database_bytes"),
    ];
    if let Some(meter) = device.get("storage").filter(|m| m.is_object()) {
        rows.extend(
            storage
                .iter()
                .map(|(name, key)| vec![(*name).to_owned(), field(meter, key)]),
        );
    }
    table(&[], &rows)
}

/// What `device disable` or `device enable` did.
pub fn device_state_text(id: &DeviceId, device: &Value, disabled: bool) -> String {
    let text = device_state_line(id, device, disabled);
    if device["sync_pending"] == Value::Bool(true) {
        return format!("{text}{SYNC_PENDING}");
    }
    text
}

/// Said when the hub could not yet tell a device's connection about a change it committed.
const SYNC_PENDING: &str = "The hub has not reached the device's connection yet; it retries every minute                             (`hubctl device show` says `sync pending` until it has).\n";

fn device_state_line(id: &DeviceId, device: &Value, disabled: bool) -> String {
    if disabled {
        format!(
            "device {id} disabled (since {}); its token is refused and a live connection was closed \
             (4001 revoked). `hubctl device enable {id}` undoes this.\n",
            field(device, "disabled_at")
        )
    } else {
        format!("device {id} enabled; it can connect again with its current token.\n")
    }
}

/// One row per dashboard token: id, access, created, revoked, devices, label. Never a token.
pub fn dashboard_tokens_table(tokens: &[Value]) -> String {
    if tokens.is_empty() {
        return "no dashboard tokens\n".into();
    }
    let keys = [
        "token_id",
        "access",
        "created_at",
        "revoked_at",
        "devices",
        "label",
    ];
    let rows: Vec<Vec<String>> = tokens
        .iter()
        .map(|t| keys.iter().map(|key| field(t, key)).collect())
        .collect();
    table(&TOKEN_COLUMNS, &rows)
}

/// What `dashboard revoke` did.
pub fn revoked_text(revoked: &RevokedDashboardToken) -> String {
    let closed = revoked.closed_sockets;
    let connections = if closed == 1 {
        "connection"
    } else {
        "connections"
    };
    let mut text = format!(
        "dashboard token {} revoked; {closed} open dashboard {connections} closed (4001 revoked).\n",
        clean(&revoked.token_id)
    );
    if revoked.pending_devices > 0 {
        text.push_str(&format!(
            "{} device connections not reached yet; the hub retries every minute.\n",
            revoked.pending_devices
        ));
    }
    text
}

/// The admin API's answer to a revocation, as one line of JSON.
pub fn revoked_json(revoked: &RevokedDashboardToken) -> String {
    json_line(&json!({
        "token_id": revoked.token_id,
        "revoked": true,
        "closed_sockets": revoked.closed_sockets,
        "pending_devices": revoked.pending_devices,
    }))
}

/// A JSON field for a person: text cleaned, `yes`/`no`, numbers, and `-` for null or missing.
fn field(object: &Value, key: &str) -> String {
    match object.get(key) {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(text)) => clean(text),
        Some(Value::Bool(true)) => "yes".into(),
        Some(Value::Bool(false)) => "no".into(),
        Some(other) => clean(&other.to_string()),
    }
}

/// Left-aligned columns two spaces apart, with a header line unless `headers` is empty.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    let lines: Vec<&Vec<String>> = std::iter::once(&header)
        .filter(|h| !h.is_empty())
        .chain(rows)
        .collect();
    let columns = lines.iter().map(|line| line.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            let cells = lines.iter().filter_map(|line| line.get(c));
            cells.map(|cell| cell.chars().count()).max().unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for line in lines {
        let cells = line.iter().zip(&widths);
        let padded: Vec<String> = cells
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        text.push_str(padded.join("  ").trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str, online: bool, last_seq: Value, disabled: Value) -> Value {
        json!({
            "device_id": id,
            "created_at": "2026-02-01T10:00:00.000Z",
            "disabled_at": disabled,
            "previous_token_valid_until": null,
            "online": online,
            "last_seen": if online { json!("2026-02-03T12:00:00.120Z") } else { Value::Null },
            "last_seq": last_seq,
        })
    }

    #[test]
    fn device_tables_align_every_column() {
        let devices = [
            device("ems_001", true, json!(42), Value::Null),
            device("a", false, Value::Null, json!("2026-02-02T08:00:00.000Z")),
        ];
        let expected = "\
DEVICE   ONLINE  LAST SEEN                 LAST SEQ  DISABLED                  GRACE UNTIL
ems_001  yes     2026-02-03T12:00:00.120Z  42        -                         -
a        no      -                         -         2026-02-02T08:00:00.000Z  -
";
        assert_eq!(devices_table(&devices), expected);
        assert_eq!(devices_table(&[]), "no devices\n");
    }

    #[test]
    fn one_device_is_a_field_per_line() {
        let shown = device_text(&device("ems_001", true, json!(7), Value::Null));
        assert!(shown.starts_with(
            "device        ems_001\ncreated       2026-02-01T10:00:00.000Z\nonline        yes\n"
        ));
        assert!(
            shown.ends_with("disabled      -\ngrace until   -\nsync pending  -\n"),
            "{shown}"
        );
    }

    #[test]
    fn a_device_with_history_shows_what_its_object_stored() {
        let mut shown = device("ems_001", true, json!(7), Value::Null);
        shown["storage"] = json!({"rows_read": 3, "rows_written": 12, "groups_written": 5,
            "samples_written": 3000, "alarms_set": 9, "database_bytes": 40960});
        let text = device_text(&shown);
        assert!(text.contains("samples stored  3000\n"), "{text}");
        assert!(text.ends_with("database bytes  40960\n"), "{text}");
    }

    #[test]
    fn disable_and_enable_say_what_changed() {
        let id = DeviceId::parse("ems_001").expect("valid");
        let disabled = device(
            "ems_001",
            false,
            Value::Null,
            json!("2026-02-02T08:00:00.000Z"),
        );
        let text = device_state_text(&id, &disabled, true);
        assert!(text.starts_with("device ems_001 disabled (since 2026-02-02T08:00:00.000Z);"));
        assert!(text.contains("`hubctl device enable ems_001`"));
        assert!(!text.contains("not reached"));
        let text = device_state_text(&id, &disabled, false);
        assert!(text.starts_with("device ems_001 enabled;"));
        let mut pending = disabled.clone();
        pending["sync_pending"] = json!(true);
        let text = device_state_text(&id, &pending, true);
        assert!(
            text.contains("has not reached the device's connection yet"),
            "{text}"
        );
    }

    #[test]
    fn token_tables_clean_labels_and_show_no_token() {
        let tokens = [json!({
            "token_id": "dt_0123456789ab", "devices": "*", "access": "read",
            "label": "ops\u{1b}[2Jwall", "created_at": "2026-02-01T10:00:00.000Z", "revoked_at": null,
        })];
        let shown = dashboard_tokens_table(&tokens);
        assert!(shown.starts_with(
            "TOKEN ID         ACCESS  CREATED                   REVOKED  DEVICES  LABEL\n"
        ));
        assert!(shown.contains("dt_0123456789ab  read    2026-02-01T10:00:00.000Z  -        *        ops\u{FFFD}[2Jwall\n"));
        assert_eq!(dashboard_tokens_table(&[]), "no dashboard tokens\n");
    }

    #[test]
    fn revocations_count_closed_connections() {
        let mut revoked = RevokedDashboardToken {
            token_id: "dt_0123456789ab".into(),
            closed_sockets: 1,
            pending_devices: 0,
        };
        assert_eq!(
            revoked_text(&revoked),
            "dashboard token dt_0123456789ab revoked; 1 open dashboard connection closed (4001 revoked).\n"
        );
        assert_eq!(
            revoked_json(&revoked),
            "{\"token_id\":\"dt_0123456789ab\",\"revoked\":true,\"closed_sockets\":1,\"pending_devices\":0}\n"
        );
        revoked.pending_devices = 3;
        assert!(
            revoked_text(&revoked)
                .ends_with("3 device connections not reached yet; the hub retries every minute.\n")
        );
    }
}
