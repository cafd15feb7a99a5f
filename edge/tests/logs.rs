//! The agent's log output during a run with refusals, commands and shutdown: status lines are there, the
//! authentication failure is reported once, and the token appears nowhere.

use std::time::Duration;

use edge_agent::testing::{
    Captured, FakeHub, Mode, RunningAgent, config, device_token, scratch_dir, store_in,
};
use serde_json::json;
use tokio::time::sleep;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_have_status_lines_and_never_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let hub = FakeHub::start(Mode::Refuse(401)).await;
    let dir = scratch_dir();
    let token = device_token();
    let cap = [("EDGE_CONNECTION__BACKOFF_CAP_SECS", "0.4")];
    let agent = RunningAgent::start(config(&hub.url(), &token, &store_in(&dir), &cap));
    hub.wait_for(Duration::from_secs(10), "three refusals", |r| {
        r.handshakes.len() >= 3
    })
    .await;
    hub.set_mode(Mode::Accept);
    hub.wait_for(Duration::from_secs(10), "samples", |r| {
        r.accepted.len() >= 3
    })
    .await;
    assert!(hub.send_command("c-1", "ping", json!({})));
    hub.wait_for(Duration::from_secs(10), "the result", |r| {
        r.frames.iter().any(|f| f["id"] == "c-1")
    })
    .await;
    sleep(Duration::from_millis(100)).await;
    agent.stop().await;

    let logs = captured.text();
    assert!(
        !logs.contains(&token[5..]),
        "the token leaked into the logs:\n{logs}"
    );
    assert!(!logs.contains(&token[20..40]));
    let loud = logs
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("authentication failed (HTTP 401)"));
    assert_eq!(loud.count(), 1, "reported loudly once:\n{logs}");
    for line in [
        "connecting",
        "connected",
        "reconnecting in",
        "command done",
        "sample store persisted",
    ] {
        assert!(logs.contains(line), "no {line:?} in:\n{logs}");
    }
}
