//! Stored acknowledgements against a fake hub that keeps a history, on port 0: the store forgets a sample only
//! once the hub wrote it, the window keeps flowing while groups wait, and samples a hub lost (a lost group, a
//! crash) are sent again, so each ends up written exactly once. A hub without the extension gets the plain
//! delete-on-ack behaviour.

use std::path::Path;
use std::time::Duration;

use edge_agent::store::SampleStore;
use edge_agent::testing::{
    FakeHub, History, HistoryPolicy, Mode, RunningAgent, config, device_token, scratch_dir,
    store_in,
};
use tokio::time::sleep;

const WAIT: Duration = Duration::from_secs(20);

fn policy(within_secs: Option<u64>, group_every_ms: u64) -> HistoryPolicy {
    HistoryPolicy {
        within_secs,
        group_samples: 1_000_000,
        group_every: Duration::from_millis(group_every_ms),
    }
}

/// Opens the store once the stopped agent has let go of it.
async fn reopen(path: &Path) -> SampleStore {
    for _ in 0..100 {
        if let Ok(store) = SampleStore::open(path, 100_000) {
            return store;
        }
        sleep(Duration::from_millis(20)).await;
    }
    panic!("the store stays locked after the agent stopped");
}

/// The hub's record once it has written what it held when the agent closed.
async fn settled(hub: &FakeHub) -> std::sync::MutexGuard<'_, History> {
    hub.wait_for_history(WAIT, "the last group written", |h| h.holding.is_empty())
        .await;
    hub.history()
}

/// Every seq from 1 to the highest received was written exactly once.
fn assert_written_once(history: &History) {
    let highest = history.received.iter().map(|(s, _)| *s).max().unwrap_or(0);
    assert!(highest > 0, "nothing received");
    assert_eq!(history.written_twice(), Vec::<u64>::new(), "written twice");
    assert_eq!(
        history.written_prefix(),
        highest,
        "a gap in the history (lost: {:?})",
        history.lost
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_stored_acks_free_the_store_without_throttling_the_window() {
    // Groups by count, not by time, so the window is measured the same on a fast machine and under qemu.
    let hub = FakeHub::start(Mode::Store(HistoryPolicy {
        group_samples: 250,
        ..policy(Some(600), 60_000)
    }))
    .await;
    hub.history().foreign_stored_once = true;
    let dir = scratch_dir();
    let fast = [("EDGE_SAMPLE_INTERVAL_SECS", "0.01")];
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &fast));
    hub.wait_for_history(WAIT, "two stored runs", |h| {
        h.stored_sent.len() >= 2 && !h.holding.is_empty()
    })
    .await;
    let announced = hub.history().announced_prefix();
    agent.stop().await;

    let (announced, before_first) = {
        let history = settled(&hub).await;
        assert_eq!(history.offers, [Some("stored".to_owned())]);
        let before_first = history.received_before_first_stored.unwrap_or(0);
        assert!(
            before_first >= 200,
            "only {before_first} samples left before the first stored"
        );
        assert_written_once(&history);
        (announced.max(history.announced_prefix()), before_first)
    };
    let store = reopen(&store_in(&dir)).await;
    let forgotten = store.acked_through().expect("read");
    assert!(
        forgotten <= announced,
        "forgot through {forgotten}, only {announced} stored"
    );
    assert!(
        forgotten >= before_first as u64 / 2,
        "stored samples are forgotten: {forgotten}"
    );
    let kept = store.unacked(forgotten, 1).expect("read");
    assert_eq!(
        kept.first().map(|s| s.seq),
        Some(forgotten + 1),
        "the unannounced samples are kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_the_hub_lost_is_resent_after_the_timeout() {
    // `within=1`: unstored samples are resent 2 s after their ack.
    let hub = FakeHub::start(Mode::Store(policy(Some(1), 300))).await;
    let dir = scratch_dir();
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &[]));
    hub.wait_for_history(WAIT, "a first group", |h| h.written_prefix() >= 3)
        .await;
    hub.history().lose_next_group = true;
    hub.wait_for_history(WAIT, "a lost group", |h| !h.lost.is_empty())
        .await;
    let lost = hub.history().lost.clone();
    let last_lost = lost.iter().copied().max().unwrap_or(0);
    hub.wait_for_history(WAIT, "the lost group written", |h| {
        h.written_prefix() >= last_lost + 10
    })
    .await;
    agent.stop().await;

    let history = settled(&hub).await;
    assert_written_once(&history);
    assert_eq!(history.offers.len(), 1, "resent on the same connection");
    let arrivals = history.arrivals(lost[0]);
    assert!(arrivals.len() >= 2, "{} was not resent", lost[0]);
    let waited = arrivals[1] - arrivals[0];
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(8),
        "resent after {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_a_crashed_hub_never_wrote_are_resent_after_the_reconnect() {
    // `within=600`: no resend by timeout within the test; only the reconnect can bring them back.
    let hub = FakeHub::start(Mode::Store(policy(Some(600), 400))).await;
    let dir = scratch_dir();
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &[]));
    hub.wait_for_history(WAIT, "a first group", |h| h.written_prefix() >= 3)
        .await;
    hub.wait_for_history(WAIT, "samples held", |h| h.holding.len() >= 3)
        .await;
    hub.crash();
    hub.wait_for_history(WAIT, "the reconnect", |h| h.offers.len() >= 2)
        .await;
    let lost = hub.history().lost.clone();
    let last_lost = lost.iter().copied().max().unwrap_or(0);
    hub.wait_for_history(WAIT, "the lost samples written", |h| {
        h.written_prefix() >= last_lost + 10
    })
    .await;
    agent.stop().await;

    let history = settled(&hub).await;
    assert!(lost.len() >= 3, "{lost:?}");
    assert_written_once(&history);
    for seq in &lost {
        assert!(history.arrivals(*seq).len() >= 2, "{seq} was not resent");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_without_the_extension_gets_delete_on_ack() {
    let hub = FakeHub::start(Mode::Store(policy(None, 300))).await;
    let dir = scratch_dir();
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &[]));
    hub.wait_for_history(WAIT, "samples", |h| h.received.len() >= 40)
        .await;
    agent.stop().await;

    {
        let history = settled(&hub).await;
        assert_eq!(
            history.offers[0].as_deref(),
            Some("stored"),
            "the agent offers"
        );
        assert!(history.stored_sent.is_empty());
    }
    let store = reopen(&store_in(&dir)).await;
    let forgotten = store.acked_through().expect("read");
    assert!(forgotten >= 30, "acked samples are forgotten: {forgotten}");
    assert!(
        store.len().expect("read") <= 10,
        "{} samples kept",
        store.len().expect("read")
    );
}
