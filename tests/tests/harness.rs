//! Smoke tests of the harness itself against the real Worker: start, 404, logs, provisioning, restart, cleanup.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hub_e2e::worker_build::{PREBUILT_ENV, worker_bundle};
use hub_e2e::{Access, ConnectError, DashboardScope, HubServer, WsClient};
use serde_json::json;
use telemetry_protocol::DeviceId;

/// Set in the child process of `hub_dies_with_the_test_process`.
const ORPHAN_PROBE_ENV: &str = "HUB_E2E_ORPHAN_PROBE";

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn shared_hub_answers_plain_http() {
    let hub = HubServer::shared();
    let response = hub.http_get("/no/such/path", &[]).await;
    assert_eq!(response.status, 404, "{response:?}");
    let not_upgraded = hub.http_get("/ws/device/harness-any", &[]).await;
    assert_eq!(not_upgraded.status, 426, "{not_upgraded:?}");
    // The Worker sets `Upgrade: websocket` here, but workerd drops hop-by-hop headers from the response.
    assert!(
        not_upgraded.body.contains("upgrade_required"),
        "{not_upgraded:?}"
    );
    assert!(hub.http_url("/x").starts_with("http://127.0.0.1:"));
    assert!(hub.ws_url("/x").starts_with("ws://127.0.0.1:"));
}

#[tokio::test]
async fn refused_websocket_handshakes_carry_the_http_status() {
    let hub = HubServer::shared();
    match WsClient::connect(&hub.ws_url("/no/such/path"), &[("X-Test", "1")]).await {
        Err(ConnectError::Refused(refusal)) => assert_eq!(refusal.status, 404, "{refusal:?}"),
        other => panic!("expected a 404 refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn logs_hold_wranglers_output() {
    let hub = HubServer::shared();
    let logs = hub.logs();
    assert!(logs.contains("Ready on http://127.0.0.1:"), "{logs}");
}

#[tokio::test]
async fn provisioning_works_while_the_hub_runs() {
    let hub = HubServer::shared();
    let devices = hub.provision_devices(&["harness-smoke-1", "harness-smoke-2"]);
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0].device_id.as_str(), "harness-smoke-1");
    assert_ne!(devices[0].token, devices[1].token);
    let rows = hub
        .provisioner()
        .query("SELECT id FROM devices WHERE id LIKE 'harness-smoke-%' ORDER BY id");
    assert_eq!(rows.len(), 2, "{rows:?}");
    for device in &devices {
        assert!(
            !hub.logs().contains(&device.token),
            "a token reached the logs"
        );
    }
}

#[tokio::test]
async fn a_close_frame_ends_the_session_without_waiting_for_eof() {
    let hub = HubServer::shared();
    let device = &hub.provision_devices(&["harness-close-1"])[0];
    let url = hub.ws_url("/ws/device/harness-close-1");
    let mut first = WsClient::connect_bearer(&url, &device.token).await;
    let _second = WsClient::connect_bearer(&url, &device.token).await;
    let started = Instant::now();
    let (code, reason) = first.expect_close(WAIT).await;
    assert_eq!((code, reason.as_str()), (4000, "replaced"));
    assert!(first.has_ended());
    assert!(started.elapsed() < WAIT);
}

#[tokio::test]
async fn a_private_hub_restarts_on_its_port_with_its_state_and_vars() {
    let mut hub = HubServer::start_with_vars(&[("AUTH_FAILURE_LIMIT", "1000")]);
    let port = hub.port();
    let device = hub.provision_devices(&["restart-1"]).remove(0);
    let scope = DashboardScope::Devices(vec![DeviceId::parse("restart-1").expect("valid id")]);
    let dashboard = hub.provision_dashboard(&scope, Access::Read);
    let mut ws = WsClient::connect_bearer(&hub.ws_url("/ws/device/restart-1"), &device.token).await;
    ws.send_json(&json!({"type": "telemetry", "epoch": "e1", "seq": 7,
        "ts": "2026-01-01T00:00:00Z", "data": {"x": 1}}))
        .await;
    let ack = ws.recv_until(|m| m["type"] == "ack", WAIT).await;
    assert_eq!(ack["seq"], 7, "{ack}");
    drop(ws);
    hub.stop();
    assert!(!hub.is_running());
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "something still listens on {port} after stop"
    );
    hub.restart();
    assert_eq!(hub.port(), port);
    assert_eq!(hub.http_get("/nope", &[]).await.status, 404);
    let rows = hub
        .provisioner()
        .query("SELECT id FROM devices WHERE id = 'restart-1'");
    assert_eq!(rows.len(), 1, "D1 state lost across restart: {rows:?}");
    let url = hub.ws_url("/ws/dashboard/restart-1");
    let mut watcher = WsClient::connect_bearer(&url, &dashboard.token).await;
    let snapshot = watcher.recv_until(|m| m["type"] == "snapshot", WAIT).await;
    assert_eq!(
        snapshot["last"]["seq"], 7,
        "Durable Object state lost: {snapshot}"
    );
    assert!(hub.logs().contains("--- restarting ---"));
    // wrangler hides values that come from .dev.vars; once per start.
    let from_dev_vars = r#"env.AUTH_FAILURE_LIMIT ("(hidden)")"#;
    assert_eq!(
        hub.logs().matches(from_dev_vars).count(),
        2,
        "{}",
        hub.logs()
    );
}

/// Runs a hub in a child test process that exits without destructors; nothing of the hub may survive it.
#[test]
fn hub_dies_with_the_test_process() {
    worker_bundle();
    let exe = std::env::current_exe().expect("path of the test binary");
    let started = Instant::now();
    let output = Command::new(exe)
        .args(["orphan_probe", "--exact", "--ignored", "--nocapture"])
        .env(ORPHAN_PROBE_ENV, "1")
        .env(PREBUILT_ENV, "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the probe");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| -> u32 {
        stdout
            .split(name)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("probe printed no {name}: {stdout}"))
    };
    let (pgid, port) = (field("PGID="), field("PORT="));
    let deadline = Instant::now() + Duration::from_secs(15);
    while group_exists(pgid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !group_exists(pgid),
        "process group {pgid} outlived its test process"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port as u16)).is_err());
    eprintln!("probe and cleanup took {:?}", started.elapsed());
}

/// The child half of `hub_dies_with_the_test_process`: starts a hub and exits without dropping it.
#[test]
#[ignore = "run by hub_dies_with_the_test_process"]
fn orphan_probe() {
    if std::env::var(ORPHAN_PROBE_ENV).is_err() {
        return;
    }
    let hub = HubServer::start();
    let pgid = hub.process_group().expect("the hub runs");
    println!("PGID={pgid} PORT={}", hub.port());
    std::process::exit(0);
}

fn group_exists(pgid: u32) -> bool {
    Command::new("kill")
        .args(["-0", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
