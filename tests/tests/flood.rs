//! Flood limits per device object, against the real Worker under `wrangler dev` with small limits: past a limit
//! the offender gets an `error` frame and a close with 1008, and nothing else on that device is disturbed.

use std::sync::OnceLock;
use std::time::Duration;

use hub_e2e::{AdminHttp, HubServer, OWNER, Received, WsClient, handshake_status};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

/// Small limits; every bucket holds 10 s of its rate, a command bucket one minute.
fn hub() -> &'static HubServer {
    static HUB: OnceLock<HubServer> = OnceLock::new();
    HUB.get_or_init(|| {
        HubServer::start_lenient(&[
            ("MAX_DASHBOARDS_PER_DEVICE", "2"),
            ("DASHBOARD_FRAMES_PER_SEC", "1"),
            ("COMMANDS_PER_MINUTE", "3"),
            ("DEVICE_FRAMES_PER_SEC", "2"),
            ("DEVICE_BYTES_PER_SEC", "2000"),
        ])
    })
}

fn sample(seq: u64, padding: usize) -> Value {
    json!({"type":"telemetry","epoch":"e","seq":seq,"ts":"2026-02-03T12:00:00Z",
           "data":{"soc": seq, "pad": "x".repeat(padding)}})
}

/// A device with its token and a control dashboard token on it.
async fn setup(id: &str) -> (String, String) {
    let admin = AdminHttp::new(hub());
    let device = admin.create_device(id).await;
    let (_, dashboard) = admin.create_dashboard(json!([id]), "control").await;
    (device, dashboard)
}

async fn dashboard(id: &str, token: &str) -> WsClient {
    let mut ws =
        WsClient::connect_bearer(&hub().ws_url(&format!("/ws/dashboard/{id}")), token).await;
    assert_eq!(ws.recv_json(WAIT).await["type"], "snapshot");
    ws
}

async fn device(id: &str, token: &str) -> WsClient {
    WsClient::connect_bearer(&hub().ws_url(&format!("/ws/device/{id}")), token).await
}

/// Reads until the `error` frame and the close that follows it; returns (error code, close code).
async fn refused_and_closed(ws: &mut WsClient) -> (Value, u16) {
    let mut code = Value::Null;
    loop {
        match ws.recv(WAIT).await {
            Some(Received::Text(text)) => {
                let message: Value = serde_json::from_str(&text).expect("json");
                if message["type"] == "error" {
                    code = message["code"].clone();
                }
            }
            Some(Received::Close(close, _)) => return (code, close),
            other => panic!("expected an error and a close, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_dashboard_past_the_device_limit_is_told_and_closed() {
    let (device_token, dashboard_token) = setup("flood-count").await;
    let mut first = dashboard("flood-count", &dashboard_token).await;
    let mut second = dashboard("flood-count", &dashboard_token).await;
    let mut third =
        WsClient::connect_bearer(&hub().ws_url("/ws/dashboard/flood-count"), &dashboard_token)
            .await;
    assert_eq!(
        refused_and_closed(&mut third).await,
        (json!("too_many_dashboards"), 1008)
    );
    let mut pi = device("flood-count", &device_token).await;
    pi.send_json(&sample(1, 0)).await;
    assert_eq!(pi.recv_json(WAIT).await["type"], "ack");
    for ws in [&mut first, &mut second] {
        ws.recv_until(|m| m["type"] == "telemetry", WAIT).await;
    }
}

#[tokio::test]
async fn a_flooding_dashboard_is_closed_and_the_others_go_on() {
    let (device_token, dashboard_token) = setup("flood-dash").await;
    let mut flooder = dashboard("flood-dash", &dashboard_token).await;
    let mut calm = dashboard("flood-dash", &dashboard_token).await;
    for _ in 0..15 {
        flooder.send_text(r#"{"type":"ping","n":1}"#).await;
    }
    assert_eq!(
        refused_and_closed(&mut flooder).await,
        (json!("rate_limited"), 1008)
    );
    let mut pi = device("flood-dash", &device_token).await;
    pi.send_json(&sample(1, 0)).await;
    assert_eq!(pi.recv_json(WAIT).await["type"], "ack");
    calm.recv_until(|m| m["type"] == "telemetry", WAIT).await;
}

#[tokio::test]
async fn a_control_token_past_its_command_rate_is_closed() {
    let (device_token, dashboard_token) = setup("flood-cmd").await;
    let mut pi = device("flood-cmd", &device_token).await;
    let mut control = dashboard("flood-cmd", &dashboard_token).await;
    for n in 0..4 {
        control
            .send_json(&json!({"type":"command","id":format!("c{n}"),"name":"ping"}))
            .await;
    }
    assert_eq!(
        refused_and_closed(&mut control).await,
        (json!("rate_limited"), 1008)
    );
    let mut relayed = Vec::new();
    while let Some(Received::Text(text)) = pi.recv(Duration::from_millis(700)).await {
        let message: Value = serde_json::from_str(&text).expect("json");
        relayed.push(message["id"].clone());
    }
    assert_eq!(
        relayed,
        vec![json!("c0"), json!("c1"), json!("c2")],
        "only the first three"
    );
}

#[tokio::test]
async fn a_device_flooding_frames_is_closed_and_its_dashboards_stay() {
    let (device_token, dashboard_token) = setup("flood-frames").await;
    let mut watcher = dashboard("flood-frames", &dashboard_token).await;
    let mut pi = device("flood-frames", &device_token).await;
    for seq in 1..=40 {
        pi.send_json(&sample(seq, 0)).await;
    }
    let mut acked = 0;
    let outcome = loop {
        match pi.recv(WAIT).await {
            Some(Received::Text(text)) => {
                let message: Value = serde_json::from_str(&text).expect("json");
                match message["type"].as_str() {
                    Some("ack") => acked += 1,
                    Some("error") => assert_eq!(message["code"], "rate_limited"),
                    _ => {}
                }
            }
            Some(Received::Close(code, _)) => break code,
            other => panic!("expected acks, an error and a close, got {other:?}"),
        }
    };
    assert_eq!(outcome, 1008);
    assert!(
        (15..=25).contains(&acked),
        "the burst of 20 frames passes: {acked} acked"
    );
    let offline = watcher
        .recv_until(|m| m["type"] == "presence" && m["online"] == false, WAIT)
        .await;
    assert_eq!(offline["reason"], "disconnected");
    watcher.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(
        watcher.recv_json(WAIT).await["type"],
        "pong",
        "the dashboard stays"
    );
    // The device reconnects with a fresh bucket.
    let mut back = device("flood-frames", &device_token).await;
    back.send_json(&sample(100, 0)).await;
    assert_eq!(back.recv_json(WAIT).await["type"], "ack");
}

#[tokio::test]
async fn a_device_flooding_bytes_is_closed() {
    let (device_token, _) = setup("flood-bytes").await;
    let mut pi = device("flood-bytes", &device_token).await;
    // 2,000 bytes a second holds 20,000: the fourth 6 KB frame is over.
    for seq in 1..=4 {
        pi.send_json(&sample(seq, 6_000)).await;
    }
    assert_eq!(
        refused_and_closed(&mut pi).await,
        (json!("rate_limited"), 1008)
    );
}

#[tokio::test]
async fn a_star_token_opens_only_devices_that_exist() {
    let admin = AdminHttp::new(hub());
    admin.create_device("star-real").await;
    let (_, star) = admin.create_dashboard(json!("*"), "read").await;
    let auth = format!("Bearer {star}");
    let real = handshake_status(
        hub(),
        OWNER,
        "/ws/dashboard/star-real",
        &[("Authorization", &auth)],
    )
    .await;
    assert_eq!(real.status, 101);
    let ghost = handshake_status(
        hub(),
        OWNER,
        "/ws/dashboard/star-ghost",
        &[("Authorization", &auth)],
    )
    .await;
    assert_eq!(ghost.status, 403, "{ghost:?}");
}
