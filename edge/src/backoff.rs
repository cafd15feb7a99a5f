//! Reconnect delays: fast jittered retries right after a lost connection, then capped exponential backoff with
//! full jitter; pure and deterministic under a seeded RNG.
//!
//! The n-th consecutive failure sleeps a uniformly random time in `[0, min(cap, base · 2^n))`, as in the AWS
//! Architecture Blog's "full jitter". The ceiling uses `min` (tokio-console once shipped `max` here, which made
//! every delay the cap).
//!
//! Fast retries ([`BackoffPolicy::fast_retry_for`], 60 s by default) come first: the first retry after a lost
//! connection waits a uniformly random time in `[0, W)`, with `W` = [`FAST_RETRY_WINDOW`] (1.5 s, or the cap if
//! that is shorter), so a fleet dropped by one hub deploy arrives spread over `W` instead of in one burst; while
//! the hub keeps refusing within the fast period, retries wait `[W/2, W)`, so an agent is back at most `W` (plus
//! the attempt under way and one handshake) after the hub's return. After the fast period the exponential
//! backoff takes over, so a hub that stays down is asked at most once per cap. [`BackoffPolicy::worst_wait`]
//! states the bound as a function of the outage's length.

use std::time::Duration;

/// Largest exponent used; `2^20` seconds is far past any sane cap, so the ceiling saturates there.
const MAX_EXPONENT: u32 = 20;

/// The window of fast retries: the first retry after a lost connection waits `[0, W)`, later fast retries
/// `[W/2, W)`. Short enough that an agent is back within 2 s of the hub's return, long enough to spread a fleet.
pub const FAST_RETRY_WINDOW: Duration = Duration::from_millis(1500);

/// Backoff parameters: the first ceiling, the largest, and how long fast retries last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Ceiling after the first failure.
    pub base: Duration,
    /// The ceiling never grows past this.
    pub cap: Duration,
    /// For this long after a connection is lost, retries come within the fast window; zero turns fast retries
    /// off (every retry follows the exponential backoff, as before fast retries existed).
    pub fast_retry_for: Duration,
}

impl Default for BackoffPolicy {
    /// Base 1 s, cap 60 s, fast retries for 60 s.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
            fast_retry_for: Duration::from_secs(60),
        }
    }
}

impl BackoffPolicy {
    /// Whether fast retries are on.
    pub fn retries_fast(&self) -> bool {
        !self.fast_retry_for.is_zero()
    }

    /// The fast window `W`: [`FAST_RETRY_WINDOW`], or the cap if that is shorter.
    pub fn fast_window(&self) -> Duration {
        FAST_RETRY_WINDOW.min(self.cap)
    }

    /// The longest an agent waits after the hub's return, for a hub that refused attempts quickly during an
    /// `outage` counted from the lost connection: `W` within the fast period, the cap after it (the backoff's
    /// ceiling reaches the cap within a few attempts), and the cap without fast retries. Excludes the attempt
    /// under way at the return and the handshake itself.
    pub fn worst_wait(&self, outage: Duration) -> Duration {
        if self.retries_fast() && outage < self.fast_retry_for {
            self.fast_window()
        } else {
            self.cap
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

    /// The first retry after a lost connection: uniform in `[0, W)` with fast retries on, else the next backoff
    /// delay. Counts one failure either way.
    pub fn first_retry(&mut self) -> Duration {
        if !self.policy.retries_fast() {
            return self.next_delay();
        }
        self.failures = self.failures.saturating_add(1);
        self.policy.fast_window().mul_f64(self.rng.f64())
    }

    /// The retry after an attempt the hub refused (or did not answer), `outage` after the connection was lost:
    /// uniform in `[W/2, W)` within the fast period (counting no failure, so the backoff starts low after it),
    /// else the next backoff delay.
    pub fn retry_refused(&mut self, outage: Duration) -> Duration {
        if !self.policy.retries_fast() || outage >= self.policy.fast_retry_for {
            return self.next_delay();
        }
        let window = self.policy.fast_window();
        window / 2 + (window / 2).mul_f64(self.rng.f64())
    }

    /// Forgets past failures (after a connection stayed up long enough).
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests;
