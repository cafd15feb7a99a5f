//! Presence that tells the truth, against the real Worker under `wrangler dev` with a 3 s silence limit: a
//! device that keeps its socket open but says nothing is reported offline with reason `timeout`, a device that
//! only sends `{"type":"ping"}` (answered by the runtime without waking the object) stays online, and a silent
//! device that speaks again comes back.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hub_e2e::{AdminHttp, HubServer, WsClient, json_body};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);
const SILENCE: Duration = Duration::from_secs(3);
/// The limit plus a third of it: when the hub promises to have reported a silent device.
const REPORTED_WITHIN: Duration = Duration::from_secs(4);
/// What the runtime may add to an alarm's time on a busy machine.
const ALARM_SLACK: Duration = Duration::from_secs(2);

fn hub() -> &'static HubServer {
    static HUB: OnceLock<HubServer> = OnceLock::new();
    HUB.get_or_init(|| HubServer::start_lenient(&[("DEVICE_SILENCE_SECS", "3")]))
}

async fn setup(id: &str) -> (WsClient, WsClient) {
    let admin = AdminHttp::new(hub());
    let device_token = admin.create_device(id).await;
    let (_, dashboard_token) = admin.create_dashboard(json!([id]), "control").await;
    let mut dashboard = WsClient::connect_bearer(
        &hub().ws_url(&format!("/ws/dashboard/{id}")),
        &dashboard_token,
    )
    .await;
    assert_eq!(dashboard.recv_json(WAIT).await["online"], false);
    let device =
        WsClient::connect_bearer(&hub().ws_url(&format!("/ws/device/{id}")), &device_token).await;
    let online = dashboard.recv_json(WAIT).await;
    assert_eq!(
        (online["type"].clone(), online["online"].clone()),
        (json!("presence"), json!(true))
    );
    (device, dashboard)
}

fn sample(seq: u64) -> Value {
    json!({"type":"telemetry","epoch":"e","seq":seq,"ts":"2026-02-03T12:00:00Z","data":{"soc":seq}})
}

#[tokio::test]
async fn a_silent_device_is_reported_offline_and_commands_fail_fast() {
    let (mut device, mut dashboard) = setup("quiet-pi").await;
    device.send_json(&sample(1)).await;
    assert_eq!(device.recv_json(WAIT).await["type"], "ack");
    let silent_since = Instant::now();
    dashboard
        .recv_until(|m| m["type"] == "telemetry", WAIT)
        .await;
    // The device keeps its TCP connection but says nothing from here on.
    let offline = dashboard
        .recv_until(
            |m| m["type"] == "presence",
            REPORTED_WITHIN + ALARM_SLACK + WAIT,
        )
        .await;
    let after = silent_since.elapsed();
    assert_eq!(
        (offline["online"].clone(), offline["reason"].clone()),
        (json!(false), json!("timeout"))
    );
    assert!(
        after >= SILENCE - Duration::from_millis(200),
        "not before the limit: {after:?}"
    );
    assert!(
        after <= REPORTED_WITHIN + ALARM_SLACK,
        "reported after {after:?}"
    );
    let asked = Instant::now();
    dashboard
        .send_json(&json!({"type":"command","id":"c1","name":"ping"}))
        .await;
    let result = dashboard.recv_json(WAIT).await;
    assert_eq!(
        (result["ok"].clone(), result["detail"].clone()),
        (json!(false), json!("device offline"))
    );
    assert!(asked.elapsed() < Duration::from_secs(1), "fails fast");
    let shown = json_body(
        &AdminHttp::new(hub())
            .call("GET", "/admin/devices/quiet-pi", None)
            .await,
    );
    assert_eq!(shown["online"], false);
    assert!(shown["last_seen"].is_string());
}

#[tokio::test]
async fn a_device_that_only_pings_stays_online() {
    let (mut device, mut dashboard) = setup("pinging-pi").await;
    let until = Instant::now() + SILENCE * 3;
    while Instant::now() < until {
        // The exact text the runtime answers without waking the object.
        device.send_text(r#"{"type":"ping"}"#).await;
        assert_eq!(device.recv_json(WAIT).await, json!({"type":"pong"}));
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    dashboard.expect_silence(Duration::from_millis(500)).await;
    let shown = json_body(
        &AdminHttp::new(hub())
            .call("GET", "/admin/devices/pinging-pi", None)
            .await,
    );
    assert_eq!(shown["online"], true);
}

#[tokio::test]
async fn a_silent_device_that_speaks_again_is_back_online() {
    let (mut device, mut dashboard) = setup("waking-pi").await;
    let offline = dashboard
        .recv_until(
            |m| m["type"] == "presence",
            REPORTED_WITHIN + ALARM_SLACK + WAIT,
        )
        .await;
    assert_eq!(offline["reason"], "timeout");
    device.send_json(&sample(1)).await;
    assert_eq!(device.recv_json(WAIT).await["type"], "ack");
    let online = dashboard
        .recv_until(|m| m["type"] == "presence", WAIT)
        .await;
    assert_eq!(
        (online["online"].clone(), online["reason"].clone()),
        (json!(true), json!("connected"))
    );
    dashboard
        .send_json(&json!({"type":"command","id":"c2","name":"ping"}))
        .await;
    let command = device.recv_json(WAIT).await;
    assert_eq!(
        (command["type"].clone(), command["id"].clone()),
        (json!("command"), json!("c2"))
    );
}
