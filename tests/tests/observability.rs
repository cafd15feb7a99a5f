//! What the hub tells its operators, against the real Worker under `wrangler dev`: every line the Worker logs is
//! one JSON event and no secret ever reaches the log; without an Analytics Engine binding the fleet metrics come
//! out as `metric` events a test can read; and each device's counters show in the admin API and survive a restart.

use std::time::Duration;

use hub_e2e::{AdminHttp, HubServer, OWNER, WsClient, events_where, json_body, worker_events};
use hubctl::token_sha256_hex;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

/// Lines `wrangler dev` itself prints after `Ready on` (its request log, warnings and errors), as opposed to the
/// Worker's own `console.log` output, which it prints as they are.
fn is_wranglers_own(line: &str) -> bool {
    const OWN: [&str; 6] = ["[wrangler", "⎔", "▲", "✘", "⛅", "─"];
    let trimmed = line.trim();
    trimmed.is_empty() || OWN.iter().any(|start| trimmed.starts_with(start))
}

fn untagged(line: &str) -> &str {
    hub_e2e::logs::untagged(line)
}

fn auth(token: &str) -> String {
    format!("Bearer {token}")
}

fn telemetry(seq: u64) -> Value {
    json!({"type": "telemetry", "epoch": "obs", "seq": seq, "ts": "2026-02-03T12:00:00Z",
           "data": {"battery": {"soc": seq}}})
}

/// Waits until the hub logged an event that `find` accepts; panics with the log tail otherwise.
fn wait_for_event(hub: &HubServer, what: &str, find: impl Fn(&[Value]) -> bool) {
    let found = hub
        .log_stream()
        .wait_for(0, WAIT, |text| find(&worker_events(text)).then_some(()));
    assert!(
        found.is_some(),
        "no {what} in the log:\n{}",
        hub.log_tail(40)
    );
}

/// A device, a dashboard, a wrong token and admin calls: the Worker logs only JSON events, none with a secret,
/// and the fleet metrics of the session arrive as `metric` events with the dataset's columns.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_logs_json_events_and_metrics_and_never_a_secret() {
    let hub = HubServer::start_lenient(&[]);
    let admin = AdminHttp::new(&hub);
    let id = "obs-dev";
    let token = admin.create_device(id).await;
    let (_, dashboard_token) = admin.create_dashboard(json!([id]), "control").await;
    let mut device = WsClient::connect(
        &hub.ws_url(&format!("/ws/device/{id}")),
        &[("Authorization", &auth(&token))],
    )
    .await
    .expect("the device connects");
    let mut dashboard = WsClient::connect(
        &hub.ws_url(&format!("/ws/dashboard/{id}")),
        &[("Authorization", &auth(&dashboard_token))],
    )
    .await
    .expect("the dashboard connects");
    assert_eq!(dashboard.recv_json(WAIT).await["type"], "snapshot");
    let wrong = admin.create_device("obs-other").await;
    let refusal = WsClient::expect_refused(
        &hub.ws_url(&format!("/ws/device/{id}")),
        &[("Authorization", &auth(&wrong))],
    )
    .await;
    assert_eq!(refusal.status, 403);
    let shown = admin
        .call("GET", &format!("/admin/devices/{id}"), None)
        .await;
    assert_eq!(shown.status, 200);
    let wrong_admin =
        hubctl::credential::new_token(telemetry_protocol::TokenKind::Admin).expect("a token");
    let refused = admin
        .call_as(
            OWNER,
            "GET",
            "/admin/devices",
            None,
            &[("Authorization", &auth(&wrong_admin))],
        )
        .await;
    assert_eq!(refused.status, 403);
    // The frames come last, right before the close: a connection's tally counts from the object's last wake-up,
    // and an object idle for about 10 s may hibernate.
    for seq in 1..=3 {
        device.send_json(&telemetry(seq)).await;
        assert_eq!(device.recv_json(WAIT).await["type"], "ack");
    }
    device.send_text("{oops").await;
    assert_eq!(device.recv_json(WAIT).await["code"], "invalid_json");
    assert_eq!(device.close(1000, "bye").await.0, 1000);
    wait_for_event(&hub, "device_disconnected", |events| {
        !events_where(events, "device_disconnected", &[("device_id", json!(id))]).is_empty()
    });
    dashboard.close(1000, "bye").await;

    let log = hub.logs();
    let ready = log.find("Ready on").expect("the hub got ready");
    let started = ready + log[ready..].find('\n').unwrap_or(0);
    // What wrangler's process printed (tagged by the drain); the harness's own lines have no tag.
    let printed = log[started..]
        .lines()
        .filter(|line| line.starts_with("[out] ") || line.starts_with("[err] "));
    for line in printed.map(untagged) {
        if is_wranglers_own(line) {
            continue;
        }
        let event: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a Worker log line is not JSON ({e}): {line}\n{log}"));
        assert!(event["event"].is_string(), "no event: {line}");
        assert!(
            event
                .as_object()
                .is_some_and(|o| o.values().all(|v| !v.is_object() && !v.is_array())),
            "keys are flat: {line}"
        );
    }
    let admin_token = hub.admin_token().to_owned();
    for secret in [&token, &wrong, &dashboard_token, &admin_token, &wrong_admin] {
        assert!(!log.contains(secret.as_str()), "a token reached the log");
        let hash = token_sha256_hex(secret);
        assert!(!log.contains(&hash), "a token's hash reached the log");
        assert!(
            !log.contains(&hash.to_uppercase()),
            "a token's hash reached the log"
        );
    }

    let events = worker_events(&log);
    let metric = |name: &str, with: &[(&str, Value)]| {
        let mut all = vec![("blob1", json!(name))];
        all.extend_from_slice(with);
        events_where(&events, "metric", &all).len()
    };
    assert_eq!(
        metric(
            "device_connected",
            &[
                ("index1", json!(id)),
                ("blob2", json!(id)),
                ("blob3", json!("connected"))
            ]
        ),
        1,
        "one connect"
    );
    assert_eq!(
        metric(
            "auth_refused",
            &[
                ("blob2", json!(id)),
                ("blob3", json!("wrong token")),
                ("blob4", json!("device")),
                ("double2", json!(403.0))
            ]
        ),
        1,
        "the wrong token, by reason"
    );
    assert_eq!(
        metric(
            "auth_refused",
            &[
                ("blob3", json!("wrong token")),
                ("blob4", json!("admin")),
                ("index1", json!("auth_refused")),
            ]
        ),
        1,
        "the wrong admin token"
    );
    let disconnects = events_where(
        &events,
        "metric",
        &[
            ("blob1", json!("device_disconnected")),
            ("blob2", json!(id)),
        ],
    );
    assert_eq!(disconnects.len(), 1, "one disconnect");
    let gone = disconnects[0];
    assert_eq!(gone["double2"], 1000.0, "with its close code");
    assert_eq!(gone["double4"], 4.0, "three samples and a bad frame");
    assert_eq!(gone["double6"], 3.0, "three samples accepted");
    let written: f64 = events_where(
        &events,
        "metric",
        &[("blob1", json!("history_written")), ("blob2", json!(id))],
    )
    .iter()
    .map(|m| m["double6"].as_f64().unwrap_or(0.0))
    .sum();
    assert_eq!(
        written, 3.0,
        "the samples were written when the device left"
    );
    assert!(
        metric(
            "admin_call",
            &[
                ("blob2", json!(id)),
                ("blob3", json!("show_device")),
                ("double2", json!(200.0))
            ]
        ) >= 1,
        "the admin call"
    );
    assert_eq!(
        events_where(
            &events,
            "auth_refused",
            &[
                ("device_id", json!(id)),
                ("reason", json!("wrong token")),
                ("client", json!("127.0.0.1"))
            ]
        )
        .len(),
        1,
        "the refusal's log event"
    );
}

/// The device object's counters: shown by `GET /admin/devices/{id}` with the session's counts, written with the
/// history (no row of their own while samples flow) and kept across a restart of the hub.
#[tokio::test(flavor = "multi_thread")]
async fn counters_show_in_the_admin_api_and_survive_a_restart() {
    let mut hub = HubServer::start_lenient(&[]);
    let id = "obs-count";
    let token = AdminHttp::new(&hub).create_device(id).await;
    let url = hub.ws_url(&format!("/ws/device/{id}"));
    let mut device = WsClient::connect(&url, &[("Authorization", &auth(&token))])
        .await
        .expect("connects");
    let items: Vec<Value> = (1..=250)
        .map(|seq| {
            let mut item = telemetry(seq);
            item.as_object_mut().map(|o| o.remove("type"));
            item
        })
        .collect();
    let batch = json!({"type": "batch", "items": items});
    device.send_json(&batch).await;
    assert_eq!(device.recv_json(WAIT).await["seq"], 250);
    device.send_binary(vec![1, 2, 3]).await;
    assert_eq!(device.recv_json(WAIT).await["code"], "binary_not_supported");
    device.close(1000, "bye").await;
    wait_for_event(&hub, "device_disconnected", |events| {
        !events_where(events, "device_disconnected", &[("device_id", json!(id))]).is_empty()
    });

    let counters = show_counters(&hub, id).await;
    assert_eq!(counters["device_connections"], 1);
    assert_eq!(counters["device_frames"], 2);
    assert!(counters["device_bytes"].as_u64().unwrap_or(0) > 250 * 50);
    assert_eq!(counters["samples_accepted"], 250);
    assert_eq!(
        counters["frames_refused"],
        json!({"binary_not_supported": 1})
    );
    assert_eq!(counters["closes"], json!({"1000": 1}));
    assert!(counters["rows_written"].as_u64().unwrap_or(0) >= 2);
    let since = counters["since"].as_str().expect("since").to_owned();
    eprintln!("observability: counters after one session: {counters}");

    hub.restart();
    let after = show_counters(&hub, id).await;
    for key in [
        "device_connections",
        "device_frames",
        "samples_accepted",
        "closes",
        "frames_refused",
    ] {
        assert_eq!(after[key], counters[key], "{key} survives the restart");
    }
    assert_eq!(
        after["since"],
        since.as_str(),
        "counting still starts at the first session"
    );

    let mut again = WsClient::connect(
        &hub.ws_url(&format!("/ws/device/{id}")),
        &[("Authorization", &auth(&token))],
    )
    .await
    .expect("reconnects");
    again.send_json(&telemetry(251)).await;
    assert_eq!(again.recv_json(WAIT).await["seq"], 251);
    again.close(1000, "bye").await;
    let found = hub.log_stream().wait_for(0, WAIT, |text| {
        (events_where(
            &worker_events(text),
            "device_disconnected",
            &[("device_id", json!(id))],
        )
        .len()
            >= 2)
            .then_some(())
    });
    assert!(
        found.is_some(),
        "the second disconnect:\n{}",
        hub.log_tail(30)
    );
    let last = show_counters(&hub, id).await;
    assert_eq!(last["device_connections"], 2);
    assert_eq!(last["samples_accepted"], 251);
    assert_eq!(last["closes"], json!({"1000": 2}));
}

async fn show_counters(hub: &HubServer, id: &str) -> Value {
    let shown = AdminHttp::new(hub)
        .call("GET", &format!("/admin/devices/{id}"), None)
        .await;
    assert_eq!(shown.status, 200, "{shown:?}");
    let body = json_body(&shown);
    eprintln!("observability: storage of {id}: {}", body["storage"]);
    assert!(body["counters"].is_object(), "counters in {body}");
    body["counters"].clone()
}
