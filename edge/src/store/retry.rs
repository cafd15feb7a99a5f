//! When to try the disk again after it failed: at once for the first retry, then backing off from 1 s to a
//! minute, so a dead card is not hammered and a freed one is back in use within a minute.

use std::time::{Duration, Instant};

/// The first wait after a failure.
const FIRST_DELAY: Duration = Duration::from_secs(1);

/// The longest wait between attempts.
const MAX_DELAY: Duration = Duration::from_secs(60);

/// The retry clock of a failing disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    next: Option<Instant>,
    delay: Duration,
}

impl Retry {
    /// No failure yet.
    pub fn new() -> Self {
        Self {
            next: None,
            delay: FIRST_DELAY,
        }
    }

    /// Whether an attempt is due at `now`.
    pub fn due(&self, now: Instant) -> bool {
        self.next.is_none_or(|next| now >= next)
    }

    /// An attempt failed at `now`: the next one waits twice as long as the last, up to a minute.
    pub fn failed(&mut self, now: Instant) {
        self.next = Some(now + self.delay);
        self.delay = (self.delay * 2).min(MAX_DELAY);
    }

    /// An attempt succeeded: the next failure starts over at the first delay.
    pub fn succeeded(&mut self) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_a_second_to_a_minute_and_start_over_after_success() {
        let start = Instant::now();
        let mut retry = Retry::new();
        assert!(retry.due(start));
        let mut waits = Vec::new();
        let mut now = start;
        for _ in 0..9 {
            retry.failed(now);
            let mut wait = Duration::ZERO;
            while !retry.due(now + wait) {
                wait += Duration::from_millis(500);
            }
            waits.push(wait.as_secs());
            now += wait;
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        retry.succeeded();
        retry.failed(now);
        assert!(!retry.due(now + Duration::from_millis(900)));
        assert!(retry.due(now + FIRST_DELAY));
    }
}
