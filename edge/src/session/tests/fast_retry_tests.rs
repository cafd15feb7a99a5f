//! Fast retries in the session: the first retry of an outage within the window, refusals retried fast for the
//! fast period and then backed off to the cap, and a simulated hub outage of several lengths after which the
//! agent is back within 2 s of the hub's return.

use super::*;
use crate::backoff::FAST_RETRY_WINDOW;

/// How long a refused attempt takes in the simulation (connection refused on loopback takes well under this).
const REFUSAL: Duration = Duration::from_millis(5);

fn refused() -> DisconnectReason {
    DisconnectReason::ConnectFailed("Connection refused (os error 111)".into())
}

/// A session whose connection stayed up long enough and was just lost at the returned instant.
fn lost_after_a_stable_connection(seed: u64) -> (Session, Instant, Reconnect) {
    let mut s = session_with(BackoffPolicy::default(), seed);
    let t0 = Instant::now();
    s.on_connected(t0);
    let lost = t0 + RESET_AFTER;
    let first = s.on_disconnected(DisconnectReason::Closed(1001, "deploy".into()), lost);
    (s, lost, first)
}

/// What happens when the hub goes away at the drop and answers again `outage` later: the agent's attempts, each
/// refused after [`REFUSAL`] until the hub is back. Returns how late after the return the successful attempt
/// started, and how many attempts were refused.
fn simulate_outage(seed: u64, outage: Duration) -> (Duration, u32) {
    let (mut s, lost, first) = lost_after_a_stable_connection(seed);
    let back = lost + outage;
    let mut now = lost + first.delay;
    let mut refusals = 0;
    while now < back {
        s.on_attempt();
        now += REFUSAL;
        refusals += 1;
        now += s.on_disconnected(refused(), now).delay;
    }
    (now - back, refusals)
}

#[test]
fn the_first_retry_after_a_lost_connection_is_spread_over_the_window() {
    let delays: Vec<Duration> = (0..2000)
        .map(|seed| lost_after_a_stable_connection(seed).2.delay)
        .collect();
    assert!(delays.iter().all(|d| *d < FAST_RETRY_WINDOW));
    let early = delays.iter().filter(|d| d.as_millis() < 500).count();
    let late = delays.iter().filter(|d| d.as_millis() >= 1000).count();
    // A third each: spread over the whole 1.5 s, not bunched in its first second as before.
    assert!((560..780).contains(&early), "{early}");
    assert!((560..780).contains(&late), "{late}");
}

#[test]
fn the_agent_is_back_within_two_seconds_of_the_hubs_return() {
    let secs = Duration::from_secs_f64;
    for outage in [0.0, 0.3, 2.0, 5.0, 12.5, 30.0, 59.0] {
        let worst = (0..300)
            .map(|seed| simulate_outage(seed, secs(outage)).0)
            .max()
            .unwrap_or_default();
        assert!(worst < FAST_RETRY_WINDOW + REFUSAL, "{outage} s: {worst:?}");
        assert!(worst < Duration::from_secs(2), "{outage} s: {worst:?}");
    }
}

#[test]
fn a_hub_that_stays_down_is_asked_fast_for_a_minute_then_at_most_once_per_cap() {
    let minute = Duration::from_secs(60);
    let (_, in_a_minute) = simulate_outage(31, minute);
    // Every 0.75 to 1.5 s: 40 to 80 attempts in the fast minute.
    assert!((40..=81).contains(&in_a_minute), "{in_a_minute}");
    let (late, in_an_hour) = simulate_outage(31, 60 * minute);
    // After the minute the ceiling doubles to the 60 s cap: about one attempt per 30 s on average.
    let after = in_an_hour - in_a_minute;
    assert!(
        (70..=200).contains(&after),
        "{after} attempts in 59 minutes"
    );
    assert!(late < BackoffPolicy::default().cap, "{late:?}");
}

#[test]
fn a_long_outage_can_make_the_agent_up_to_the_cap_late() {
    let outage = Duration::from_secs(600);
    let worst = (0..200)
        .map(|seed| simulate_outage(seed, outage).0)
        .max()
        .unwrap_or_default();
    assert!(worst < Duration::from_secs(60), "{worst:?}");
    assert!(worst > Duration::from_secs(10), "backed off: {worst:?}");
}

#[test]
fn a_connection_lost_soon_after_it_opened_backs_off_instead_of_retrying_fast() {
    let (mut s, lost, _) = lost_after_a_stable_connection(41);
    let mut now = lost + Duration::from_secs(1);
    for ceiling in [2, 4, 8, 16, 32, 60] {
        s.on_attempt();
        s.on_connected(now);
        now += Duration::from_secs(1);
        let r = s.on_disconnected(DisconnectReason::Closed(1008, "rate limited".into()), now);
        assert!(r.delay < Duration::from_secs(ceiling), "{r:?}");
        assert_eq!(
            s.backoff.ceiling(),
            Duration::from_secs(ceiling * 2).min(s.backoff.policy().cap)
        );
    }
}

#[test]
fn a_hub_asking_to_wait_is_not_retried_fast() {
    let (mut s, lost, _) = lost_after_a_stable_connection(42);
    s.on_attempt();
    let held_off = s.on_disconnected(throttled(30), lost + Duration::from_secs(1));
    assert_eq!(held_off.delay, Duration::from_secs(30));
    s.on_attempt();
    let unavailable = DisconnectReason::HandshakeRejected {
        status: 503,
        retry_after: None,
    };
    assert!(unavailable.hub_seems_down());
    let r = s.on_disconnected(unavailable, lost + Duration::from_secs(32));
    assert!(
        r.delay >= FAST_RETRY_WINDOW / 2 && r.delay < FAST_RETRY_WINDOW,
        "{r:?}"
    );
}

#[test]
fn a_stable_connection_starts_a_new_outage_with_a_low_backoff() {
    let (mut s, lost, _) = lost_after_a_stable_connection(43);
    let mut now = lost;
    for _ in 0..100 {
        s.on_attempt();
        now += Duration::from_secs(2);
        s.on_disconnected(refused(), now);
    }
    assert!(s.backoff.failures() > 5, "backed off after the fast period");
    s.on_attempt();
    s.on_connected(now);
    now += RESET_AFTER;
    let r = s.on_disconnected(io(), now);
    assert!(r.delay < FAST_RETRY_WINDOW, "{r:?}");
    assert_eq!(s.backoff.failures(), 1);
    s.on_attempt();
    let fast = s.on_disconnected(refused(), now + Duration::from_secs(1));
    assert!(fast.delay >= FAST_RETRY_WINDOW / 2, "{fast:?}");
}

#[test]
fn at_start_a_missing_hub_is_retried_fast_and_a_refusing_one_backs_off() {
    let mut s = session();
    let t0 = Instant::now();
    for n in 0..40 {
        let r = s.on_disconnected(refused(), t0 + Duration::from_secs(n));
        assert!(
            r.delay >= FAST_RETRY_WINDOW / 2 && r.delay < FAST_RETRY_WINDOW,
            "{r:?}"
        );
        s.on_attempt();
    }
    let mut s = session();
    s.on_connected(t0);
    let closed = DisconnectReason::Closed(1008, "rate limited".into());
    let r = s.on_disconnected(closed, t0 + Duration::from_millis(300));
    assert!(
        r.delay < BackoffPolicy::default().base,
        "the backoff's first delay: {r:?}"
    );
}
