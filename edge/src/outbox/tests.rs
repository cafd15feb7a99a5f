//! Unit tests of the send window and the batch encoder.

use serde_json::{Map, Value, json};
use telemetry_protocol::{DeviceMessage, parse_device_frame};

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
    assert_eq!(outbox.next(), None);
    assert_eq!(outbox.in_flight(), 0);
}

#[test]
fn a_live_sample_goes_out_at_once_when_nothing_is_in_flight() {
    let now = Instant::now();
    let mut outbox = Outbox::new(0, 0);
    outbox.on_sampled(1);
    assert_eq!(outbox.next(), plan(0, 500));
    outbox.on_sent(1, now);
    assert_eq!(outbox.next(), None);
    outbox.on_sampled(2);
    assert_eq!(outbox.next(), None, "sample 1 is in flight");
    outbox.on_ack(1, now);
    assert_eq!(outbox.next(), plan(1, 500));
    outbox.on_sent(2, now);
    outbox.on_ack(2, now);
    assert_eq!(outbox.next(), None);
}

#[test]
fn the_backlog_goes_first_in_batches_one_at_a_time() {
    let now = Instant::now();
    let mut outbox = Outbox::new(100, 1300);
    assert_eq!(outbox.next(), plan(100, 500));
    outbox.on_sent(600, now);
    outbox.on_sampled(1301);
    assert_eq!(outbox.next(), None, "one batch in flight");
    assert_eq!(outbox.on_ack(600, now), Some(600));
    assert_eq!(outbox.next(), plan(600, 500));
    outbox.on_sent(1100, now);
    outbox.on_ack(1100, now);
    // The live sample taken meanwhile rides at the tail of the last batch: order is kept.
    assert_eq!(outbox.next(), plan(1100, 500));
    outbox.on_sent(1301, now);
    outbox.on_ack(1301, now);
    assert_eq!(outbox.next(), None);
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
    assert_eq!(outbox.next(), plan(25, 500));
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
