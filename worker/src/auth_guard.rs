//! Limits on guessing: failed authentications of one client address, counted per address and per
//! (address, target), with reservations so that a burst of parallel attempts cannot overshoot the limit.
//!
//! Only failures are counted, and only against the address that failed: a credential that verifies is never
//! refused because someone else failed. There is no global counter per target (a device id, `admin`, `api`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How long a reservation holds a slot when its outcome never arrives (the gateway failed in between).
pub const RESERVATION_TTL_MS: u64 = 30_000;
/// Most targets one address ledger tracks; past this the stalest target window is forgotten (the address-wide
/// count still holds).
pub const MAX_TARGETS: usize = 1024;

/// How many failures an address may have in a window before its further attempts get 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardPolicy {
    /// Failures allowed per (address, target) in a window: `AUTH_FAILURE_LIMIT`.
    pub target_limit: u32,
    /// Failures allowed per address across all targets in a window: `AUTH_FAILURE_ADDRESS_LIMIT`.
    pub address_limit: u32,
    /// Length of the window in milliseconds: `AUTH_FAILURE_WINDOW_SECS`.
    pub window_ms: u64,
}

impl GuardPolicy {
    /// 10 failures a minute per (address, target), 50 per address.
    pub const DEFAULT: GuardPolicy = GuardPolicy {
        target_limit: 10,
        address_limit: 50,
        window_ms: 60_000,
    };
}

/// What the gateway asks an address's guard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum GuardRequest {
    /// May the address try `target` now? If so a slot is reserved until [`GuardRequest::Finish`].
    Begin {
        /// What is being authenticated against, e.g. `device:ems_001`.
        target: String,
    },
    /// The outcome of a reserved attempt.
    Finish {
        /// The ticket [`GuardVerdict::Allowed`] gave.
        ticket: u64,
        /// Whether the credential was refused.
        failed: bool,
    },
    /// A failure found without a reservation (a malformed token, a wrong admin token): counted unless the
    /// address is blocked already, in which case the verdict says so.
    Fail {
        /// What was being authenticated against.
        target: String,
    },
}

/// The guard's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum GuardVerdict {
    /// Go ahead (a [`GuardRequest::Begin`] carries the reservation's ticket).
    Allowed {
        /// The reservation to finish, for `Begin`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<u64>,
    },
    /// Refuse with 429 and `Retry-After: retry_after_secs`.
    Blocked {
        /// Whole seconds until an attempt may succeed again (at least 1).
        retry_after_secs: u64,
        /// Whether the whole address is blocked (every target), not only this (address, target).
        #[serde(default)]
        address_wide: bool,
    },
}

/// The failures of one key in the current fixed window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureWindow {
    /// When the window started, in Unix milliseconds.
    pub started_ms: u64,
    /// Failures since then.
    pub failures: u32,
}

impl FailureWindow {
    /// Failures that still count at `now_ms`.
    pub fn live_failures(&self, now_ms: u64, window_ms: u64) -> u32 {
        if now_ms >= self.started_ms.saturating_add(window_ms) {
            0
        } else {
            self.failures
        }
    }

    /// Milliseconds until the window ends.
    fn remaining_ms(&self, now_ms: u64, window_ms: u64) -> u64 {
        self.started_ms
            .saturating_add(window_ms)
            .saturating_sub(now_ms)
    }

    /// Counts a failure at `now_ms`, starting a new window if the last one is over.
    pub fn record_failure(&mut self, now_ms: u64, window_ms: u64) {
        if self.live_failures(now_ms, window_ms) == 0 {
            *self = FailureWindow {
                started_ms: now_ms,
                failures: 0,
            };
        }
        self.failures = self.failures.saturating_add(1);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Reservation {
    ticket: u64,
    target: String,
    at_ms: u64,
}

/// Everything one client address's guard knows: its failures, per target and in all, and its attempts in flight.
#[derive(Debug, Clone, Default)]
pub struct AddressLedger {
    address: FailureWindow,
    targets: BTreeMap<String, FailureWindow>,
    reservations: Vec<Reservation>,
    next_ticket: u64,
}

impl AddressLedger {
    /// Carries out one request at `now_ms`.
    pub fn handle(
        &mut self,
        request: GuardRequest,
        now_ms: u64,
        policy: GuardPolicy,
    ) -> GuardVerdict {
        self.forget_stale(now_ms, policy);
        match request {
            GuardRequest::Begin { target } => self.begin(target, now_ms, policy),
            GuardRequest::Finish { ticket, failed } => {
                self.finish(ticket, failed, now_ms, policy);
                GuardVerdict::Allowed { ticket: None }
            }
            GuardRequest::Fail { target } => match self.verdict(&target, now_ms, policy) {
                GuardVerdict::Allowed { .. } => {
                    self.record_failure(&target, now_ms, policy);
                    GuardVerdict::Allowed { ticket: None }
                }
                blocked => blocked,
            },
        }
    }

    /// Whether an attempt on `target` may go ahead now, counting attempts in flight as failures to come.
    pub fn verdict(&self, target: &str, now_ms: u64, policy: GuardPolicy) -> GuardVerdict {
        let in_flight_total = self.reservations.len() as u32;
        let in_flight_target = self
            .reservations
            .iter()
            .filter(|r| r.target == target)
            .count() as u32;
        let address_failures = self.address.live_failures(now_ms, policy.window_ms);
        let target_window = self.targets.get(target).copied().unwrap_or_default();
        let target_failures = target_window.live_failures(now_ms, policy.window_ms);
        let mut retry_after_ms = 0;
        let mut address_wide = false;
        if address_failures >= policy.address_limit {
            retry_after_ms = self.address.remaining_ms(now_ms, policy.window_ms);
            address_wide = true;
        } else if address_failures + in_flight_total >= policy.address_limit {
            retry_after_ms = 1_000;
        }
        if target_failures >= policy.target_limit {
            retry_after_ms =
                retry_after_ms.max(target_window.remaining_ms(now_ms, policy.window_ms));
        } else if target_failures + in_flight_target >= policy.target_limit {
            retry_after_ms = retry_after_ms.max(1_000);
        }
        if retry_after_ms == 0 {
            GuardVerdict::Allowed { ticket: None }
        } else {
            GuardVerdict::Blocked {
                retry_after_secs: retry_after_ms.div_ceil(1000).max(1),
                address_wide,
            }
        }
    }

    fn begin(&mut self, target: String, now_ms: u64, policy: GuardPolicy) -> GuardVerdict {
        if let blocked @ GuardVerdict::Blocked { .. } = self.verdict(&target, now_ms, policy) {
            return blocked;
        }
        self.next_ticket = self.next_ticket.wrapping_add(1);
        let ticket = self.next_ticket;
        self.reservations.push(Reservation {
            ticket,
            target,
            at_ms: now_ms,
        });
        GuardVerdict::Allowed {
            ticket: Some(ticket),
        }
    }

    fn finish(&mut self, ticket: u64, failed: bool, now_ms: u64, policy: GuardPolicy) {
        let Some(index) = self.reservations.iter().position(|r| r.ticket == ticket) else {
            return;
        };
        let reservation = self.reservations.swap_remove(index);
        if failed {
            self.record_failure(&reservation.target, now_ms, policy);
        }
    }

    fn record_failure(&mut self, target: &str, now_ms: u64, policy: GuardPolicy) {
        self.address.record_failure(now_ms, policy.window_ms);
        if !self.targets.contains_key(target) && self.targets.len() >= MAX_TARGETS {
            let stalest = self
                .targets
                .iter()
                .min_by_key(|(_, window)| window.started_ms)
                .map(|(name, _)| name.clone());
            if let Some(name) = stalest {
                self.targets.remove(&name);
            }
        }
        self.targets
            .entry(target.to_owned())
            .or_default()
            .record_failure(now_ms, policy.window_ms);
    }

    /// Drops expired reservations and target windows that no longer count.
    fn forget_stale(&mut self, now_ms: u64, policy: GuardPolicy) {
        self.reservations
            .retain(|r| now_ms < r.at_ms.saturating_add(RESERVATION_TTL_MS));
        self.targets
            .retain(|_, window| window.live_failures(now_ms, policy.window_ms) > 0);
    }

    /// Whether the ledger holds nothing worth keeping (the guard may then forget it).
    pub fn is_idle(&self, now_ms: u64, policy: GuardPolicy) -> bool {
        self.reservations.is_empty() && self.address.live_failures(now_ms, policy.window_ms) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: GuardPolicy = GuardPolicy {
        target_limit: 3,
        address_limit: 5,
        window_ms: 10_000,
    };

    fn begin(ledger: &mut AddressLedger, target: &str, now: u64) -> GuardVerdict {
        ledger.handle(
            GuardRequest::Begin {
                target: target.into(),
            },
            now,
            POLICY,
        )
    }

    fn ticket(verdict: GuardVerdict) -> u64 {
        match verdict {
            GuardVerdict::Allowed { ticket: Some(t) } => t,
            other => panic!("expected a reservation, got {other:?}"),
        }
    }

    fn fail_once(ledger: &mut AddressLedger, target: &str, now: u64) {
        let t = ticket(begin(ledger, target, now));
        ledger.handle(
            GuardRequest::Finish {
                ticket: t,
                failed: true,
            },
            now,
            POLICY,
        );
    }

    #[test]
    fn a_target_blocks_after_its_limit_until_the_window_ends() {
        let mut ledger = AddressLedger::default();
        for _ in 0..3 {
            fail_once(&mut ledger, "device:a", 1_000);
        }
        assert_eq!(
            begin(&mut ledger, "device:a", 1_000),
            GuardVerdict::Blocked {
                retry_after_secs: 10,
                address_wide: false
            }
        );
        assert_eq!(
            begin(&mut ledger, "device:a", 10_500),
            GuardVerdict::Blocked {
                retry_after_secs: 1,
                address_wide: false
            }
        );
        assert!(matches!(
            begin(&mut ledger, "device:a", 11_000),
            GuardVerdict::Allowed { ticket: Some(_) }
        ));
    }

    #[test]
    fn other_targets_of_the_address_go_on_until_the_address_limit() {
        let mut ledger = AddressLedger::default();
        for _ in 0..3 {
            fail_once(&mut ledger, "device:a", 0);
        }
        // The address has 3 of its 5; device:b may fail twice more, then the whole address is blocked.
        fail_once(&mut ledger, "device:b", 0);
        fail_once(&mut ledger, "device:b", 0);
        assert!(matches!(
            begin(&mut ledger, "device:c", 0),
            GuardVerdict::Blocked {
                address_wide: true,
                ..
            }
        ));
    }

    #[test]
    fn verified_attempts_release_their_slot_and_count_nothing() {
        let mut ledger = AddressLedger::default();
        for _ in 0..10 {
            let t = ticket(begin(&mut ledger, "device:a", 0));
            ledger.handle(
                GuardRequest::Finish {
                    ticket: t,
                    failed: false,
                },
                0,
                POLICY,
            );
        }
        assert!(matches!(
            begin(&mut ledger, "device:a", 0),
            GuardVerdict::Allowed { .. }
        ));
    }

    #[test]
    fn a_parallel_burst_cannot_overshoot_the_limit() {
        let mut ledger = AddressLedger::default();
        let allowed: Vec<GuardVerdict> = (0..20)
            .map(|_| begin(&mut ledger, "device:a", 0))
            .filter(|v| matches!(v, GuardVerdict::Allowed { .. }))
            .collect();
        assert_eq!(allowed.len(), 3, "only the limit's worth are let through");
    }

    #[test]
    fn lost_outcomes_free_their_slot_after_the_ttl() {
        let mut ledger = AddressLedger::default();
        for _ in 0..3 {
            ticket(begin(&mut ledger, "device:a", 0));
        }
        assert!(matches!(
            begin(&mut ledger, "device:a", 1),
            GuardVerdict::Blocked {
                retry_after_secs: 1,
                ..
            }
        ));
        assert!(matches!(
            begin(&mut ledger, "device:a", RESERVATION_TTL_MS),
            GuardVerdict::Allowed { .. }
        ));
    }

    #[test]
    fn unreserved_failures_count_unless_already_blocked() {
        let mut ledger = AddressLedger::default();
        let fail = |ledger: &mut AddressLedger| {
            ledger.handle(
                GuardRequest::Fail {
                    target: "admin".into(),
                },
                0,
                POLICY,
            )
        };
        for _ in 0..3 {
            assert_eq!(fail(&mut ledger), GuardVerdict::Allowed { ticket: None });
        }
        assert!(matches!(fail(&mut ledger), GuardVerdict::Blocked { .. }));
        assert_eq!(
            ledger.address.failures, 3,
            "blocked attempts are not counted"
        );
    }

    #[test]
    fn target_windows_are_bounded() {
        let mut ledger = AddressLedger::default();
        let wide = GuardPolicy {
            target_limit: 1,
            address_limit: u32::MAX,
            window_ms: 1_000_000,
        };
        for i in 0..(MAX_TARGETS as u64 + 10) {
            ledger.handle(
                GuardRequest::Fail {
                    target: format!("device:{i}"),
                },
                i,
                wide,
            );
        }
        assert_eq!(ledger.targets.len(), MAX_TARGETS);
        assert!(
            !ledger.targets.contains_key("device:0"),
            "stalest forgotten"
        );
    }

    #[test]
    fn an_unknown_ticket_is_ignored() {
        let mut ledger = AddressLedger::default();
        ledger.handle(
            GuardRequest::Finish {
                ticket: 99,
                failed: true,
            },
            0,
            POLICY,
        );
        assert!(ledger.is_idle(0, POLICY));
    }

    #[test]
    fn requests_and_verdicts_have_a_stable_json_shape() {
        let request = GuardRequest::Begin {
            target: "device:a".into(),
        };
        assert_eq!(
            serde_json::to_string(&request).expect("json"),
            r#"{"op":"begin","target":"device:a"}"#
        );
        let blocked = GuardVerdict::Blocked {
            retry_after_secs: 7,
            address_wide: false,
        };
        assert_eq!(
            serde_json::to_string(&blocked).expect("json"),
            r#"{"verdict":"blocked","retry_after_secs":7,"address_wide":false}"#
        );
    }
}
