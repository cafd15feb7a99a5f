//! `set_interval` survives a restart: the real agent, stopped and started again on the same store against a fake
//! hub on port 0, samples at the interval the command set, until an operator edits `sample_interval_secs`, after
//! which the config's interval holds, also on the restart after that.

use std::time::Duration;

use edge_agent::AgentConfig;
use edge_agent::settings::file::FILE_NAME;
use edge_agent::testing::{
    FakeHub, Mode, RunningAgent, config, device_token, scratch_dir, store_in,
};
use serde_json::json;
use tempfile::TempDir;
use tokio::time::{Instant, sleep};

const WAIT: Duration = Duration::from_secs(10);

/// How long new samples are counted after a start.
const WINDOW: Duration = Duration::from_millis(2500);

/// The test config (sampling every 50 ms) with the store in `dir`, and `sample_interval_secs` if given.
fn config_in(
    hub: &FakeHub,
    dir: &TempDir,
    token: &str,
    interval_secs: Option<&str>,
) -> AgentConfig {
    let extra: Vec<(&str, &str)> = interval_secs
        .map(|secs| ("EDGE_SAMPLE_INTERVAL_SECS", secs))
        .into_iter()
        .collect();
    config(&hub.url(), token, &store_in(dir), &extra)
}

/// Starts the agent and counts the samples it takes from its first new one through [`WINDOW`]; the agent is
/// stopped again after.
async fn samples_in_window(hub: &FakeHub, config: AgentConfig) -> usize {
    let newest_before = hub.accepted_seqs().into_iter().max().unwrap_or(0);
    let new_seqs = || {
        let mut seqs: Vec<u64> = hub
            .accepted_seqs()
            .into_iter()
            .filter(|&s| s > newest_before)
            .collect();
        seqs.dedup();
        seqs.len()
    };
    let agent = RunningAgent::start(config);
    let deadline = Instant::now() + WAIT;
    while new_seqs() == 0 {
        assert!(Instant::now() < deadline, "no new sample after the start");
        sleep(Duration::from_millis(10)).await;
    }
    sleep(WINDOW).await;
    let count = new_seqs();
    agent.stop().await;
    count
}

/// Starts the agent, sends `set_interval` with `seconds`, waits for its result and stops the agent.
async fn set_interval(hub: &FakeHub, config: AgentConfig, seconds: u64) {
    let agent = RunningAgent::start(config);
    let connections = hub.record().handshakes.len();
    hub.wait_for(WAIT, "a new connection", |r| {
        r.handshakes.len() > connections && !r.accepted.is_empty()
    })
    .await;
    let id = format!("set-{seconds}");
    let deadline = Instant::now() + WAIT;
    while !hub.send_command(&id, "set_interval", json!({ "seconds": seconds })) {
        assert!(
            Instant::now() < deadline,
            "the agent never took the command"
        );
        sleep(Duration::from_millis(20)).await;
    }
    hub.wait_for(WAIT, "the command's result", |r| {
        r.frames
            .iter()
            .any(|f| f["id"] == id.as_str() && f["ok"] == true)
    })
    .await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interval_a_command_set_holds_after_a_restart() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let token = device_token();
    set_interval(&hub, config_in(&hub, &dir, &token, None), 1).await;
    assert!(
        dir.path().join(FILE_NAME).exists(),
        "saved beside the store"
    );

    let at_one_second = samples_in_window(&hub, config_in(&hub, &dir, &token, None)).await;
    assert!(
        (2..=4).contains(&at_one_second),
        "{at_one_second} samples in 2.5 s after a restart; set_interval 1 gives 3, the config's 0.05 s gives 50"
    );
    let again = samples_in_window(&hub, config_in(&hub, &dir, &token, None)).await;
    assert!(
        (2..=4).contains(&again),
        "and after the next restart too: {again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_config_wins_over_the_command_and_the_command_s_setting_is_dropped() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let token = device_token();
    set_interval(&hub, config_in(&hub, &dir, &token, None), 2).await;

    let edited = samples_in_window(&hub, config_in(&hub, &dir, &token, Some("0.1"))).await;
    assert!(
        edited >= 10,
        "{edited} samples in 2.5 s with the config edited to 0.1 s"
    );
    assert!(
        !dir.path().join(FILE_NAME).exists(),
        "the stale setting is removed"
    );

    let back = samples_in_window(&hub, config_in(&hub, &dir, &token, None)).await;
    assert!(
        back >= 10,
        "{back} samples in 2.5 s: the command's 2 s came back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_settings_file_is_ignored_not_fatal() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    std::fs::write(dir.path().join(FILE_NAME), "{\"sample_interval_secs\": ").expect("write");
    let samples = samples_in_window(&hub, config_in(&hub, &dir, &device_token(), None)).await;
    assert!(
        samples >= 10,
        "{samples} samples in 2.5 s at the config's 0.05 s"
    );
}
