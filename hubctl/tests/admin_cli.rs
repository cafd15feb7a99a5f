//! The `hubctl` binary against a canned admin API: human and JSON output, token files, partial batches, and
//! that neither the admin token nor a stray token argument is ever echoed.

mod canned_hub;

use std::process::{Command, Output, Stdio};

use canned_hub::{Canned, CannedHub};
use serde_json::{Value, json};
use telemetry_protocol::{TokenKind, generate_token};

fn admin_token() -> String {
    generate_token(TokenKind::Admin, |b| b.fill(21))
}

/// Runs hubctl with the hub and admin token in the environment (as a user would), nothing else inherited.
fn hubctl(hub: &CannedHub, admin: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubctl"))
        .args(args)
        .env("HUB_URL", hub.url())
        .env("HUB_ADMIN_TOKEN", admin)
        .stdin(Stdio::null())
        .output()
        .expect("hubctl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn device_row(id: &str, online: bool, last_seq: Value) -> Value {
    json!({"device_id": id, "created_at": "2026-02-01T10:00:00.000Z", "disabled_at": null,
           "previous_token_valid_until": null, "online": online,
           "last_seen": if online { json!("2026-02-03T12:00:00.120Z") } else { Value::Null },
           "last_seq": last_seq})
}

#[test]
fn device_list_prints_an_aligned_table_or_all_pages_as_json() {
    let pages = || {
        vec![
            Canned::json(
                200,
                json!({"devices": [device_row("ems_001", true, json!(42))], "next_after": "ems_001"}),
            ),
            Canned::json(
                200,
                json!({"devices": [device_row("ems_002", false, Value::Null)], "next_after": null}),
            ),
        ]
    };
    let admin = admin_token();
    let hub = CannedHub::start(pages());
    let listed = hubctl(&hub, &admin, &["device", "list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let expected = "\
DEVICE   ONLINE  LAST SEEN                 LAST SEQ  DISABLED  GRACE UNTIL
ems_001  yes     2026-02-03T12:00:00.120Z  42        -         -
ems_002  no      -                         -         -         -
";
    assert_eq!(text(&listed.stdout), expected);

    let hub = CannedHub::start(pages());
    let json = hubctl(&hub, &admin, &["device", "list", "--json"]);
    let value: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(value["devices"].as_array().map(Vec::len), Some(2));
}

#[test]
fn a_batch_that_fails_halfway_still_shows_the_tokens_it_made() {
    let first = generate_token(TokenKind::Device, |b| b.fill(1));
    let hub = CannedHub::start(vec![
        Canned::json(201, json!({"device_id": "a", "token": first})),
        Canned::json(
            409,
            json!({"error": "conflict", "message": "device_id: already exists", "field": "device_id"}),
        ),
    ]);
    let output = hubctl(&hub, &admin_token(), &["device", "create", "a", "b", "c"]);
    assert!(!output.status.success());
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with(&format!(
        "device a created; token (shown once, store it now): {first}\n"
    )));
    assert_eq!(
        text(&output.stderr),
        "error: stopped at device b: device b already exists (field device_id); created before it: a \
         (tokens shown above); not attempted: c\n"
    );
    assert_eq!(hub.requests().len(), 2);
}

#[test]
fn rotate_writes_the_token_to_a_new_owner_only_file_when_asked() {
    let hub = CannedHub::start(vec![Canned::json(
        200,
        json!({"device_id": "a", "token_sha256": canned_hub::REQUEST_TOKEN_SHA256,
               "previous_token_valid_until": "2026-02-03T12:10:00.000Z", "sync_pending": false}),
    )]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.token");
    let path_text = path.to_str().expect("utf-8");
    let args = [
        "device",
        "rotate",
        "a",
        "--grace",
        "10m",
        "--token-file",
        path_text,
    ];
    let output = hubctl(&hub, &admin_token(), &args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let written = std::fs::read_to_string(&path).expect("read");
    let new_token = written.trim_end().to_owned();
    assert!(
        telemetry_protocol::check_token_of_kind(&new_token, TokenKind::Device).is_ok(),
        "a device token made by hubctl"
    );
    let stdout = text(&output.stdout);
    assert!(!stdout.contains(&new_token), "{stdout}");
    assert!(stdout.contains(&format!(
        "new token written to {path_text} (mode 0600, not shown)"
    )));
    assert!(stdout.contains("keeps working until 2026-02-03T12:10:00.000Z"));
    assert_eq!(written, format!("{new_token}\n"));
    let sent: serde_json::Value = serde_json::from_str(&hub.requests()[0].body).expect("json");
    assert_eq!(
        sent,
        json!({"grace_seconds": 600, "token_sha256": hubctl::token_sha256_hex(&new_token)}),
        "only the hash of the token in the file left hubctl"
    );
}

#[test]
fn a_rejected_admin_token_is_reported_without_echoing_it() {
    let hub = CannedHub::start(vec![Canned::json(
        403,
        json!({"error": "forbidden", "message": "forbidden"}),
    )]);
    let admin = admin_token();
    let output = hubctl(&hub, &admin, &["dashboard", "list"]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: admin token rejected (HTTP 403)"),
        "{stderr}"
    );
    assert!(!stderr.contains(&admin[5..]) && !text(&output.stdout).contains(&admin[5..]));
}

#[test]
fn a_token_pasted_as_an_argument_is_never_echoed_by_usage_errors() {
    let hub = CannedHub::start(Vec::new());
    let admin = admin_token();
    for args in [
        vec!["device", "list", admin.as_str()],
        vec!["--admin-token", admin.as_str(), "device", "list"],
        vec!["dashboard", "revoke", admin.as_str()],
        vec!["--hub", admin.as_str(), "device", "list"],
    ] {
        let output = hubctl(&hub, &admin, &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(!stderr.contains(&admin[5..]), "{args:?}: {stderr}");
    }
    assert!(hub.requests().is_empty());
}

#[test]
fn help_lists_the_new_commands_and_never_an_admin_token_value() {
    let hub = CannedHub::start(Vec::new());
    let admin = admin_token();
    let output = hubctl(&hub, &admin, &["--help"]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for needle in [
        "admin-token",
        "--hub <URL>",
        "--admin-token-file <PATH>",
        "HUB_URL",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
    assert!(!help.contains(&admin[5..]));
}
