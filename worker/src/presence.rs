//! Presence that tells the truth: when a device that keeps its socket open but says nothing is reported offline,
//! and when the Durable Object's alarm must next look.
//!
//! A device is heard from when it connects, when it sends a frame, and when the runtime auto-answers its
//! `{"type":"ping"}` without waking the object (`getWebSocketAutoResponseTimestamp`). The alarm looks at most
//! once per `report_within` of the last activity, so an idle pinging device costs about one alarm a minute.

/// The silence limit and how soon a silent device is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresencePolicy {
    /// A device silent this long is offline (reason `timeout`): `DEVICE_SILENCE_SECS`, default 45 s, the
    /// agent's own dead interval.
    pub silence_ms: u64,
    /// A silent device is reported no later than this after it was last heard from: `silence_ms` + 15 s.
    pub report_within_ms: u64,
}

impl PresencePolicy {
    /// 45 s of silence, reported within 60 s.
    pub const DEFAULT: PresencePolicy = PresencePolicy::with_silence_secs(45);

    /// A policy for a silence limit in seconds; the report comes at most 15 s (a third of it for short
    /// limits) after the limit passes.
    pub const fn with_silence_secs(secs: u64) -> Self {
        let silence_ms = secs * 1000;
        let slack = if secs >= 45 { 15_000 } else { silence_ms / 3 };
        Self {
            silence_ms,
            report_within_ms: silence_ms + slack,
        }
    }
}

/// The latest sign of life among the ones known.
pub fn last_activity(
    connected_ms: u64,
    last_frame_ms: Option<u64>,
    auto_pong_ms: Option<u64>,
) -> u64 {
    connected_ms
        .max(last_frame_ms.unwrap_or(0))
        .max(auto_pong_ms.unwrap_or(0))
}

/// What the alarm decides about one open device socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SilenceCheck {
    /// Heard from recently; look again at `next_check_ms`.
    Alive {
        /// When the alarm must look again.
        next_check_ms: u64,
    },
    /// Silent past the limit: report it offline with reason `timeout`.
    Silent,
}

/// Judges a device last heard from at `last_activity_ms`, at `now_ms`.
pub fn check_silence(last_activity_ms: u64, now_ms: u64, policy: PresencePolicy) -> SilenceCheck {
    if now_ms.saturating_sub(last_activity_ms) >= policy.silence_ms {
        return SilenceCheck::Silent;
    }
    // Looking at last + report_within finds a device that fell silent right after `last` in time, and a device
    // that stays active pushes the next look a full period on.
    let next_check_ms = last_activity_ms
        .saturating_add(policy.report_within_ms)
        .max(now_ms.saturating_add(1_000));
    SilenceCheck::Alive { next_check_ms }
}

/// The earliest of the times something needs the alarm, if any.
pub fn earliest(times: impl IntoIterator<Item = Option<u64>>) -> Option<u64> {
    times.into_iter().flatten().min()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: PresencePolicy = PresencePolicy::DEFAULT;

    #[test]
    fn the_default_reports_45_s_of_silence_within_60_s() {
        assert_eq!(POLICY.silence_ms, 45_000);
        assert_eq!(POLICY.report_within_ms, 60_000);
        assert_eq!(PresencePolicy::with_silence_secs(3).report_within_ms, 4_000);
    }

    #[test]
    fn the_latest_sign_of_life_counts() {
        assert_eq!(last_activity(10, None, None), 10);
        assert_eq!(last_activity(10, Some(50), Some(30)), 50);
        assert_eq!(last_activity(10, Some(20), Some(90)), 90);
    }

    #[test]
    fn silent_past_the_limit_is_reported() {
        assert_eq!(check_silence(0, 45_000, POLICY), SilenceCheck::Silent);
        assert_eq!(
            check_silence(0, 44_999, POLICY),
            SilenceCheck::Alive {
                next_check_ms: 60_000
            }
        );
    }

    #[test]
    fn a_device_that_dies_is_reported_within_the_bound_whenever_the_alarm_ran() {
        // The device pings every 20 s until its last ping at `last`, then dies. Whatever the phase of the
        // first alarm, the look that reports it comes after 45 s and no later than 60 s of silence.
        let last = 200_000;
        let heard_by = |t: u64| (t.min(last) / 20_000) * 20_000;
        for first_alarm in (100_000..120_000).step_by(1_000) {
            let mut alarm = first_alarm;
            let reported = loop {
                match check_silence(heard_by(alarm), alarm, POLICY) {
                    SilenceCheck::Silent => break alarm,
                    SilenceCheck::Alive { next_check_ms } => alarm = next_check_ms,
                }
            };
            let silence = reported - last;
            assert!(
                (45_000..=60_000).contains(&silence),
                "alarm from {first_alarm}: {silence} ms"
            );
        }
    }

    #[test]
    fn an_active_device_is_looked_at_about_once_a_period() {
        let now = 1_000_000;
        assert_eq!(
            check_silence(now, now, POLICY),
            SilenceCheck::Alive {
                next_check_ms: now + 60_000
            }
        );
    }

    #[test]
    fn the_earliest_need_wins() {
        assert_eq!(earliest([None, Some(5), Some(3)]), Some(3));
        assert_eq!(earliest([None, None]), None);
    }
}
