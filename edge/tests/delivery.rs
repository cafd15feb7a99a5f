//! Never losing a sample, against a fake hub on port 0: outages, large backlogs in paced batches, foreign acks.

use std::time::Duration;

use edge_agent::testing::{
    FakeHub, Mode, RunningAgent, assert_contiguous_from_1, config, device_token, prefill,
    scratch_dir, store_in,
};
use serde_json::Value;
use telemetry_protocol::limits::MAX_BATCH_ITEMS;
use tokio::time::sleep;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_loses_nothing_and_keeps_order() {
    let mut hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    // 100 samples a second: a 3 s outage stands for five minutes at 1 Hz.
    let fast = [("EDGE_SAMPLE_INTERVAL_SECS", "0.01")];
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &fast));
    hub.wait_for(WAIT, "samples before the outage", |r| {
        r.accepted.len() >= 20
    })
    .await;
    hub.disappear();
    let before = hub.accepted_seqs().len();
    sleep(Duration::from_secs(3)).await;
    hub.come_back().await;
    hub.wait_for(WAIT, "the backlog", |r| r.accepted.len() >= before + 300)
        .await;
    agent.stop().await;

    let seqs = hub.accepted_seqs();
    assert_contiguous_from_1(&seqs);
    let record = hub.record();
    // How many samples a batch holds depends on how fast the machine samples during the outage (under qemu
    // far fewer than natively); that the backlog went as batches at all is what matters here.
    assert!(
        record.batches.iter().any(|b| b.2 > 1),
        "the backlog went in batches: {:?}",
        record.batches
    );
    let epochs: std::collections::HashSet<_> =
        record.accepted.iter().map(|s| s["epoch"].clone()).collect();
    assert_eq!(epochs.len(), 1);
    // Original timestamps: strictly RFC 3339 with milliseconds, non-decreasing.
    let ts: Vec<&str> = record
        .accepted
        .iter()
        .filter_map(|s| s["ts"].as_str())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));
    assert!(ts.iter().all(|t| t.len() == 24 && t.ends_with('Z')));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_backlog_goes_first_in_batches_of_at_most_500_one_at_a_time() {
    let hub = FakeHub::start(Mode::Accept).await;
    hub.set_ack_delay(Duration::from_millis(50));
    let dir = scratch_dir();
    prefill(&store_in(&dir), 1234, 0);
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &[]));
    hub.wait_for(WAIT, "backlog and live samples", |r| {
        r.accepted.len() >= 1240
    })
    .await;
    agent.stop().await;

    assert_contiguous_from_1(&hub.accepted_seqs());
    let record = hub.record();
    assert_eq!(record.batches[0].0, 1);
    assert_eq!(record.batches[0].2, MAX_BATCH_ITEMS);
    assert!(
        record
            .batches
            .iter()
            .all(|b| b.2 <= MAX_BATCH_ITEMS && b.3 <= 60 * 1024)
    );
    assert!(
        !record.overlapping_batch,
        "a batch was sent before the previous one was acked"
    );
    // Live samples taken during the catch-up follow the backlog directly.
    assert!(
        record
            .accepted
            .iter()
            .skip(1234)
            .all(|s| s["data"]["n"].is_u64())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_samples_are_batched_under_60_kib() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    prefill(&store_in(&dir), 300, 1000);
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &[]));
    hub.wait_for(WAIT, "the backlog", |r| r.accepted.len() >= 300)
        .await;
    agent.stop().await;

    assert_contiguous_from_1(&hub.accepted_seqs());
    let record = hub.record();
    assert!(record.batches.len() >= 5, "{:?}", record.batches);
    assert!(
        record.batches.iter().all(|b| b.3 <= 60 * 1024),
        "{:?}",
        record.batches
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_for_another_epoch_are_ignored_and_the_samples_resent() {
    let hub = FakeHub::start(Mode::Accept).await;
    hub.set_ack_epoch(Some("someone-else"));
    let dir = scratch_dir();
    let timing = [("EDGE_CONNECTION__ACK_TIMEOUT_SECS", "0.4")];
    let agent = RunningAgent::start(config(
        &hub.url(),
        &device_token(),
        &store_in(&dir),
        &timing,
    ));
    hub.wait_for(WAIT, "sample 1 resent after the ack timeout", |r| {
        r.frames
            .iter()
            .filter(|f| frame_seqs(f).first() == Some(&1))
            .count()
            >= 2
    })
    .await;
    {
        let record = hub.record();
        assert!(record.handshakes.len() >= 2, "resent on a new connection");
        let firsts: Vec<Option<u64>> = record
            .frames
            .iter()
            .map(|f| frame_seqs(f).first().copied())
            .collect();
        assert!(
            firsts.iter().all(|first| *first == Some(1)),
            "only sample 1 onwards, again: {firsts:?}"
        );
    }
    hub.set_ack_epoch(None);
    hub.wait_for(WAIT, "delivery", |r| r.accepted.len() >= 20)
        .await;
    agent.stop().await;
    assert_contiguous_from_1(&hub.accepted_seqs());
}

/// The seqs a telemetry or batch frame carries.
fn frame_seqs(frame: &Value) -> Vec<u64> {
    match frame["type"].as_str() {
        Some("telemetry") => frame["seq"].as_u64().into_iter().collect(),
        Some("batch") => frame["items"]
            .as_array()
            .map(|items| items.iter().filter_map(|i| i["seq"].as_u64()).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
