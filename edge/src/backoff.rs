//! Reconnect delays: capped exponential backoff with full jitter, pure and deterministic under a seeded RNG.
//!
//! The n-th consecutive failure sleeps a uniformly random time in `[0, min(cap, base · 2^n))`, as in the AWS
//! Architecture Blog's "full jitter", so a fleet of agents dropped by one hub deploy spreads its reconnects
//! instead of stampeding. The ceiling uses `min` (tokio-console once shipped `max` here, which made every
//! delay the cap).

use std::time::Duration;

/// Largest exponent used; `2^20` seconds is far past any sane cap, so the ceiling saturates there.
const MAX_EXPONENT: u32 = 20;

/// Backoff parameters: the first ceiling and the largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Ceiling after the first failure.
    pub base: Duration,
    /// The ceiling never grows past this.
    pub cap: Duration,
}

impl Default for BackoffPolicy {
    /// Base 1 s, cap 60 s.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

/// Consecutive-failure counter plus the injected RNG that draws the jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    failures: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    /// A backoff with no failures yet; `rng` draws the jitter (seed it in tests).
    pub fn new(policy: BackoffPolicy, rng: fastrand::Rng) -> Self {
        Self {
            policy,
            failures: 0,
            rng,
        }
    }

    /// The policy this backoff follows.
    pub fn policy(&self) -> BackoffPolicy {
        self.policy
    }

    /// Consecutive failures counted since the last [`reset`](Self::reset).
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The upper bound of the next delay: `min(cap, base · 2^failures)`.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32 << self.failures.min(MAX_EXPONENT);
        self.policy
            .base
            .checked_mul(factor)
            .unwrap_or(self.policy.cap)
            .min(self.policy.cap)
    }

    /// Draws the delay before the next attempt, uniformly in `[0, ceiling)`, and counts one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.ceiling().mul_f64(self.rng.f64());
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// Forgets past failures (after a connection stayed up long enough).
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
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
}
