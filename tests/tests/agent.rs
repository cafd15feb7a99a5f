//! The edge agent end to end: `edge_agent::run` in-process with the simulated sensor, against the real Worker
//! under `wrangler dev`, watched by real dashboards.
//!
//! The outage test puts a small TCP gate between the agent and the hub, so that after the Worker restarts a
//! dashboard can connect *before* the agent gets back in: the dashboard then sees the last sample the hub wrote
//! before the outage in its snapshot, every sample after it (resent or made during the outage) as telemetry, and
//! the history holds every seq once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hub_e2e::{Access, DashboardScope, HubServer, RunningAgent, WsClient};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet, block_in_place};
use tokio::time::sleep;

const WAIT: Duration = Duration::from_secs(15);

/// Provisions `device_id` and a control dashboard token on `hub`; returns (device token, dashboard token).
fn provision(hub: &HubServer, device_id: &str) -> (String, String) {
    let device = hub.provision_devices(&[device_id]).remove(0).token;
    let dashboard = hub
        .provision_dashboard(&DashboardScope::All, Access::Control)
        .token;
    (device, dashboard)
}

/// Connects a dashboard for `device_id` and returns it with its snapshot.
async fn dashboard(hub: &HubServer, device_id: &str, token: &str) -> (WsClient, Value) {
    let mut ws =
        WsClient::connect_bearer(&hub.ws_url(&format!("/ws/dashboard/{device_id}")), token).await;
    let snapshot = ws.recv_json(WAIT).await;
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    (ws, snapshot)
}

async fn next_telemetry(ws: &mut WsClient) -> Value {
    ws.recv_until(|m| m["type"] == "telemetry", WAIT).await
}

async fn command(ws: &mut WsClient, id: &str, name: &str, args: Value) -> Value {
    ws.send_json(&json!({"type": "command", "id": id, "name": name, "args": args}))
        .await;
    ws.recv_until(|m| m["type"] == "command_result" && m["id"] == id, WAIT)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_reach_a_dashboard_and_commands_round_trip() {
    let hub = block_in_place(HubServer::start);
    let (device_token, dashboard_token) = provision(&hub, "agent-live");
    let agent = RunningAgent::simulated(&hub.ws_url(""), "agent-live", &device_token, "0.2");
    let (mut ws, _) = dashboard(&hub, "agent-live", &dashboard_token).await;

    let first = next_telemetry(&mut ws).await;
    assert_eq!(first["device_id"], "agent-live");
    assert!(
        first["epoch"].as_str().is_some_and(|e| e.len() == 16),
        "{first}"
    );
    let data = &first["data"];
    assert!(
        data["battery"]["voltage"].is_number() && data["dropped_samples"] == 0,
        "{first}"
    );
    let second = next_telemetry(&mut ws).await;
    assert_eq!(second["seq"].as_u64(), first["seq"].as_u64().map(|s| s + 1));

    let pong = command(&mut ws, "c-ping", "ping", json!({})).await;
    assert_eq!(
        (&pong["ok"], &pong["detail"], &pong["device_id"]),
        (&json!(true), &json!("pong"), &json!("agent-live"))
    );
    let refused = command(&mut ws, "c-exec", "reboot", json!({})).await;
    assert_eq!(refused["ok"], false, "{refused}");

    let slower = command(&mut ws, "c-interval", "set_interval", json!({"seconds": 1})).await;
    assert_eq!(
        (&slower["ok"], &slower["detail"]),
        (&json!(true), &json!("interval set to 1 s"))
    );
    next_telemetry(&mut ws).await;
    let a = next_telemetry(&mut ws).await;
    let b = next_telemetry(&mut ws).await;
    let gap = timestamp_ms(&b["ts"]) - timestamp_ms(&a["ts"]);
    assert!(
        (900..=1500).contains(&gap),
        "samples {gap} ms apart after set_interval 1"
    );
    let took = agent.stop().await;
    assert!(took < Duration::from_secs(2), "stop took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_made_while_the_hub_was_down_reaches_a_dashboard_in_order() {
    let mut hub = block_in_place(HubServer::start);
    let (device_token, dashboard_token) = provision(&hub, "agent-outage");
    let gate = Gate::open_to(hub.port()).await;
    let agent = RunningAgent::simulated(&gate.url(), "agent-outage", &device_token, "0.2");

    let (mut before, _) = dashboard(&hub, "agent-outage", &dashboard_token).await;
    let mut seen = Vec::new();
    while seen.len() < 5 {
        seen.push(seq(&next_telemetry(&mut before).await));
    }
    assert_contiguous(&seen);
    drop(before);

    gate.close();
    block_in_place(|| hub.stop());
    sleep(Duration::from_secs(10)).await;
    block_in_place(|| hub.restart());

    // The snapshot holds the last sample the hub had written before it went down; samples it had received but
    // not yet written are still on the Pi, which keeps every sample until the hub says it is stored.
    let (mut after, snapshot) = dashboard(&hub, "agent-outage", &dashboard_token).await;
    let last_before = seq(&snapshot["last"]);
    assert!(last_before >= seen[0], "{snapshot}");
    gate.open();
    // About 50 samples were made during the outage (10 s at 5 Hz); wait for them and a few live ones.
    let mut delivered = vec![last_before];
    while delivered.len() < 60 {
        delivered.push(seq(&next_telemetry(&mut after).await));
    }
    assert_contiguous(&delivered);
    agent.stop().await;
    // The agent's clean stop closed its socket, so its object wrote what it held: every seq once, from the first.
    let newest = *delivered.last().expect("delivered");
    let auth = format!("Bearer {dashboard_token}");
    let csv = hub
        .http_get(
            "/api/devices/agent-outage/history.csv?from=0",
            &[("Authorization", &auth)],
        )
        .await;
    assert_eq!(csv.status, 200, "{csv:?}");
    let stored: Vec<u64> = csv
        .body
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').nth(3)?.parse().ok())
        .collect();
    assert_eq!(stored.first(), Some(&1), "{}", csv.body);
    assert_contiguous(&stored);
    assert!(
        stored.len() as u64 >= newest,
        "stored up to {:?}, delivered {newest}",
        stored.last()
    );
}

fn seq(sample: &Value) -> u64 {
    sample["seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("no seq in {sample}"))
}

fn assert_contiguous(seqs: &[u64]) {
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "missing, duplicated or out of order: {seqs:?}"
    );
}

/// Milliseconds since the epoch of an RFC 3339 UTC timestamp with milliseconds.
fn timestamp_ms(ts: &Value) -> i64 {
    let text = ts.as_str().unwrap_or_default();
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_millis()
}

/// A TCP pass-through to the hub that the test can close (dropping every connection) and open again.
struct Gate {
    port: u16,
    open: Arc<AtomicBool>,
    connections: Arc<std::sync::Mutex<JoinSet<()>>>,
    _accept: JoinHandle<()>,
}

impl Gate {
    async fn open_to(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the gate");
        let port = listener.local_addr().expect("addr").port();
        let open = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(std::sync::Mutex::new(JoinSet::new()));
        let (is_open, set) = (Arc::clone(&open), Arc::clone(&connections));
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !is_open.load(Ordering::SeqCst) {
                    continue;
                }
                let mut set = set
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                set.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", upstream)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self {
            port,
            open,
            connections,
            _accept: accept,
        }
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Refuses new connections and cuts the existing ones.
    fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .abort_all();
    }

    fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}
