//! Unit tests of the send window (order, pacing, refusals) and the batch encoder.

use serde_json::{Map, Value, json};
use telemetry_protocol::{DeviceMessage, ErrorCode, parse_device_frame};

use super::*;

fn sample(seq: u64, payload_bytes: usize) -> Telemetry {
    let mut data = Map::new();
    data.insert("pad".into(), Value::String("x".repeat(payload_bytes)));
    data.insert("soc".into(), json!(85));
    Telemetry {
        epoch: "0123456789abcdef".into(),
        seq,
        ts: "2026-02-03T12:00:00.000Z".into(),
        data,
        device_id: None,
    }
}

fn plan(after: u64, max_items: usize) -> Option<SendPlan> {
    Some(SendPlan::Samples { after, max_items })
}

#[test]
fn nothing_to_send_when_everything_was_sent() {
    let outbox = Outbox::new(5, 5);
    assert_eq!(outbox.next(Instant::now()), None);
    assert_eq!(outbox.in_flight(), 0);
}

#[test]
fn a_live_sample_goes_out_at_once_when_nothing_is_in_flight() {
    let now = Instant::now();
    let mut outbox = Outbox::new(0, 0);
    outbox.on_sampled(1);
    assert_eq!(outbox.next(now), plan(0, 500));
    outbox.on_sent(1, now);
    assert_eq!(outbox.next(now), None);
    outbox.on_sampled(2);
    assert_eq!(outbox.next(now), None, "sample 1 is in flight");
    outbox.on_ack(1, now);
    assert_eq!(outbox.next(now), plan(1, 500));
    outbox.on_sent(2, now);
    outbox.on_ack(2, now);
    assert_eq!(outbox.next(now), None);
}

#[test]
fn the_backlog_goes_first_in_batches_one_at_a_time() {
    let mut now = Instant::now();
    let mut outbox = Outbox::new(100, 1300);
    assert_eq!(outbox.next(now), plan(100, 500));
    outbox.on_sent(600, now);
    outbox.on_sampled(1301);
    now += MIN_BATCH_SPACING;
    assert_eq!(outbox.next(now), None, "one batch in flight");
    assert_eq!(outbox.on_ack(600, now), Some(600));
    assert_eq!(outbox.next(now), plan(600, 500));
    outbox.on_sent(1100, now);
    outbox.on_ack(1100, now);
    now += MIN_BATCH_SPACING;
    // The live sample taken meanwhile rides at the tail of the last batch: order is kept.
    assert_eq!(outbox.next(now), plan(1100, 500));
    outbox.on_sent(1301, now);
    outbox.on_ack(1301, now);
    assert_eq!(outbox.next(now), None);
}

#[test]
fn stale_and_excessive_acks_are_handled() {
    let now = Instant::now();
    let mut outbox = Outbox::new(10, 20);
    outbox.on_sent(20, now);
    assert_eq!(outbox.on_ack(5, now), None);
    assert_eq!(outbox.on_ack(15, now), Some(15));
    assert_eq!(outbox.in_flight(), 5);
    assert_eq!(outbox.on_ack(15, now), None);
    // An ack beyond what exists is clamped to the newest sample.
    assert_eq!(outbox.on_ack(99, now), Some(20));
    assert_eq!(outbox.in_flight(), 0);
}

#[test]
fn an_ack_for_unsent_samples_skips_them() {
    // After a reconnect the hub may already hold samples whose ack was lost.
    let now = Instant::now();
    let mut outbox = Outbox::new(10, 30);
    outbox.on_sent(20, now);
    assert_eq!(outbox.on_ack(25, now), Some(25));
    assert_eq!(outbox.in_flight(), 0);
    assert_eq!(outbox.next(now), None, "a batch went out just now");
    assert_eq!(outbox.next(now + MIN_BATCH_SPACING), plan(25, 500));
}

#[test]
fn the_ack_deadline_runs_only_while_something_is_in_flight() {
    let t0 = Instant::now();
    let timeout = Duration::from_secs(30);
    let mut outbox = Outbox::new(0, 3);
    assert_eq!(outbox.ack_deadline(timeout), None);
    outbox.on_sent(3, t0);
    assert_eq!(outbox.ack_deadline(timeout), Some(t0 + timeout));
    let t1 = t0 + Duration::from_secs(5);
    outbox.on_ack(2, t1);
    assert_eq!(outbox.ack_deadline(timeout), Some(t1 + timeout));
    outbox.on_ack(3, t1);
    assert_eq!(outbox.ack_deadline(timeout), None);
}

/// Runs a window over `(0, newest]` against a hub that acks every message `rtt` after it leaves, sampling one
/// more every `interval`, for `span`; returns when each message left and how many samples it carried.
fn simulate(
    newest: u64,
    rtt: Duration,
    interval: Duration,
    span: Duration,
) -> Vec<(Duration, u64)> {
    let t0 = Instant::now();
    let mut outbox = Outbox::new(0, newest);
    let mut newest = newest;
    let mut next_sample = t0 + interval;
    let mut ack: Option<(Instant, u64)> = None;
    let mut sends = Vec::new();
    let mut now = t0;
    while now < t0 + span {
        if now >= next_sample {
            newest += 1;
            outbox.on_sampled(newest);
            next_sample += interval;
        }
        if let Some((due, seq)) = ack
            && now >= due
        {
            outbox.on_ack(seq, now);
            ack = None;
        }
        if let Some(SendPlan::Samples { after, max_items }) = outbox.next(now) {
            let through = newest.min(after + max_items as u64);
            outbox.on_sent(through, now);
            sends.push((now - t0, through - after));
            ack = Some((now + rtt, through));
        }
        now += Duration::from_millis(1);
    }
    sends
}

#[test]
fn batches_leave_at_most_ten_a_second_however_fast_the_hub_acks() {
    // A day at 1 Hz waiting, a hub on the LAN that acks in 1 ms.
    let sends = simulate(
        86_400,
        Duration::from_millis(1),
        Duration::from_secs(1),
        Duration::from_secs(3),
    );
    for window_start in 0..3000u64 {
        let from = Duration::from_millis(window_start);
        let in_window = sends
            .iter()
            .filter(|(at, _)| *at >= from && *at < from + Duration::from_secs(1))
            .count();
        assert!(
            in_window <= 10,
            "{in_window} batches in the second after {from:?}"
        );
    }
    assert!(sends.len() >= 29, "paced, not stalled: {}", sends.len());
    assert!(sends.iter().all(|(_, count)| *count == 500));
}

#[test]
fn a_30_s_outage_is_caught_up_at_once() {
    let sends = simulate(
        30,
        Duration::from_millis(50),
        Duration::from_secs(1),
        Duration::from_millis(900),
    );
    assert_eq!(sends, [(Duration::ZERO, 30)]);
}

#[test]
fn live_samples_at_the_interval_are_never_held_back() {
    let mut now = Instant::now();
    let mut outbox = Outbox::new(0, 600);
    outbox.on_sent(500, now);
    outbox.on_ack(500, now);
    outbox.on_sent(600, now + Duration::from_millis(10));
    now += Duration::from_millis(20);
    outbox.on_ack(600, now);
    // Caught up 20 ms after the last batch: the next live sample leaves as soon as it is taken.
    outbox.on_sampled(601);
    assert_eq!(outbox.batch_due(), None);
    assert_eq!(outbox.next(now), plan(600, 500));
    outbox.on_sent(601, now);
    assert_eq!(outbox.next(now), None);
}

#[test]
fn a_waiting_batch_is_due_one_spacing_after_the_previous_batch() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new(0, 1000);
    assert_eq!(outbox.batch_due(), None, "the first batch is not paced");
    assert_eq!(outbox.next(t0), plan(0, 500));
    outbox.on_sent(500, t0);
    assert_eq!(
        outbox.batch_due(),
        None,
        "nothing is due while a batch is in flight"
    );
    let acked_at = t0 + Duration::from_millis(30);
    outbox.on_ack(500, acked_at);
    assert_eq!(outbox.batch_due(), Some(t0 + MIN_BATCH_SPACING));
    assert_eq!(outbox.next(acked_at), None);
    assert_eq!(outbox.next(t0 + Duration::from_millis(99)), None);
    assert_eq!(outbox.next(t0 + MIN_BATCH_SPACING), plan(500, 500));
    // A slow hub paces itself: an ack later than the spacing lets the next batch go at once.
    outbox.on_sent(1000, t0 + MIN_BATCH_SPACING);
    outbox.on_sampled(1002);
    let late = t0 + Duration::from_secs(1);
    outbox.on_ack(1000, late);
    assert_eq!(outbox.next(late), plan(1000, 500));
}

#[test]
fn a_lone_sample_does_not_delay_the_next_batch() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new(0, 1);
    outbox.on_sent(1, t0);
    outbox.on_ack(1, t0);
    outbox.on_sampled(5);
    assert_eq!(outbox.next(t0), plan(1, 500));
}

#[test]
fn an_error_with_nothing_in_flight_is_only_noted() {
    let mut outbox = Outbox::new(3, 3);
    assert_eq!(outbox.on_error(ErrorCode::InvalidMessage), Refusal::Noted);
    outbox.on_sampled(4);
    assert_eq!(outbox.next(Instant::now()), plan(3, 500));
}

#[test]
fn a_refused_message_in_flight_ends_the_connection() {
    let mut outbox = Outbox::new(0, 3);
    outbox.on_sent(3, Instant::now());
    assert_eq!(outbox.on_error(ErrorCode::Internal), Refusal::EndConnection);
}

#[test]
fn a_flood_limit_stops_all_sending_until_the_reconnect() {
    let t0 = Instant::now();
    let mut outbox = Outbox::new(0, 700);
    outbox.on_sent(500, t0);
    assert_eq!(outbox.on_error(ErrorCode::RateLimited), Refusal::AwaitClose);
    assert!(outbox.is_held());
    // Even an ack that slips through and new samples send nothing more on this socket.
    outbox.on_ack(500, t0);
    outbox.on_sampled(701);
    let later = t0 + Duration::from_secs(5);
    assert_eq!(outbox.next(later), None);
    assert_eq!(outbox.batch_due(), None, "no wake-up to send either");
    // The same answer with nothing in flight: the hub closes anyway.
    let mut idle = Outbox::new(9, 9);
    assert_eq!(idle.on_error(ErrorCode::RateLimited), Refusal::AwaitClose);
    // The next connection starts a fresh window from the store and resends.
    assert_eq!(Outbox::new(500, 701).next(later), plan(500, 500));
}

#[test]
fn one_sample_is_encoded_as_telemetry() {
    let encoded = encode(vec![sample(7, 10)]).expect("encode").expect("some");
    assert_eq!((encoded.through, encoded.count), (7, 1));
    let parsed: DeviceMessage = serde_json::from_str(&encoded.text).expect("json");
    assert_eq!(parsed, DeviceMessage::Telemetry(sample(7, 10)));
    assert_eq!(encode(Vec::new()).expect("encode"), None);
}

#[test]
fn batches_hold_at_most_500_samples() {
    let samples: Vec<_> = (1..=600).map(|seq| sample(seq, 0)).collect();
    let encoded = encode(samples).expect("encode").expect("some");
    assert_eq!((encoded.count, encoded.through), (500, 500));
    assert!(
        parse_device_frame(&encoded.text).is_ok(),
        "the hub's own parser accepts it"
    );
}

#[test]
fn batches_stay_under_60_kib() {
    let samples: Vec<_> = (1..=100).map(|seq| sample(seq, 2000)).collect();
    let encoded = encode(samples).expect("encode").expect("some");
    assert!(
        encoded.text.len() <= MAX_BATCH_BYTES,
        "{}",
        encoded.text.len()
    );
    assert!(
        encoded.count >= 25 && encoded.count < 100,
        "{}",
        encoded.count
    );
    let DeviceMessage::Batch(batch) = serde_json::from_str(&encoded.text).expect("json") else {
        panic!("not a batch");
    };
    let seqs: Vec<u64> = batch.items.iter().map(|s| s.seq).collect();
    assert_eq!(seqs, (1..=encoded.count as u64).collect::<Vec<_>>());
}

#[test]
fn an_oversized_first_sample_still_goes_alone() {
    let encoded = encode(vec![sample(1, 70_000), sample(2, 10)])
        .expect("encode")
        .expect("some");
    assert_eq!(encoded.count, 1);
    assert_eq!(encoded.through, 1);
}

#[test]
fn the_size_estimate_matches_the_real_encoding() {
    for n in [2usize, 10, 77] {
        let samples: Vec<_> = (1..=n as u64).map(|seq| sample(seq, 100)).collect();
        let estimate: usize = BATCH_ENVELOPE_BYTES
            + samples
                .iter()
                .map(|s| encoded_len(s).expect("len") + 1)
                .sum::<usize>();
        let real = encode(samples).expect("encode").expect("some").text.len();
        assert!(
            estimate >= real && estimate - real <= 2,
            "{estimate} vs {real}"
        );
    }
}
