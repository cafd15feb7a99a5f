//! Limits on guessing: failed authentications counted per key in a fixed window, and the verdict for the next try.

use serde::{Deserialize, Serialize};

/// How many failures a key may have in a window before further attempts are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardPolicy {
    /// Failures allowed per window; the next attempt after that gets 429.
    pub limit: u32,
    /// Length of the window in milliseconds.
    pub window_ms: u64,
}

impl GuardPolicy {
    /// 10 failures a minute.
    pub const DEFAULT: GuardPolicy = GuardPolicy {
        limit: 10,
        window_ms: 60_000,
    };

    /// Builds a policy from the optional `AUTH_FAILURE_LIMIT` and `AUTH_FAILURE_WINDOW_SECS` texts.
    pub fn from_vars(limit: Option<&str>, window_secs: Option<&str>) -> Self {
        let limit = limit
            .and_then(|v| v.trim().parse().ok())
            .filter(|l| *l > 0)
            .unwrap_or(Self::DEFAULT.limit);
        let window_ms = window_secs
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map_or(Self::DEFAULT.window_ms, |s| s.saturating_mul(1000));
        Self { limit, window_ms }
    }
}

/// Whether a key may try to authenticate now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum GuardVerdict {
    /// Go ahead.
    Allowed,
    /// Refuse with 429 and `Retry-After: retry_after_secs`.
    Blocked {
        /// Whole seconds until the window ends (at least 1).
        retry_after_secs: u64,
    },
}

/// The failures of one key in the current window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureWindow {
    /// When the window started, in Unix milliseconds.
    pub started_ms: u64,
    /// Failures since then.
    pub failures: u32,
}

impl FailureWindow {
    /// The verdict for an attempt at `now_ms`.
    pub fn verdict(&self, now_ms: u64, policy: GuardPolicy) -> GuardVerdict {
        let ends_ms = self.started_ms.saturating_add(policy.window_ms);
        if now_ms >= ends_ms || self.failures < policy.limit {
            return GuardVerdict::Allowed;
        }
        GuardVerdict::Blocked {
            retry_after_secs: (ends_ms - now_ms).div_ceil(1000).max(1),
        }
    }

    /// Counts a failure at `now_ms`, starting a new window if the last one is over.
    pub fn record_failure(&mut self, now_ms: u64, policy: GuardPolicy) {
        let expired = now_ms >= self.started_ms.saturating_add(policy.window_ms);
        if self.failures == 0 || expired {
            *self = FailureWindow {
                started_ms: now_ms,
                failures: 0,
            };
        }
        self.failures = self.failures.saturating_add(1);
    }
}

/// The keys a handshake is counted under: the client address and the target (a device id, or `admin`).
pub fn guard_keys(client_address: &str, target: &str) -> [String; 2] {
    [format!("addr:{client_address}"), format!("target:{target}")]
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: GuardPolicy = GuardPolicy {
        limit: 3,
        window_ms: 10_000,
    };

    #[test]
    fn blocks_after_the_limit_until_the_window_ends() {
        let mut window = FailureWindow::default();
        for _ in 0..3 {
            assert_eq!(window.verdict(1_000, POLICY), GuardVerdict::Allowed);
            window.record_failure(1_000, POLICY);
        }
        assert_eq!(
            window.verdict(1_000, POLICY),
            GuardVerdict::Blocked {
                retry_after_secs: 10
            }
        );
        assert_eq!(
            window.verdict(10_500, POLICY),
            GuardVerdict::Blocked {
                retry_after_secs: 1
            }
        );
        assert_eq!(window.verdict(11_000, POLICY), GuardVerdict::Allowed);
    }

    #[test]
    fn a_failure_after_the_window_starts_a_new_one() {
        let mut window = FailureWindow {
            started_ms: 0,
            failures: 3,
        };
        window.record_failure(20_000, POLICY);
        assert_eq!(
            window,
            FailureWindow {
                started_ms: 20_000,
                failures: 1
            }
        );
        assert_eq!(window.verdict(20_000, POLICY), GuardVerdict::Allowed);
    }

    #[test]
    fn policy_from_vars_falls_back_on_nonsense() {
        assert_eq!(GuardPolicy::from_vars(None, None), GuardPolicy::DEFAULT);
        assert_eq!(
            GuardPolicy::from_vars(Some("0"), Some("x")),
            GuardPolicy::DEFAULT
        );
        assert_eq!(
            GuardPolicy::from_vars(Some("5"), Some("3")),
            GuardPolicy {
                limit: 5,
                window_ms: 3_000
            }
        );
    }

    #[test]
    fn keys_separate_addresses_from_targets() {
        assert_eq!(
            guard_keys("1.2.3.4", "ems_001"),
            ["addr:1.2.3.4".to_owned(), "target:ems_001".to_owned()]
        );
    }
}
