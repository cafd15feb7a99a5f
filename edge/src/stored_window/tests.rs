//! Unit tests of the stored-acknowledgement window: room, forgetting only stored prefixes, resends, pacing.

use super::*;

const RESEND: Duration = Duration::from_secs(60);

fn plan(after: u64, max_items: usize) -> Option<SendPlan> {
    Some(SendPlan::Samples { after, max_items })
}

#[test]
fn frames_keep_leaving_while_earlier_ones_await_their_ack() {
    let now = Instant::now();
    let mut window = StoredWindow::new(0, 0, RESEND);
    for seq in 1..=MAX_UNACKED_FRAMES as u64 {
        window.on_sampled(seq);
        assert_eq!(window.next(now), plan(seq - 1, 500), "sample {seq}");
        window.on_sent(seq, seq, now);
    }
    window.on_sampled(9);
    assert_eq!(window.next(now), None, "eight frames await their ack");
    window.on_ack(now);
    assert_eq!(window.next(now), plan(8, 500));
    assert_eq!(window.unacked_frames(), 7);
}

#[test]
fn acked_samples_are_forgotten_only_once_stored() {
    let now = Instant::now();
    let mut window = StoredWindow::new(0, 3, RESEND);
    window.on_sent(1, 3, now);
    window.on_ack(now);
    assert_eq!(window.stored_through(), 0);
    assert!(window.is_idle());
    assert_eq!(window.unstored(), 3);
    assert_eq!(window.on_stored(1, 2), Some(2));
    assert_eq!(window.on_stored(3, 3), Some(3));
    assert_eq!(window.unstored(), 0);
    assert_eq!(window.resend_due(), None);
}

#[test]
fn runs_stored_out_of_order_free_only_the_whole_prefix() {
    let now = Instant::now();
    let mut window = StoredWindow::new(100, 900, RESEND);
    window.on_sent(101, 600, now);
    window.on_sent(601, 900, now + MIN_BATCH_SPACING);
    window.on_ack(now);
    window.on_ack(now);
    assert_eq!(
        window.on_stored(601, 900),
        None,
        "101..=600 is not stored yet"
    );
    assert_eq!(window.on_stored(301, 600), None);
    assert_eq!(window.on_stored(101, 300), Some(900));
    assert_eq!(window.resend_due(), None);
}

#[test]
fn stale_duplicate_and_impossible_runs_are_harmless() {
    let now = Instant::now();
    let mut window = StoredWindow::new(10, 20, RESEND);
    window.on_sent(11, 20, now);
    window.on_ack(now);
    assert_eq!(window.on_stored(1, 10), None, "already forgotten");
    assert_eq!(window.on_stored(11, 15), Some(15));
    assert_eq!(window.on_stored(11, 15), None, "a duplicate");
    assert_eq!(window.on_stored(9, 3), None, "an empty run");
    // A run past the newest sample never covers a sample taken later.
    assert_eq!(window.on_stored(16, 99), Some(20));
    window.on_sampled(21);
    assert_eq!(window.stored_through(), 20);
    assert_eq!(window.next(now), plan(20, 500));
}

#[test]
fn a_stored_run_ahead_of_the_cursor_is_not_sent_again() {
    // After a reconnect the hub answers `stored` for samples it wrote before the connection dropped.
    let now = Instant::now();
    let mut window = StoredWindow::new(0, 1000, RESEND);
    window.on_sent(1, 500, now);
    assert_eq!(window.on_stored(501, 800), None);
    assert_eq!(
        window.next(now + MIN_BATCH_SPACING),
        plan(800, 500),
        "501..=800 skipped"
    );
    assert_eq!(window.on_stored(1, 500), Some(800));
}

#[test]
fn the_unstored_bound_stops_new_frames_until_the_hub_stores() {
    let mut now = Instant::now();
    let mut window = StoredWindow::new(0, MAX_UNSTORED_SAMPLES + 600, RESEND);
    let mut sent = 0;
    while let Some(SendPlan::Samples { after, max_items }) = window.next(now) {
        let through = after + max_items as u64;
        window.on_sent(after + 1, through, now);
        window.on_ack(now);
        sent = through;
        now += MIN_BATCH_SPACING;
    }
    assert_eq!(sent, MAX_UNSTORED_SAMPLES);
    assert_eq!(window.unstored(), MAX_UNSTORED_SAMPLES);
    assert_eq!(
        window.batch_due(),
        None,
        "no wake-up while the window is full"
    );
    assert_eq!(window.on_stored(1, 1000), Some(1000));
    assert_eq!(window.next(now), plan(MAX_UNSTORED_SAMPLES, 500));
}

#[test]
fn a_batch_is_cut_to_the_room_left() {
    let now = Instant::now();
    let mut window = StoredWindow::new(0, MAX_UNSTORED_SAMPLES + 10, RESEND);
    window.on_sent(1, MAX_UNSTORED_SAMPLES - 100, now);
    assert_eq!(
        window.next(now + MIN_BATCH_SPACING),
        plan(MAX_UNSTORED_SAMPLES - 100, 100)
    );
}

#[test]
fn an_unstored_sample_is_resent_after_the_timeout_from_the_oldest() {
    let t0 = Instant::now();
    let mut window = StoredWindow::new(0, 300, RESEND);
    window.on_sent(1, 100, t0);
    window.on_sent(101, 300, t0 + MIN_BATCH_SPACING);
    let acked_at = t0 + Duration::from_millis(150);
    window.on_ack(acked_at);
    window.on_ack(acked_at + Duration::from_secs(1));
    // The hub stored the later group, and lost the first one.
    assert_eq!(window.on_stored(101, 300), None);
    assert_eq!(window.resend_due(), Some(acked_at + RESEND));
    assert_eq!(window.on_resend_due(acked_at + RESEND / 2), None);
    assert_eq!(window.next(acked_at + RESEND / 2), None);
    let due = acked_at + RESEND;
    assert_eq!(window.on_resend_due(due), Some(1));
    assert_eq!(window.next(due), plan(0, 500));
    window.on_sent(1, 100, due);
    assert_eq!(window.next(due), None, "101..=300 is stored: nothing more");
    window.on_ack(due);
    assert_eq!(
        window.resend_due(),
        Some(due + RESEND),
        "the resend waits anew"
    );
    assert_eq!(window.on_stored(1, 100), Some(300));
    assert_eq!(window.resend_due(), None);
}

#[test]
fn a_resend_goes_back_over_everything_unstored_in_order() {
    let t0 = Instant::now();
    let mut window = StoredWindow::new(0, 30, RESEND);
    for seq in 1..=30 {
        window.on_sent(seq, seq, t0);
        window.on_ack(t0);
    }
    assert_eq!(window.on_stored(1, 10), Some(10));
    assert_eq!(window.on_resend_due(t0 + RESEND), Some(11));
    assert_eq!(window.next(t0 + RESEND), plan(10, 500));
    window.on_sent(11, 30, t0 + RESEND);
    assert_eq!(window.unstored(), 20);
}

#[test]
fn samples_gone_from_the_store_count_as_stored() {
    let now = Instant::now();
    let mut window = StoredWindow::new(0, 50, RESEND);
    // The store dropped 1..=9 when it was full: the read starts at 10.
    window.on_sent(10, 20, now);
    assert_eq!(window.stored_through(), 9);
    window.on_gone(50);
    assert_eq!(window.next(now + MIN_BATCH_SPACING), None);
    window.on_ack(now);
    assert_eq!(window.on_stored(10, 20), Some(50));
}

#[test]
fn batches_are_paced_while_the_window_has_room() {
    let t0 = Instant::now();
    let mut window = StoredWindow::new(0, 2000, RESEND);
    assert_eq!(window.next(t0), plan(0, 500));
    window.on_sent(1, 500, t0);
    assert_eq!(window.batch_due(), Some(t0 + MIN_BATCH_SPACING));
    assert_eq!(window.next(t0 + Duration::from_millis(99)), None);
    assert_eq!(
        window.next(t0 + MIN_BATCH_SPACING),
        plan(500, 500),
        "no ack needed"
    );
    // A lone live sample is never held back.
    let mut live = StoredWindow::new(0, 500, RESEND);
    live.on_sent(1, 500, t0);
    live.on_sampled(501);
    assert_eq!(live.next(t0), plan(500, 500));
}

#[test]
fn the_ack_deadline_runs_while_a_frame_awaits_its_ack() {
    let t0 = Instant::now();
    let timeout = Duration::from_secs(30);
    let mut window = StoredWindow::new(0, 3, RESEND);
    assert_eq!(window.ack_deadline(timeout), None);
    window.on_sent(1, 1, t0);
    window.on_sent(2, 3, t0 + Duration::from_secs(1));
    assert_eq!(window.ack_deadline(timeout), Some(t0 + timeout));
    let t1 = t0 + Duration::from_secs(5);
    window.on_ack(t1);
    assert_eq!(window.ack_deadline(timeout), Some(t1 + timeout));
    window.on_ack(t1);
    assert_eq!(window.ack_deadline(timeout), None, "stored may take longer");
    window.on_ack(t1);
    assert_eq!(window.unacked_frames(), 0, "a stray ack is ignored");
}

#[test]
fn refusals_follow_the_outbox_rules() {
    let now = Instant::now();
    let mut window = StoredWindow::new(0, 5, RESEND);
    assert_eq!(window.on_error(ErrorCode::InvalidMessage), Refusal::Noted);
    window.on_sent(1, 5, now);
    assert_eq!(window.on_error(ErrorCode::Internal), Refusal::EndConnection);
    assert_eq!(window.on_error(ErrorCode::RateLimited), Refusal::AwaitClose);
    window.on_sampled(6);
    window.on_ack(now);
    assert_eq!(window.next(now + Duration::from_secs(1)), None);
    assert_eq!(window.batch_due(), None);
}

#[test]
fn the_resend_timeout_adds_a_bounded_margin_with_a_floor() {
    let secs = Duration::from_secs;
    assert_eq!(resend_after(secs(0)), MIN_RESEND_AFTER);
    assert_eq!(resend_after(secs(1)), secs(2));
    assert_eq!(resend_after(secs(10)), secs(20));
    assert_eq!(resend_after(secs(600)), secs(630));
}

/// A backlog of `backlog` samples and live samples at 1 Hz, against a hub that acks `rtt` after a frame and
/// stores in groups of 1000 or every `group_every`, in steps of `step`; returns when each frame left and how many
/// it carried, and the stored prefix at the end.
fn simulate(
    backlog: u64,
    rtt: Duration,
    group_every: Duration,
    span: Duration,
    step: Duration,
) -> (Vec<(Duration, u64)>, u64) {
    let t0 = Instant::now();
    let mut window = StoredWindow::new(0, backlog, resend_after(Duration::from_secs(600)));
    let mut newest = backlog;
    let mut next_sample = t0 + Duration::from_secs(1);
    let mut acks: VecDeque<(Instant, u64, u64)> = VecDeque::new();
    let mut group: Vec<(u64, u64)> = Vec::new();
    let mut group_since = t0;
    let mut sends = Vec::new();
    let mut now = t0;
    while now < t0 + span {
        if now >= next_sample {
            newest += 1;
            window.on_sampled(newest);
            next_sample += Duration::from_secs(1);
        }
        while acks.front().is_some_and(|(due, _, _)| now >= *due) {
            if let Some((_, first, through)) = acks.pop_front() {
                window.on_ack(now);
                group.push((first, through));
            }
        }
        let held: u64 = group.iter().map(|(f, t)| t - f + 1).sum();
        if held >= 1000 || (!group.is_empty() && now >= group_since + group_every) {
            for (first, through) in group.drain(..) {
                window.on_stored(first, through);
            }
            group_since = now;
        }
        if let Some(SendPlan::Samples { after, max_items }) = window.next(now) {
            let through = newest.min(after + max_items as u64);
            window.on_sent(after + 1, through, now);
            sends.push((now - t0, through - after));
            acks.push_back((now + rtt, after + 1, through));
        }
        assert_eq!(window.on_resend_due(now), None, "nothing is lost here");
        now += step;
    }
    (sends, window.stored_through())
}

#[test]
fn a_day_of_backlog_flows_at_ten_batches_a_second_against_a_slow_hub() {
    // A hub 300 ms away: one message at a time would manage three batches a second.
    let (sends, stored) = simulate(
        86_400,
        Duration::from_millis(300),
        Duration::from_secs(600),
        Duration::from_secs(5),
        Duration::from_millis(1),
    );
    for start in 0..5000u64 {
        let from = Duration::from_millis(start);
        let in_second = sends
            .iter()
            .filter(|(at, _)| *at >= from && *at < from + Duration::from_secs(1))
            .count();
        assert!(
            in_second <= 10,
            "{in_second} frames in the second after {from:?}"
        );
    }
    assert!(sends.len() >= 45, "paced, not throttled: {}", sends.len());
    assert!(stored >= 20_000, "stored groups free the store: {stored}");
}

#[test]
fn live_samples_leave_at_once_while_groups_wait_ten_minutes() {
    let (sends, stored) = simulate(
        0,
        Duration::from_millis(50),
        Duration::from_secs(600),
        Duration::from_secs(1300),
        Duration::from_millis(10),
    );
    assert_eq!(sends.len(), 1299);
    assert!(
        sends
            .iter()
            .all(|(at, count)| *count == 1 && at.subsec_millis() == 0)
    );
    // Written at 600 s (1..=599) and at 1200 s (600..=1199); the rest waits for the next group.
    assert_eq!(stored, 1199);
}
