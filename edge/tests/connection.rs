//! The connection against a fake hub on port 0: the handshake, refusals, takeover, half-open sockets, the
//! text-ping keep-alive, TLS failures and shutdown.

use std::time::Duration;

use edge_agent::store::SampleStore;
use edge_agent::testing::{
    FakeHub, Mode, RunningAgent, assert_contiguous_from_1, config, device_token, scratch_dir,
    store_in,
};
use tokio::time::sleep;

const WAIT: Duration = Duration::from_secs(10);

fn gaps(hub: &FakeHub) -> Vec<Duration> {
    let record = hub.record();
    record
        .handshakes
        .windows(2)
        .map(|w| w[1].at - w[0].at)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_travels_only_in_the_authorization_header() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let token = device_token();
    let agent = RunningAgent::start(config(&hub.url(), &token, &store_in(&dir), &[]));
    hub.wait_for(WAIT, "three samples", |r| r.accepted.len() >= 3)
        .await;
    agent.stop().await;

    let record = hub.record();
    let handshake = &record.handshakes[0];
    assert_eq!(handshake.uri, "/ws/device/edge-test");
    assert_eq!(
        handshake.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert!(
        handshake
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("edge-agent/"))
    );
    let secret = &token[5..];
    for (name, value) in &handshake.headers {
        assert!(
            name == "authorization" || !value.contains(secret),
            "token in header {name}"
        );
    }
    assert!(!handshake.uri.contains(secret));
    assert!(
        record
            .frames
            .iter()
            .all(|f| !f.to_string().contains(secret)),
        "token in a frame"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_retried_slowly_then_recover() {
    for status in [401, 403] {
        let hub = FakeHub::start(Mode::Refuse(status)).await;
        let dir = scratch_dir();
        let cap = [("EDGE_CONNECTION__BACKOFF_CAP_SECS", "1")];
        let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &cap));
        sleep(Duration::from_millis(2500)).await;
        let attempts = hub.record().handshakes.len();
        assert!(
            (2..=3).contains(&attempts),
            "{status}: {attempts} attempts in 2.5 s"
        );
        assert!(
            gaps(&hub)
                .iter()
                .all(|gap| *gap >= Duration::from_millis(950)),
            "{status}: {:?}",
            gaps(&hub)
        );
        assert!(hub.record().accepted.is_empty());

        hub.set_mode(Mode::Accept);
        hub.wait_for(WAIT, "samples after the fix", |r| r.accepted.len() >= 40)
            .await;
        agent.stop().await;
        // Everything sampled while refused was kept and delivered first, in order.
        assert_contiguous_from_1(&hub.accepted_seqs());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_takeover_close_waits_the_cap_before_reconnecting() {
    let hub = FakeHub::start(Mode::CloseWith(4000)).await;
    let dir = scratch_dir();
    let cap = [("EDGE_CONNECTION__BACKOFF_CAP_SECS", "1")];
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &cap));
    sleep(Duration::from_millis(2300)).await;
    agent.stop().await;
    let gaps = gaps(&hub);
    assert!(!gaps.is_empty() && gaps.len() <= 2, "{gaps:?}");
    assert!(
        gaps.iter().all(|gap| *gap >= Duration::from_millis(950)),
        "{gaps:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_hub_is_dropped_after_the_read_timeout() {
    let hub = FakeHub::start(Mode::Silent).await;
    let dir = scratch_dir();
    let timing = [
        ("EDGE_CONNECTION__PING_INTERVAL_SECS", "0.2"),
        ("EDGE_CONNECTION__READ_TIMEOUT_SECS", "0.6"),
    ];
    let agent = RunningAgent::start(config(
        &hub.url(),
        &device_token(),
        &store_in(&dir),
        &timing,
    ));
    hub.wait_for(WAIT, "a reconnect", |r| r.handshakes.len() >= 2)
        .await;
    agent.stop().await;
    let first_gap = gaps(&hub)[0];
    // Dropped at 0.6 s of silence, then at most one backoff ceiling (50 ms) before the next attempt.
    assert!(first_gap >= Duration::from_millis(590), "{first_gap:?}");
    assert!(first_gap < Duration::from_millis(1500), "{first_gap:?}");
}

/// A quiet agent (one sample, then nothing to say) that pings every 0.2 s and gives up after 0.6 s of silence.
const QUIET: [(&str, &str); 3] = [
    ("EDGE_SAMPLE_INTERVAL_SECS", "100"),
    ("EDGE_CONNECTION__PING_INTERVAL_SECS", "0.2"),
    ("EDGE_CONNECTION__READ_TIMEOUT_SECS", "0.6"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_pongs_alone_keep_a_quiet_connection() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &QUIET));
    sleep(Duration::from_secs(2)).await;
    agent.stop().await;

    let record = hub.record();
    assert_eq!(
        record.handshakes.len(),
        1,
        "text pongs count as hearing from the hub"
    );
    assert_eq!(
        record.protocol_pings, 0,
        "the keep-alive is text, not a WebSocket Ping"
    );
    let pings = &record.text_pings;
    assert!(
        (6..=11).contains(&pings.len()),
        "{} text pings in 2 s",
        pings.len()
    );
    let gaps: Vec<Duration> = pings.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|gap| *gap >= Duration::from_millis(150)),
        "pings follow the interval: {gaps:?}"
    );
    assert!(
        record.frames.iter().all(|f| f["type"] != "ping"),
        "pings are the exact text, recorded apart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_that_leaves_text_pings_unanswered_is_dropped() {
    let hub = FakeHub::start(Mode::Accept).await;
    hub.set_text_pongs(false);
    let dir = scratch_dir();
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &QUIET));
    hub.wait_for(WAIT, "a reconnect", |r| r.handshakes.len() >= 2)
        .await;
    agent.stop().await;
    let first_gap = gaps(&hub)[0];
    assert!(first_gap >= Duration::from_millis(590), "{first_gap:?}");
    let record = hub.record();
    let first_reconnect = record.handshakes[1].at;
    let unanswered = record.text_pings.iter().filter(|at| **at < first_reconnect);
    assert!(unanswered.count() >= 2, "it kept pinging until it gave up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hubs_protocol_pings_are_still_answered() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &[]));
    hub.wait_for(WAIT, "a sample", |r| !r.accepted.is_empty())
        .await;
    assert!(hub.send_protocol_ping(b"are-you-there"));
    hub.wait_for(WAIT, "the pong", |r| {
        r.protocol_pongs.iter().any(|p| p == b"are-you-there")
    })
    .await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_to_a_server_without_tls_fails_cleanly_and_retries() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let url = hub.url().replace("ws://", "wss://");
    let agent = RunningAgent::start(config(&url, &device_token(), &store_in(&dir), &[]));
    sleep(Duration::from_millis(800)).await;
    agent.stop().await;
    let record = hub.record();
    assert!(record.handshakes.is_empty() && record.frames.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_with_1000_and_seq_continues_after_a_restart() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let token = device_token();
    let agent = RunningAgent::start(config(&hub.url(), &token, &store_in(&dir), &[]));
    hub.wait_for(WAIT, "samples", |r| r.accepted.len() >= 5)
        .await;
    let took = agent.stop().await;
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
    assert_eq!(hub.record().closes, [(1000, "shutdown".to_owned())]);

    let before = hub.accepted_seqs().len();
    let epoch = SampleStore::open(&store_in(&dir), 10)
        .expect("store persisted")
        .epoch();
    let agent = RunningAgent::start(config(&hub.url(), &token, &store_in(&dir), &[]));
    hub.wait_for(WAIT, "samples after restart", |r| {
        r.accepted.len() >= before + 5
    })
    .await;
    agent.stop().await;
    assert_contiguous_from_1(&hub.accepted_seqs());
    assert!(
        hub.record()
            .accepted
            .iter()
            .all(|s| s["epoch"] == epoch.as_str())
    );
}
