//! End-to-end tests of the hub's wire contract: the real Worker under `wrangler dev`, real WebSocket clients.
//!
//! All tests share one running hub and one set of credentials provisioned with hubctl; each test uses its own
//! device ids, so they run in parallel without seeing each other.

use std::sync::OnceLock;
use std::time::Duration;

use hub_e2e::{Access, DashboardScope, HubServer, WsClient, events_where, worker_events};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(700);
const FORBIDDEN_BODY: &str = r#"{"error":"forbidden","message":"forbidden"}"#;

/// Every device id a test in this file uses; provisioned in one hubctl call.
const DEVICE_IDS: &[&str] = &[
    "auth-dev",
    "auth-other",
    "disabled-dev",
    "scope-a",
    "scope-b",
    "takeover",
    "fanout",
    "snapshot-dev",
    "presence-dev",
    "command-dev",
    "offline-dev",
    "dup-dev",
    "batch-dev",
    "bad-device",
    "bad-dashboard",
    "too-big-dev",
    "legacy-dev",
    "ping-dev",
    "isolated-a",
    "isolated-b",
    "leak-dev",
];

/// Credentials shared by the tests.
struct Fixture {
    devices: Vec<(String, String)>,
    control_all: String,
    read_all: String,
    control_scope_a: String,
    revoked: String,
}

impl Fixture {
    fn token(&self, device_id: &str) -> &str {
        self.devices
            .iter()
            .find(|(id, _)| id == device_id)
            .map(|(_, token)| token.as_str())
            .unwrap_or_else(|| panic!("{device_id} is not in DEVICE_IDS"))
    }
}

fn hub() -> &'static HubServer {
    HubServer::shared()
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let hub = hub();
        let devices = hub
            .provision_devices(DEVICE_IDS)
            .into_iter()
            .map(|d| (d.device_id.to_string(), d.token))
            .collect();
        let scope = |text: &str| DashboardScope::parse(text).expect("scope");
        let control_all = hub.provision_dashboard(&scope("*"), Access::Control).token;
        let read_all = hub.provision_dashboard(&scope("*"), Access::Read).token;
        let control_scope_a = hub
            .provision_dashboard(&scope("scope-a"), Access::Control)
            .token;
        let revoked = hub.provision_dashboard(&scope("*"), Access::Control);
        let hubctl = hub.provisioner().hubctl();
        hubctl
            .execute_sql(&format!(
                "UPDATE dashboard_tokens SET revoked_at = '2026-01-01T00:00:00Z' WHERE id = '{}';\
                 UPDATE devices SET disabled_at = '2026-01-01T00:00:00Z' WHERE id = 'disabled-dev';",
                revoked.token_id
            ))
            .expect("revoke and disable");
        Fixture {
            devices,
            control_all,
            read_all,
            control_scope_a,
            revoked: revoked.token,
        }
    })
}

fn device_url(id: &str) -> String {
    hub().ws_url(&format!("/ws/device/{id}"))
}

fn dashboard_url(id: &str) -> String {
    hub().ws_url(&format!("/ws/dashboard/{id}"))
}

async fn connect_device(id: &str) -> WsClient {
    WsClient::connect_bearer(&device_url(id), fixture().token(id)).await
}

/// Connects a dashboard with `token` and returns it with the snapshot it got first.
async fn connect_dashboard(id: &str, token: &str) -> (WsClient, Value) {
    let mut ws = WsClient::connect_bearer(&dashboard_url(id), token).await;
    let snapshot = ws.recv_json(WAIT).await;
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    assert_eq!(snapshot["device_id"], id);
    (ws, snapshot)
}

fn telemetry(epoch: &str, seq: u64) -> Value {
    json!({"type":"telemetry","epoch":epoch,"seq":seq,"ts":"2026-02-03T12:00:00Z",
           "data":{"battery":{"voltage":53.2,"soc":seq}}})
}

async fn expect_ack(device: &mut WsClient, seq: u64) {
    let ack = device.recv_json(WAIT).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["seq"], seq, "{ack}");
}

async fn expect_error(ws: &mut WsClient, code: &str) {
    let error = ws.recv_json(WAIT).await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], code, "{error}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
}

async fn refused(url: &str, headers: &[(&str, &str)]) -> hub_e2e::Refusal {
    WsClient::expect_refused(url, headers).await
}

/// The body of a refused upgrade, read in full over plain HTTP (a WebSocket client may not wait for it).
async fn refusal_body(path: &str, authorization: &str) -> String {
    let headers = [
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Authorization", authorization),
    ];
    let response = hub().http_get(path, &headers).await;
    assert_eq!(response.status, 403, "{response:?}");
    response.body
}

// ---------------------------------------------------------------- device authentication

#[tokio::test]
async fn device_with_its_token_connects() {
    let mut device = connect_device("auth-dev").await;
    device.send_json(&telemetry("e", 1)).await;
    expect_ack(&mut device, 1).await;
}

#[tokio::test]
async fn device_without_bearer_gets_401_with_challenge() {
    let fixture = fixture();
    for headers in [
        vec![],
        vec![("Authorization", "Basic dXNlcjpwYXNz")],
        vec![("Authorization", "Bearer")],
        vec![("Authorization", fixture.token("auth-dev"))],
    ] {
        let refusal = refused(&device_url("auth-dev"), &headers).await;
        assert_eq!(refusal.status, 401, "{headers:?}: {refusal:?}");
        assert_eq!(refusal.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn wrong_unknown_disabled_and_malformed_all_get_the_same_403() {
    let fixture = fixture();
    let cases = [
        (
            "auth-dev",
            format!("Bearer {}", fixture.token("auth-other")),
        ),
        (
            "no-such-device",
            format!("Bearer {}", fixture.token("auth-dev")),
        ),
        (
            "disabled-dev",
            format!("Bearer {}", fixture.token("disabled-dev")),
        ),
        ("auth-dev", "Bearer tdev_not-a-real-token".to_owned()),
        ("auth-dev", format!("Bearer {}", fixture.control_all)),
    ];
    for (id, auth) in &cases {
        let refusal = refused(&device_url(id), &[("Authorization", auth)]).await;
        assert_eq!(refusal.status, 403, "{id}: {refusal:?}");
        let body = refusal_body(&format!("/ws/device/{id}"), auth).await;
        assert_eq!(body, FORBIDDEN_BODY, "{id}");
    }
}

#[tokio::test]
async fn bad_device_ids_get_400() {
    let auth = format!("Bearer {}", fixture().token("auth-dev"));
    let too_long = "x".repeat(65);
    for id in ["bad.id", "a%20b", too_long.as_str()] {
        let refusal = refused(&device_url(id), &[("Authorization", &auth)]).await;
        assert_eq!(refusal.status, 400, "{id}: {refusal:?}");
    }
}

#[tokio::test]
async fn credentials_in_the_url_get_400_and_never_reach_the_log() {
    let token = fixture().token("auth-dev");
    let auth = format!("Bearer {token}");
    for key in ["token", "access_token", "api_key", "key", "Token"] {
        let url = format!("{}?{key}={token}", device_url("auth-dev"));
        let refusal = refused(&url, &[("Authorization", &auth)]).await;
        assert_eq!(refusal.status, 400, "{key}: {refusal:?}");
    }
    let dashboard = format!(
        "{}?token={}",
        dashboard_url("auth-dev"),
        fixture().control_all
    );
    assert_eq!(refused(&dashboard, &[]).await.status, 400);
    assert!(!hub().logs().contains(token), "a token reached the log");
}

#[tokio::test]
async fn plain_http_requests_get_426_and_unknown_paths_404() {
    let auth = format!("Bearer {}", fixture().token("auth-dev"));
    let response = hub()
        .http_get("/ws/device/auth-dev", &[("Authorization", &auth)])
        .await;
    assert_eq!(response.status, 426, "{response:?}");
    assert_eq!(
        hub().http_get("/ws/dashboard/auth-dev", &[]).await.status,
        426
    );
    // `/` is the dashboard, served from web/dist by Workers assets; unknown paths still reach the Worker.
    let page = hub().http_get("/", &[]).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
            && page.body.contains(r#"<div id="app">"#),
        "{page:?}"
    );
    assert_eq!(hub().http_get("/ws/unknown/x", &[]).await.status, 404);
    assert_eq!(hub().http_get("/no-such-page", &[]).await.status, 404);
}

// ---------------------------------------------------------------- dashboard authentication

#[tokio::test]
async fn dashboard_bearer_subprotocol_selects_telemetry_v1() {
    let protocols = format!("telemetry.v1, bearer.{}", fixture().control_all);
    let mut ws = WsClient::connect(
        &dashboard_url("auth-dev"),
        &[("Sec-WebSocket-Protocol", &protocols)],
    )
    .await
    .expect("accepted");
    assert_eq!(
        ws.handshake_header("sec-websocket-protocol"),
        Some("telemetry.v1")
    );
    let snapshot = ws.recv_json(WAIT).await;
    assert_eq!(snapshot["type"], "snapshot");
}

#[tokio::test]
async fn dashboard_auth_refusals() {
    let fixture = fixture();
    let bearer = |token: &str| format!("Bearer {token}");
    let url = dashboard_url("scope-b");
    // No credential at all.
    let none = refused(&url, &[]).await;
    assert_eq!(
        (none.status, none.header("www-authenticate")),
        (401, Some("Bearer"))
    );
    // bearer.<token> without telemetry.v1 cannot be answered with a selected subprotocol.
    let lone = format!("bearer.{}", fixture.control_all);
    assert_eq!(
        refused(&url, &[("Sec-WebSocket-Protocol", &lone)])
            .await
            .status,
        400
    );
    // Out of scope, revoked, a device token, a malformed token: the same 403.
    for auth in [
        bearer(&fixture.control_scope_a),
        bearer(&fixture.revoked),
        bearer(fixture.token("scope-b")),
        bearer("tdash_garbage"),
    ] {
        let refusal = refused(&url, &[("Authorization", &auth)]).await;
        assert_eq!(refusal.status, 403, "{refusal:?}");
        assert_eq!(
            refusal_body("/ws/dashboard/scope-b", &auth).await,
            FORBIDDEN_BODY
        );
    }
    // In scope works.
    connect_dashboard("scope-a", &fixture.control_scope_a).await;
}

#[tokio::test]
async fn read_only_dashboards_cannot_send_commands() {
    let (mut reader, _) = connect_dashboard("scope-b", &fixture().read_all).await;
    let _device = connect_device("scope-b").await;
    reader.recv_until(|m| m["type"] == "presence", WAIT).await;
    reader
        .send_json(&json!({"type":"command","id":"r1","name":"ping"}))
        .await;
    expect_error(&mut reader, "read_only").await;
}

// ---------------------------------------------------------------- one device connection per id

#[tokio::test]
async fn a_newer_device_connection_replaces_the_older_with_4000() {
    let (mut dashboard, _) = connect_dashboard("takeover", &fixture().read_all).await;
    let mut first = connect_device("takeover").await;
    let online = dashboard.recv_json(WAIT).await;
    assert_eq!(
        (online["online"].clone(), online["reason"].clone()),
        (json!(true), json!("connected"))
    );

    let mut second = connect_device("takeover").await;
    assert_eq!(
        first.expect_close(WAIT).await,
        (4000, "replaced".to_owned())
    );
    let replaced = dashboard.recv_json(WAIT).await;
    assert_eq!(replaced["type"], "presence", "{replaced}");
    assert_eq!(
        (replaced["online"].clone(), replaced["reason"].clone()),
        (json!(true), json!("replaced"))
    );

    // The new connection carries on, and the old one's close never reports the device offline.
    second.send_json(&telemetry("t", 1)).await;
    expect_ack(&mut second, 1).await;
    let sample = dashboard.recv_json(WAIT).await;
    assert_eq!(
        (sample["type"].clone(), sample["seq"].clone()),
        (json!("telemetry"), json!(1))
    );
    dashboard.expect_silence(QUIET).await;
}

// ---------------------------------------------------------------- fan-out, snapshot, presence

#[tokio::test]
async fn every_dashboard_gets_every_sample() {
    let mut dashboards = Vec::new();
    for _ in 0..3 {
        dashboards.push(connect_dashboard("fanout", &fixture().read_all).await.0);
    }
    let mut device = connect_device("fanout").await;
    for seq in 1..=5 {
        device.send_json(&telemetry("f", seq)).await;
        expect_ack(&mut device, seq).await;
    }
    for dashboard in &mut dashboards {
        dashboard
            .recv_until(|m| m["type"] == "presence", WAIT)
            .await;
        for seq in 1..=5u64 {
            let sample = dashboard.recv_json(WAIT).await;
            assert_eq!(sample["type"], "telemetry", "{sample}");
            assert_eq!(sample["device_id"], "fanout");
            assert_eq!(sample["seq"], seq);
            assert_eq!(sample["ts"], "2026-02-03T12:00:00Z");
            assert_eq!(sample["data"]["battery"]["soc"], seq);
            assert!(
                sample["received_at"]
                    .as_str()
                    .is_some_and(|t| t.ends_with('Z'))
            );
        }
    }
}

#[tokio::test]
async fn snapshot_holds_the_last_sample_after_the_device_left() {
    let (_, empty) = connect_dashboard("snapshot-dev", &fixture().read_all).await;
    assert_eq!(empty["online"], false);
    assert_eq!(empty["last"], Value::Null);

    let mut device = connect_device("snapshot-dev").await;
    let (_, live) = connect_dashboard("snapshot-dev", &fixture().read_all).await;
    assert_eq!(
        (live["online"].clone(), live["last"].clone()),
        (json!(true), Value::Null)
    );
    for seq in 1..=3 {
        device.send_json(&telemetry("s", seq)).await;
        expect_ack(&mut device, seq).await;
    }
    device.close(1000, "bye").await;

    let (_, after) = connect_dashboard("snapshot-dev", &fixture().read_all).await;
    assert_eq!(after["online"], false, "{after}");
    assert_eq!(after["last"]["seq"], 3, "{after}");
    assert_eq!(after["last"]["device_id"], "snapshot-dev");
    assert_eq!(after["last"]["data"]["battery"]["soc"], 3);
}

#[tokio::test]
async fn presence_follows_the_device() {
    let (mut dashboard, _) = connect_dashboard("presence-dev", &fixture().read_all).await;
    let mut device = connect_device("presence-dev").await;
    let online = dashboard.recv_json(WAIT).await;
    assert_eq!(online["type"], "presence");
    assert_eq!(online["device_id"], "presence-dev");
    assert_eq!(online["online"], true);
    assert_eq!(online["reason"], "connected");
    assert!(online["at"].as_str().is_some_and(|t| t.len() >= 20));

    device.close(1000, "bye").await;
    let offline = dashboard.recv_json(WAIT).await;
    assert_eq!(offline["type"], "presence");
    assert_eq!(offline["online"], false);
    assert_eq!(offline["reason"], "disconnected");
}

// ---------------------------------------------------------------- commands

#[tokio::test]
async fn a_command_round_trips_and_every_dashboard_sees_the_result() {
    let (mut controller, _) = connect_dashboard("command-dev", &fixture().control_all).await;
    let (mut watcher, _) = connect_dashboard("command-dev", &fixture().read_all).await;
    let mut device = connect_device("command-dev").await;
    controller
        .recv_until(|m| m["type"] == "presence", WAIT)
        .await;
    watcher.recv_until(|m| m["type"] == "presence", WAIT).await;

    let command = json!({"type":"command","id":"c-1","name":"set_interval","args":{"seconds":5}});
    controller.send_json(&command).await;
    assert_eq!(device.recv_json(WAIT).await, command);

    device
        .send_json(
            &json!({"type":"command_result","id":"c-1","ok":true,"detail":"interval set to 5 s"}),
        )
        .await;
    let expected = json!({"type":"command_result","id":"c-1","ok":true,"detail":"interval set to 5 s",
                          "device_id":"command-dev"});
    assert_eq!(controller.recv_json(WAIT).await, expected);
    assert_eq!(watcher.recv_json(WAIT).await, expected);
}

#[tokio::test]
async fn a_command_for_an_offline_device_fails_at_once() {
    let (mut controller, snapshot) = connect_dashboard("offline-dev", &fixture().control_all).await;
    assert_eq!(snapshot["online"], false);
    controller
        .send_json(&json!({"type":"command","id":"c-off","name":"ping","args":{}}))
        .await;
    let result = controller.recv_json(Duration::from_secs(2)).await;
    assert_eq!(result["type"], "command_result", "{result}");
    assert_eq!(result["id"], "c-off");
    assert_eq!(result["ok"], false);
    assert_eq!(result["detail"], "device offline");
}

// ---------------------------------------------------------------- samples: duplicates, batches, legacy

#[tokio::test]
async fn resends_are_acked_again_but_not_broadcast_and_a_new_epoch_starts_over() {
    let (mut dashboard, _) = connect_dashboard("dup-dev", &fixture().read_all).await;
    let mut device = connect_device("dup-dev").await;
    dashboard
        .recv_until(|m| m["type"] == "presence", WAIT)
        .await;
    for seq in 1..=3 {
        device.send_json(&telemetry("d1", seq)).await;
        expect_ack(&mut device, seq).await;
        assert_eq!(dashboard.recv_json(WAIT).await["seq"], seq);
    }
    device.send_json(&telemetry("d1", 2)).await;
    let ack = device.recv_json(WAIT).await;
    assert_eq!(
        (ack["seq"].clone(), ack["epoch"].clone()),
        (json!(3), json!("d1"))
    );
    dashboard.expect_silence(QUIET).await;

    // A wiped device starts a new epoch at 1: that is new data, not a replay.
    device.send_json(&telemetry("d2", 1)).await;
    let ack = device.recv_json(WAIT).await;
    assert_eq!(
        (ack["seq"].clone(), ack["epoch"].clone()),
        (json!(1), json!("d2"))
    );
    let sample = dashboard.recv_json(WAIT).await;
    assert_eq!(
        (sample["seq"].clone(), sample["epoch"].clone()),
        (json!(1), json!("d2"))
    );
}

#[tokio::test]
async fn a_batch_is_broadcast_in_order_with_one_ack() {
    let (mut dashboard, _) = connect_dashboard("batch-dev", &fixture().read_all).await;
    let mut device = connect_device("batch-dev").await;
    dashboard
        .recv_until(|m| m["type"] == "presence", WAIT)
        .await;
    let items: Vec<Value> = (1..=4).map(|seq| telemetry("b", seq)).collect();
    device
        .send_json(&json!({"type":"batch","items":items}))
        .await;
    expect_ack(&mut device, 4).await;
    for seq in 1..=4 {
        assert_eq!(dashboard.recv_json(WAIT).await["seq"], seq);
    }
    // Over the limit: refused as a whole, nothing broadcast, the connection carries on.
    let over: Vec<Value> = (5..=505).map(|seq| telemetry("b", seq)).collect();
    device
        .send_json(&json!({"type":"batch","items":over}))
        .await;
    expect_error(&mut device, "batch_too_large").await;
    dashboard.expect_silence(QUIET).await;
    device.send_json(&telemetry("b", 5)).await;
    expect_ack(&mut device, 5).await;
}

#[tokio::test]
async fn the_legacy_flat_payload_works_unchanged() {
    let (mut dashboard, _) = connect_dashboard("legacy-dev", &fixture().read_all).await;
    let mut device = connect_device("legacy-dev").await;
    dashboard
        .recv_until(|m| m["type"] == "presence", WAIT)
        .await;
    device
        .send_text(r#"{"device_id":"legacy-dev","timestamp":"2026-02-03T12:00:00Z","battery":{"voltage":53.2,"soc":85}}"#)
        .await;
    let ack = device.recv_json(WAIT).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let sample = dashboard.recv_json(WAIT).await;
    assert_eq!(sample["type"], "telemetry", "{sample}");
    assert_eq!(sample["device_id"], "legacy-dev");
    assert_eq!(sample["ts"], "2026-02-03T12:00:00Z");
    assert_eq!(sample["data"], json!({"battery":{"voltage":53.2,"soc":85}}));
    assert_eq!(sample["seq"], ack["seq"]);
}

// ---------------------------------------------------------------- bad input

#[tokio::test]
async fn bad_device_input_gets_error_frames_and_disturbs_nobody() {
    let (mut dashboard, _) = connect_dashboard("bad-device", &fixture().read_all).await;
    let mut device = connect_device("bad-device").await;
    dashboard
        .recv_until(|m| m["type"] == "presence", WAIT)
        .await;
    let cases: [(&str, &str); 7] = [
        ("{not json", "invalid_json"),
        ("[1,2,3]", "not_an_object"),
        (r#"{"type":"reboot"}"#, "unknown_type"),
        (
            r#"{"type":"command","id":"x","name":"ping"}"#,
            "wrong_direction",
        ),
        (
            r#"{"type":"telemetry","epoch":"e","seq":1}"#,
            "invalid_message",
        ),
        (
            r#"{"type":"telemetry","epoch":"e","seq":1,"ts":"noon","data":{}}"#,
            "invalid_message",
        ),
        (
            r#"{"device_id":"someone-else","soc":1}"#,
            "device_id_mismatch",
        ),
    ];
    for (text, code) in cases {
        device.send_text(text).await;
        expect_error(&mut device, code).await;
    }
    device.send_binary(vec![1, 2, 3]).await;
    expect_error(&mut device, "binary_not_supported").await;
    let typed_mismatch = json!({"type":"telemetry","epoch":"e","seq":1,"ts":"2026-02-03T12:00:00Z",
                                "data":{},"device_id":"someone-else"});
    device.send_json(&typed_mismatch).await;
    expect_error(&mut device, "device_id_mismatch").await;
    dashboard.expect_silence(QUIET).await;

    device.send_json(&telemetry("ok", 1)).await;
    expect_ack(&mut device, 1).await;
    assert_eq!(dashboard.recv_json(WAIT).await["seq"], 1);
}

#[tokio::test]
async fn bad_dashboard_input_gets_error_frames_and_disturbs_nobody() {
    let (mut bad, _) = connect_dashboard("bad-dashboard", &fixture().control_all).await;
    let (mut other, _) = connect_dashboard("bad-dashboard", &fixture().read_all).await;
    let mut device = connect_device("bad-dashboard").await;
    bad.recv_until(|m| m["type"] == "presence", WAIT).await;
    other.recv_until(|m| m["type"] == "presence", WAIT).await;
    let cases: [(&str, &str); 5] = [
        ("nope", "invalid_json"),
        ("\"text\"", "not_an_object"),
        (r#"{"type":"subscribe"}"#, "unknown_type"),
        (
            r#"{"type":"telemetry","epoch":"e","seq":1,"ts":"2026-02-03T12:00:00Z","data":{}}"#,
            "wrong_direction",
        ),
        (
            r#"{"type":"command","id":"","name":"ping"}"#,
            "invalid_message",
        ),
    ];
    for (text, code) in cases {
        bad.send_text(text).await;
        expect_error(&mut bad, code).await;
    }
    bad.send_binary(vec![0; 16]).await;
    expect_error(&mut bad, "binary_not_supported").await;
    device.expect_silence(QUIET).await;
    other.expect_silence(Duration::from_millis(100)).await;

    // An oversized frame closes that dashboard with 1009; the device and the other dashboard carry on.
    bad.send_text(&"x".repeat(64 * 1024 + 1)).await;
    assert_eq!(bad.expect_close(WAIT).await.0, 1009);
    device.send_json(&telemetry("ok", 1)).await;
    expect_ack(&mut device, 1).await;
    assert_eq!(other.recv_json(WAIT).await["seq"], 1);
}

#[tokio::test]
async fn an_oversized_device_frame_closes_with_1009() {
    let (mut dashboard, _) = connect_dashboard("too-big-dev", &fixture().read_all).await;
    let mut device = connect_device("too-big-dev").await;
    dashboard
        .recv_until(|m| m["type"] == "presence", WAIT)
        .await;
    let big = json!({"type":"telemetry","epoch":"e","seq":1,"ts":"2026-02-03T12:00:00Z",
                     "data":{"blob":"y".repeat(70_000)}});
    device.send_json(&big).await;
    assert_eq!(device.expect_close(WAIT).await.0, 1009);
    let offline = dashboard.recv_json(WAIT).await;
    assert_eq!(
        (offline["type"].clone(), offline["online"].clone()),
        (json!("presence"), json!(false))
    );
    // Nothing of the oversized frame was broadcast, and the device may come back.
    let mut again = connect_device("too-big-dev").await;
    again.send_json(&telemetry("e", 1)).await;
    expect_ack(&mut again, 1).await;
}

#[tokio::test]
async fn ping_is_answered_with_pong_on_both_endpoints() {
    let (mut dashboard, _) = connect_dashboard("ping-dev", &fixture().read_all).await;
    dashboard.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(dashboard.recv_json(WAIT).await, json!({"type":"pong"}));
    dashboard.send_text(r#"{ "type": "ping" }"#).await;
    assert_eq!(dashboard.recv_json(WAIT).await, json!({"type":"pong"}));
    let mut device = connect_device("ping-dev").await;
    device.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(device.recv_json(WAIT).await, json!({"type":"pong"}));
}

#[tokio::test]
async fn devices_are_isolated_from_each_other() {
    let (mut dashboard_b, _) = connect_dashboard("isolated-b", &fixture().read_all).await;
    let mut device_a = connect_device("isolated-a").await;
    device_a.send_json(&telemetry("i", 1)).await;
    expect_ack(&mut device_a, 1).await;
    dashboard_b.expect_silence(QUIET).await;
}

// ---------------------------------------------------------------- secrets

#[tokio::test]
async fn tokens_never_reach_logs_or_the_database() {
    let fixture = fixture();
    let token = fixture.token("leak-dev");
    let mut device = connect_device("leak-dev").await;
    device.send_json(&telemetry("l", 1)).await;
    expect_ack(&mut device, 1).await;
    // A refused attempt with a wrong token is logged (id and reason), the token is not.
    let wrong = fixture.token("auth-other");
    let refusal = refused(
        &device_url("leak-dev"),
        &[("Authorization", &format!("Bearer {wrong}"))],
    )
    .await;
    assert_eq!(refusal.status, 403);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = hub().logs();
    let events = worker_events(&logs);
    let refusals = events_where(
        &events,
        "auth_refused",
        &[
            ("device_id", json!("leak-dev")),
            ("reason", json!("wrong token")),
        ],
    );
    assert!(
        !refusals.is_empty(),
        "refusals are logged with id and reason"
    );
    for secret in [
        token,
        wrong,
        fixture.control_all.as_str(),
        fixture.read_all.as_str(),
    ] {
        assert!(!logs.contains(secret), "a token reached the log");
    }
    let rows = hub()
        .provisioner()
        .query("SELECT id, token_sha256 FROM devices WHERE id = 'leak-dev'");
    let stored = rows[0].to_string();
    assert!(!stored.contains(token), "a token reached the database");
    assert_eq!(rows[0]["token_sha256"], hubctl::token_sha256_hex(token));
}
