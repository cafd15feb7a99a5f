//! Unit tests of the session state machine: backoff growth and reset, auth and takeover handling, loudness.

use super::*;
use crate::backoff::BackoffPolicy;

const RESET_AFTER: Duration = Duration::from_secs(30);

fn session() -> Session {
    let backoff = Backoff::new(BackoffPolicy::default(), fastrand::Rng::with_seed(11));
    Session::new(backoff, RESET_AFTER)
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
    let mut s = session();
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
    let mut s = session();
    let now = Instant::now();
    let r = s.on_disconnected(DisconnectReason::Closed(1001, "deploy".into()), now);
    assert_eq!(r.loudness, Loudness::Info);
    assert!(r.delay < Duration::from_secs(1));
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
