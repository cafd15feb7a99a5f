//! Unit tests of the backoff: the exponential ceiling and its jitter, fast retries and their window, the worst
//! wait after the hub's return.

use super::*;

fn backoff(seed: u64) -> Backoff {
    Backoff::new(BackoffPolicy::default(), fastrand::Rng::with_seed(seed))
}

#[test]
fn ceiling_doubles_from_the_base_and_stops_at_the_cap() {
    let mut b = backoff(1);
    let ceilings: Vec<u64> = (0..10)
        .map(|_| {
            let c = b.ceiling().as_secs();
            b.next_delay();
            c
        })
        .collect();
    assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
}

#[test]
fn delays_stay_within_zero_and_the_ceiling() {
    let mut b = backoff(7);
    for _ in 0..1000 {
        let ceiling = b.ceiling();
        let delay = b.next_delay();
        assert!(delay < ceiling, "{delay:?} >= {ceiling:?}");
        assert!(delay <= b.policy().cap);
    }
}

#[test]
fn capped_delays_are_jittered_over_the_whole_range() {
    let mut b = backoff(42);
    for _ in 0..10 {
        b.next_delay();
    }
    let delays: Vec<f64> = (0..2000).map(|_| b.next_delay().as_secs_f64()).collect();
    let low = delays.iter().filter(|d| **d < 20.0).count();
    let high = delays.iter().filter(|d| **d > 40.0).count();
    // Full jitter is uniform on [0, 60): about a third in each band; `max` instead of `min` would give 60.
    assert!((500..830).contains(&low), "{low}");
    assert!((500..830).contains(&high), "{high}");
    let mean = delays.iter().sum::<f64>() / delays.len() as f64;
    assert!((27.0..33.0).contains(&mean), "{mean}");
}

#[test]
fn the_same_seed_gives_the_same_delays() {
    let draw = |seed| {
        let mut b = backoff(seed);
        (0..8).map(|_| b.next_delay()).collect::<Vec<_>>()
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
}

#[test]
fn reset_starts_again_from_the_base() {
    let mut b = backoff(5);
    for _ in 0..6 {
        b.next_delay();
    }
    assert_eq!(b.failures(), 6);
    b.reset();
    assert_eq!(b.failures(), 0);
    assert_eq!(b.ceiling(), Duration::from_secs(1));
    assert!(b.next_delay() < Duration::from_secs(1));
}

#[test]
fn huge_failure_counts_saturate_at_the_cap() {
    let policy = BackoffPolicy {
        base: Duration::from_secs(3600),
        cap: Duration::from_secs(7200),
        ..BackoffPolicy::default()
    };
    let mut b = Backoff::new(policy, fastrand::Rng::with_seed(9));
    for _ in 0..200 {
        assert!(b.next_delay() < policy.cap);
    }
    assert_eq!(b.ceiling(), policy.cap);
    b.failures = u32::MAX;
    assert_eq!(b.ceiling(), policy.cap);
    b.next_delay();
    assert_eq!(b.failures(), u32::MAX);
}

const WINDOW: Duration = FAST_RETRY_WINDOW;

#[test]
fn the_first_retry_is_spread_evenly_over_the_window() {
    let mut b = backoff(21);
    let delays: Vec<Duration> = (0..3000).map(|_| b.first_retry()).collect();
    assert!(
        delays.iter().all(|d| *d < WINDOW),
        "{:?}",
        delays.iter().max()
    );
    // Ten buckets of 150 ms hold about 300 each: no burst at either end of the window.
    let mut buckets = [0usize; 10];
    for delay in &delays {
        buckets[(delay.as_secs_f64() / WINDOW.as_secs_f64() * 10.0) as usize] += 1;
    }
    assert!(
        buckets.iter().all(|n| (230..370).contains(n)),
        "{buckets:?}"
    );
}

#[test]
fn fast_retries_stay_in_the_upper_half_of_the_window_and_count_no_failure() {
    let mut b = backoff(22);
    b.first_retry();
    let before = b.failures();
    for n in 0..1000 {
        let delay = b.retry_refused(Duration::from_millis(n * 59));
        assert!(delay >= WINDOW / 2 && delay < WINDOW, "{delay:?}");
    }
    assert_eq!(b.failures(), before);
}

#[test]
fn after_the_fast_period_refusals_back_off_to_the_cap() {
    let mut b = backoff(23);
    let past = BackoffPolicy::default().fast_retry_for;
    let ceilings: Vec<u64> = (0..8)
        .map(|_| {
            let ceiling = b.ceiling().as_secs();
            assert!(b.retry_refused(past) < b.policy().cap);
            ceiling
        })
        .collect();
    assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60]);
}

#[test]
fn without_fast_retries_every_retry_is_the_plain_backoff() {
    let off = BackoffPolicy {
        fast_retry_for: Duration::ZERO,
        ..BackoffPolicy::default()
    };
    let mut fast_off = Backoff::new(off, fastrand::Rng::with_seed(24));
    let mut plain = Backoff::new(off, fastrand::Rng::with_seed(24));
    let mixed: Vec<Duration> = (0..8)
        .map(|n| match n % 2 {
            0 => fast_off.first_retry(),
            _ => fast_off.retry_refused(Duration::ZERO),
        })
        .collect();
    let expected: Vec<Duration> = (0..8).map(|_| plain.next_delay()).collect();
    assert_eq!(mixed, expected);
    assert_eq!(fast_off.failures(), 8);
}

#[test]
fn the_window_never_exceeds_the_cap() {
    let tight = BackoffPolicy {
        base: Duration::from_millis(50),
        cap: Duration::from_millis(500),
        ..BackoffPolicy::default()
    };
    assert_eq!(tight.fast_window(), Duration::from_millis(500));
    let mut b = Backoff::new(tight, fastrand::Rng::with_seed(25));
    for _ in 0..500 {
        assert!(b.first_retry() < tight.cap);
        assert!(b.retry_refused(Duration::ZERO) >= Duration::from_millis(250));
    }
    assert_eq!(BackoffPolicy::default().fast_window(), WINDOW);
}

#[test]
fn the_worst_wait_is_the_window_within_the_fast_period_and_the_cap_after() {
    let policy = BackoffPolicy::default();
    let secs = Duration::from_secs;
    for outage in [0, 1, 5, 30, 59] {
        assert_eq!(policy.worst_wait(secs(outage)), WINDOW, "{outage} s");
    }
    for outage in [60, 120, 3600] {
        assert_eq!(policy.worst_wait(secs(outage)), secs(60), "{outage} s");
    }
    let off = BackoffPolicy {
        fast_retry_for: Duration::ZERO,
        ..policy
    };
    assert_eq!(off.worst_wait(secs(5)), secs(60));
    assert!(
        WINDOW < secs(2),
        "the window leaves room for a handshake within 2 s"
    );
}
