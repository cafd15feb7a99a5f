//! Unit tests of the session state machine: backoff growth and reset, auth and takeover handling, `Retry-After`,
//! loudness. Fast retries after a lost connection, and the catch-up after the hub's return, are in
//! `fast_retry_tests.rs`.

use super::*;
use crate::backoff::BackoffPolicy;

mod fast_retry_tests;

const RESET_AFTER: Duration = Duration::from_secs(30);

fn session() -> Session {
    session_with(BackoffPolicy::default(), 11)
}

fn session_with(policy: BackoffPolicy, seed: u64) -> Session {
    Session::new(
        Backoff::new(policy, fastrand::Rng::with_seed(seed)),
        RESET_AFTER,
    )
}

/// A session whose every retry follows the exponential backoff (`fast_retry_secs = 0`): the backoff's own
/// growth, reset and jitter, as the agent applies them after the fast period.
fn session_without_fast_retries() -> Session {
    let policy = BackoffPolicy {
        fast_retry_for: Duration::ZERO,
        ..BackoffPolicy::default()
    };
    session_with(policy, 11)
}

fn io() -> DisconnectReason {
    DisconnectReason::Io("reset by peer".into())
}

#[test]
fn starts_connecting_and_walks_through_the_states() {
    let mut s = session();
    let t0 = Instant::now();
    assert_eq!(s.state(), &SessionState::Connecting);
    s.on_connected(t0);
    assert_eq!(s.state(), &SessionState::Connected { since: t0 });
    let r = s.on_disconnected(io(), t0 + Duration::from_secs(1));
    assert_eq!(
        s.state(),
        &SessionState::Disconnected {
            next_delay: r.delay,
            reason: io()
        }
    );
    s.on_attempt();
    assert_eq!(s.state(), &SessionState::Connecting);
}

#[test]
fn ordinary_failures_back_off_under_a_growing_ceiling() {
    let mut s = session_without_fast_retries();
    let now = Instant::now();
    for ceiling in [1, 2, 4, 8, 16, 32, 60, 60] {
        let r = s.on_disconnected(DisconnectReason::ConnectTimeout, now);
        assert!(r.delay < Duration::from_secs(ceiling), "{r:?}");
        assert_eq!(r.loudness, Loudness::Warn);
        s.on_attempt();
    }
}

#[test]
fn a_connection_that_stayed_up_resets_the_backoff() {
    let mut s = session();
    let t0 = Instant::now();
    for _ in 0..6 {
        s.on_disconnected(io(), t0);
    }
    s.on_connected(t0);
    let r = s.on_disconnected(io(), t0 + RESET_AFTER);
    assert!(r.delay < Duration::from_secs(1), "{r:?}");
}

#[test]
fn a_short_lived_connection_keeps_backing_off() {
    let mut s = session();
    let t0 = Instant::now();
    for _ in 0..6 {
        s.on_disconnected(io(), t0);
    }
    s.on_connected(t0);
    s.on_disconnected(io(), t0 + Duration::from_secs(29));
    let SessionState::Disconnected { .. } = s.state() else {
        panic!("not disconnected");
    };
    assert_eq!(s.backoff.failures(), 7);
}

#[test]
fn auth_failures_wait_the_cap_and_are_reported_once() {
    let mut s = session();
    let now = Instant::now();
    let first = s.on_disconnected(DisconnectReason::AuthRejected(401), now);
    assert_eq!(first.delay, Duration::from_secs(60));
    assert_eq!(first.loudness, Loudness::Error);
    assert!(s.is_quiet());
    for _ in 0..5 {
        s.on_attempt();
        let again = s.on_disconnected(DisconnectReason::AuthRejected(401), now);
        assert_eq!(again.delay, Duration::from_secs(60));
        assert_eq!(again.loudness, Loudness::Quiet);
    }
    let other = s.on_disconnected(DisconnectReason::AuthRejected(403), now);
    assert_eq!(other.loudness, Loudness::Error);
}

#[test]
fn takeover_and_revocation_wait_the_cap() {
    let mut s = session();
    let now = Instant::now();
    for reason in [DisconnectReason::Replaced, DisconnectReason::Revoked] {
        s.on_connected(now);
        let r = s.on_disconnected(reason, now);
        assert_eq!(r.delay, Duration::from_secs(60));
        assert_eq!(r.loudness, Loudness::Error);
    }
}

#[test]
fn connecting_successfully_ends_the_quiet_period() {
    let mut s = session();
    let now = Instant::now();
    s.on_disconnected(DisconnectReason::AuthRejected(403), now);
    s.on_connected(now);
    assert!(!s.is_quiet());
    let r = s.on_disconnected(DisconnectReason::AuthRejected(403), now);
    assert_eq!(r.loudness, Loudness::Error);
}

#[test]
fn an_ordinary_failure_after_an_auth_failure_is_reported_again() {
    let mut s = session();
    let now = Instant::now();
    s.on_disconnected(DisconnectReason::AuthRejected(401), now);
    let r = s.on_disconnected(DisconnectReason::ConnectTimeout, now);
    assert_eq!(r.loudness, Loudness::Warn);
    assert!(!s.is_quiet());
}

#[test]
fn a_routine_close_is_reported_as_info() {
    let deploy = || DisconnectReason::Closed(1001, "deploy".into());
    let now = Instant::now();
    let r = session_without_fast_retries().on_disconnected(deploy(), now);
    assert_eq!(r.loudness, Loudness::Info);
    assert!(r.delay < Duration::from_secs(1));
    let r = session().on_disconnected(deploy(), now);
    assert_eq!(r.loudness, Loudness::Info);
    assert!(r.delay < crate::backoff::FAST_RETRY_WINDOW);
}

#[test]
fn reasons_read_well_and_never_need_the_token() {
    let text = DisconnectReason::AuthRejected(401).to_string();
    assert!(text.contains("API_TOKEN"), "{text}");
    assert!(DisconnectReason::Replaced.to_string().contains("DEVICE_ID"));
    assert!(
        DisconnectReason::Silent(Duration::from_secs(45))
            .to_string()
            .contains("45 s")
    );
}

fn throttled(seconds: u64) -> DisconnectReason {
    DisconnectReason::HandshakeRejected {
        status: 429,
        retry_after: Some(Duration::from_secs(seconds)),
    }
}

#[test]
fn retry_after_stretches_the_delay_but_never_shortens_it() {
    let second = Duration::from_secs(1);
    assert_eq!(reconnect_delay(second, None), second);
    assert_eq!(reconnect_delay(second, Some(2 * second)), 2 * second);
    assert_eq!(reconnect_delay(5 * second, Some(2 * second)), 5 * second);
    assert_eq!(reconnect_delay(second, Some(Duration::ZERO)), second);
}

#[test]
fn retry_after_is_honoured_up_to_an_hour() {
    let hour = Duration::from_secs(3600);
    assert_eq!(MAX_RETRY_AFTER, hour);
    assert_eq!(reconnect_delay(Duration::ZERO, Some(hour)), hour);
    assert_eq!(reconnect_delay(Duration::ZERO, Some(2 * hour)), hour);
    assert_eq!(
        reconnect_delay(Duration::ZERO, Some(Duration::from_secs(u64::MAX))),
        hour
    );
    // A backoff configured past an hour still wins: the hub's wait only ever adds.
    assert_eq!(reconnect_delay(3 * hour, Some(2 * hour)), 3 * hour);
}

#[test]
fn a_429_waits_what_the_hub_asked_and_still_counts_as_a_failure() {
    let mut s = session();
    let now = Instant::now();
    let r = s.on_disconnected(throttled(2), now);
    assert_eq!(r.delay, Duration::from_secs(2));
    assert_eq!(r.loudness, Loudness::Warn);
    assert_eq!(
        s.backoff.failures(),
        1,
        "the backoff keeps growing underneath"
    );
    s.on_attempt();
    let r = s.on_disconnected(throttled(7200), now);
    assert_eq!(r.delay, MAX_RETRY_AFTER);
    let SessionState::Disconnected { next_delay, .. } = s.state() else {
        panic!("not disconnected");
    };
    assert_eq!(*next_delay, MAX_RETRY_AFTER);
}

#[test]
fn a_zero_retry_after_leaves_the_backoff_in_charge() {
    let mut s = session_without_fast_retries();
    let now = Instant::now();
    for ceiling in [1, 2, 4] {
        let r = s.on_disconnected(throttled(0), now);
        assert!(r.delay < Duration::from_secs(ceiling), "{r:?}");
    }
}

#[test]
fn a_429_between_auth_failures_does_not_repeat_the_loud_report() {
    let mut s = session();
    let now = Instant::now();
    assert_eq!(
        s.on_disconnected(DisconnectReason::AuthRejected(401), now)
            .loudness,
        Loudness::Error
    );
    let held_off = s.on_disconnected(throttled(30), now);
    assert_eq!(held_off.loudness, Loudness::Warn);
    assert_eq!(held_off.delay, Duration::from_secs(30));
    assert_eq!(
        s.on_disconnected(DisconnectReason::AuthRejected(401), now)
            .loudness,
        Loudness::Quiet
    );
}

#[test]
fn a_flood_limit_close_is_an_ordinary_drop() {
    let mut s = session_without_fast_retries();
    let now = Instant::now();
    s.on_connected(now);
    let closed = DisconnectReason::Closed(1008, "rate limited".into());
    assert!(!closed.waits_the_cap());
    let r = s.on_disconnected(closed.clone(), now);
    assert!(r.delay < Duration::from_secs(1), "{r:?}");
    assert_eq!(r.loudness, Loudness::Warn);
    let text = closed.to_string();
    assert!(
        text.contains("1008") && text.contains("rate limited"),
        "{text}"
    );
}

#[test]
fn a_429_reads_with_its_wait_in_seconds() {
    let text = throttled(120).to_string();
    assert!(text.contains("HTTP 429"), "{text}");
    assert!(text.contains("120 s"), "{text}");
    let plain = DisconnectReason::HandshakeRejected {
        status: 502,
        retry_after: None,
    }
    .to_string();
    assert_eq!(plain, "the hub refused the upgrade with HTTP 502");
}
