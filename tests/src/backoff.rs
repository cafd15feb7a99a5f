//! Reconnect delays of the demo binaries: doubling from one second, capped at ten.

use std::time::Duration;

/// First delay after a failure.
pub const FIRST: Duration = Duration::from_secs(1);
/// Longest delay.
pub const CAP: Duration = Duration::from_secs(10);

/// The delay before the next reconnect attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { next: FIRST }
    }
}

impl Backoff {
    /// Returns the delay to wait now and doubles the next one, up to [`CAP`].
    pub fn next_delay(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(CAP);
        now
    }

    /// Starts again from [`FIRST`] (after a connection succeeded).
    pub fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..6).map(|_| backoff.next_delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), FIRST);
    }
}
