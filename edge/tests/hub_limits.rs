//! The hub's defences, against a fake hub on port 0: `Retry-After` on a refused upgrade, a `rate_limited` error
//! followed by close 1008, and a backlog paced under the flood limits.

use std::time::Duration;

use edge_agent::testing::{
    Captured, FakeHub, FloodGate, FloodLimit, Mode, RunningAgent, assert_contiguous_from_1, config,
    device_token, prefill, scratch_dir, store_in,
};
use tokio::time::Instant;

const WAIT: Duration = Duration::from_secs(20);

// Current-thread runtimes: the agent's status lines are written on the test's thread, where they are captured.
#[tokio::test]
async fn a_429_with_retry_after_holds_the_next_attempt_back() {
    let (logs, _guard) = Captured::on_this_thread(tracing::Level::INFO);
    let hub = FakeHub::start(Mode::Throttle("2")).await;
    let dir = scratch_dir();
    let token = device_token();
    // The backoff alone would retry within 50 ms (cap 0.5 s).
    let agent = RunningAgent::start(config(&hub.url(), &token, &store_in(&dir), &[]));
    hub.wait_for(WAIT, "the refused attempt", |r| !r.handshakes.is_empty())
        .await;
    hub.set_mode(Mode::Accept);
    hub.wait_for(WAIT, "samples after the wait", |r| r.accepted.len() >= 3)
        .await;
    agent.stop().await;

    assert_contiguous_from_1(&hub.accepted_seqs());
    let record = hub.record();
    assert_eq!(record.handshakes.len(), 2, "one refusal, one success");
    let gap = record.handshakes[1].at - record.handshakes[0].at;
    assert!(gap >= Duration::from_secs(2), "retried after {gap:?}");
    assert!(gap < Duration::from_millis(2800), "retried after {gap:?}");

    let text = logs.text();
    let refusals: Vec<&str> = text.lines().filter(|l| l.contains("HTTP 429")).collect();
    assert_eq!(refusals.len(), 1, "one line per refusal:\n{text}");
    assert!(
        refusals[0].contains("WARN") && refusals[0].contains("retry after 2 s"),
        "{text}"
    );
    assert!(refusals[0].contains("reconnecting in 2.0 s"), "{text}");
    assert!(!text.contains(&token[5..]), "the token leaked:\n{text}");
}

#[tokio::test]
async fn a_rate_limited_batch_is_resent_only_after_an_ordinary_reconnect() {
    let (logs, _guard) = Captured::on_this_thread(tracing::Level::INFO);
    let hub = FakeHub::start(Mode::Accept).await;
    hub.rate_limit_next_frame();
    let dir = scratch_dir();
    prefill(&store_in(&dir), 50, 0);
    // A cap of 5 s: waiting the cap (as for 401/403/4000/4001) would show.
    let cap = [("EDGE_CONNECTION__BACKOFF_CAP_SECS", "5")];
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &cap));
    hub.wait_for(WAIT, "delivery after the reconnect", |r| {
        r.accepted.len() >= 60
    })
    .await;
    agent.stop().await;

    assert_contiguous_from_1(&hub.accepted_seqs());
    let record = hub.record();
    assert_eq!(record.rate_limited, 1);
    assert_eq!(
        record.frames_after_rate_limited, 0,
        "nothing was sent after the refusal"
    );
    assert_eq!(
        record.closes.first().map(|c| c.0),
        Some(1008),
        "the agent answered the hub's close: {:?}",
        record.closes
    );
    assert_eq!(record.handshakes.len(), 2);
    let gap = record.handshakes[1].at - record.handshakes[0].at;
    // The hub closes 300 ms after its error; the agent waits for that close, then the ordinary backoff.
    assert!(
        gap >= Duration::from_millis(300),
        "reconnected after {gap:?}"
    );
    assert!(
        gap < Duration::from_millis(1500),
        "reconnected after {gap:?}"
    );
    // The refused batch (samples 1 to 50) was never accepted: delivery from 1 proves it was resent.

    let text = logs.text();
    let closes: Vec<&str> = text.lines().filter(|l| l.contains("(1008 ")).collect();
    assert_eq!(closes.len(), 1, "reported once:\n{text}");
    assert!(
        closes[0].contains("WARN") && closes[0].contains("rate limited"),
        "{text}"
    );
    assert!(!text.contains("ERROR"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_is_paced_under_the_hubs_flood_limits() {
    // The hub's defaults scaled down, so a backlog of 8 batches of about 60 KiB would trip an unpaced agent.
    let limit = FloodLimit {
        frames_per_sec: 12.0,
        frame_burst: 4.0,
        bytes_per_sec: 700.0 * 1024.0,
        byte_burst: 128.0 * 1024.0,
    };
    let hub = FakeHub::start(Mode::Accept).await;
    hub.set_flood_limit(Some(limit));
    let dir = scratch_dir();
    prefill(&store_in(&dir), 420, 1000);
    let live = [("EDGE_SAMPLE_INTERVAL_SECS", "0.2")];
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &live));
    hub.wait_for(WAIT, "the backlog and live samples", |r| {
        r.accepted.len() >= 425
    })
    .await;
    agent.stop().await;

    assert_contiguous_from_1(&hub.accepted_seqs());
    let record = hub.record();
    assert_eq!(record.rate_limited, 0, "the agent tripped a flood limit");
    assert_eq!(record.handshakes.len(), 1);
    let arrivals = &record.batch_arrivals;
    assert!(arrivals.len() >= 7, "{:?}", record.batches);
    let span = arrivals[arrivals.len() - 1] - arrivals[0];
    let paced = Duration::from_millis(100) * (arrivals.len() as u32 - 1);
    assert!(
        span + Duration::from_millis(30) >= paced,
        "{} batches in {span:?}",
        arrivals.len()
    );
    // The same frames back to back would have tripped the limit: the test can fail.
    let at_once = Instant::now();
    let mut gate = FloodGate::new(&limit, at_once);
    assert!(
        !record
            .batches
            .iter()
            .all(|batch| gate.admit(&limit, batch.3, at_once)),
        "the limit is too loose to tell"
    );
}
