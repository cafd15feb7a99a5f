//! Fast retries against a fake hub on port 0 with the production backoff (1 s base, 60 s cap, fast retries for
//! 60 s): a hub that drops every socket and is back at once (a deploy) sees the agent again within the 1.5 s
//! window, and a hub down for seconds (a restart) sees it again within 2 s of its return, with every sample.

use std::time::Duration;

use edge_agent::testing::{
    FakeHub, Mode, RunningAgent, assert_contiguous_from_1, config, device_token, scratch_dir,
    store_in,
};
use tokio::time::{Instant, sleep};

const WAIT: Duration = Duration::from_secs(20);

/// The agent's real reconnect schedule, with connections counted as stable after 0.5 s instead of 30 s.
const PRODUCTION_BACKOFF: [(&str, &str); 4] = [
    ("EDGE_CONNECTION__BACKOFF_BASE_SECS", "1"),
    ("EDGE_CONNECTION__BACKOFF_CAP_SECS", "60"),
    ("EDGE_CONNECTION__BACKOFF_RESET_AFTER_SECS", "0.5"),
    ("EDGE_CONNECTION__FAST_RETRY_SECS", "60"),
];

/// Waits until the hub has seen `count` handshakes and returns when the last one arrived.
async fn handshake_number(hub: &FakeHub, count: usize) -> Instant {
    hub.wait_for(WAIT, "a reconnect", |r| r.handshakes.len() >= count)
        .await;
    hub.record().handshakes[count - 1].at
}

/// Drops every socket, stays away for `outage`, comes back; returns how long after its return the agent's
/// next handshake arrived.
async fn outage(hub: &mut FakeHub, outage: Duration) -> Duration {
    let handshakes = hub.record().handshakes.len();
    hub.disappear();
    sleep(outage).await;
    hub.come_back().await;
    let back = Instant::now();
    handshake_number(hub, handshakes + 1).await - back
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_is_back_within_the_window_and_within_two_seconds_of_a_restarted_hub() {
    let mut hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let agent = RunningAgent::start(config(
        &hub.url(),
        &device_token(),
        &store_in(&dir),
        &PRODUCTION_BACKOFF,
    ));
    handshake_number(&hub, 1).await;
    sleep(Duration::from_secs(1)).await;

    // A deploy: every socket dropped, the hub there again at once. The first retry is drawn in [0, 1.5 s).
    let deploy = outage(&mut hub, Duration::ZERO).await;
    assert!(
        deploy < Duration::from_millis(1600),
        "back after {deploy:?}"
    );

    // A restart of some seconds: refused attempts every 0.75 to 1.5 s, so back within 2 s of the return
    // (the old backoff would be drawing from [0, 4 s) or [0, 8 s) by now).
    for down in [Duration::from_secs(5), Duration::from_secs(9)] {
        sleep(Duration::from_secs(1)).await;
        let late = outage(&mut hub, down).await;
        assert!(
            late < Duration::from_secs(2),
            "{down:?} down: back {late:?} after the hub"
        );
    }
    hub.wait_for(WAIT, "samples after the last outage", |r| {
        r.accepted.len() >= 100
    })
    .await;
    agent.stop().await;
    assert_contiguous_from_1(&hub.accepted_seqs());
}
