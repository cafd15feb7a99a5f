//! When the hub retries telling device objects about a credential change they have not confirmed yet.
//!
//! Every change made through the admin API is first committed in D1 with a version in `hub_sync`; the admin API
//! then pushes it at once, and the sync sweeper (the Worker's cron trigger, every minute) pushes whatever is
//! still unconfirmed, backing off per subject so a broken object cannot make every run slow.

/// How long after failure number `attempts` (1 for the first) the sweeper may try again: the first retry is
/// the next sweep (within a minute), then 1 minute, doubling, at most 10 minutes.
pub fn retry_delay_ms(attempts: u32) -> u64 {
    const SECOND_MS: u64 = 60_000;
    const MAX_MS: u64 = 600_000;
    if attempts <= 1 {
        return 0;
    }
    let doublings = (attempts - 2).min(16);
    SECOND_MS.saturating_mul(1 << doublings).min(MAX_MS)
}

/// Most subrequests one sweep may spend (the Workers Free plan allows 50 per invocation).
pub const SWEEP_SUBREQUEST_BUDGET: usize = 45;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_at_the_next_sweep_then_backs_off_to_ten_minutes() {
        assert_eq!(retry_delay_ms(0), 0);
        assert_eq!(retry_delay_ms(1), 0);
        assert_eq!(retry_delay_ms(2), 60_000);
        assert_eq!(retry_delay_ms(3), 120_000);
        assert_eq!(retry_delay_ms(5), 480_000);
        assert_eq!(retry_delay_ms(6), 600_000);
        assert_eq!(retry_delay_ms(u32::MAX), 600_000);
    }
}
