//! The hub's tunables, read once from `wrangler.toml` `[vars]` (or `.dev.vars`), each with a documented default.
//! A missing, empty, zero or unreadable value means the default, so a typo can never switch a limit off.

use crate::auth_guard::GuardPolicy;
use crate::command_queue::DEFAULT_QUEUE_LIMIT;
use crate::flood::FloodPolicy;
use crate::history::HistoryPolicy;
use crate::presence::PresencePolicy;

/// Every tunable of the Worker and its Durable Objects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HubConfig {
    /// Limits on failed authentications.
    pub guard: GuardPolicy,
    /// Flood limits per device object.
    pub flood: FloodPolicy,
    /// When a silent device is reported offline.
    pub presence: PresencePolicy,
    /// When samples are written to history and how long they are kept.
    pub history: HistoryPolicy,
    /// `COMMAND_QUEUE_LIMIT`: queued and sent commands (with a time to live) one device may have; default 50.
    pub command_queue_limit: usize,
    /// `HUB_TEST_FAULTS = "enabled"`: requests may inject failures with the `X-Hub-Test-Fault` header. For the
    /// end-to-end tests only; never set it on a deployed hub.
    pub test_faults: bool,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            guard: GuardPolicy::DEFAULT,
            flood: FloodPolicy::DEFAULT,
            presence: PresencePolicy::DEFAULT,
            history: HistoryPolicy::DEFAULT,
            command_queue_limit: DEFAULT_QUEUE_LIMIT,
            test_faults: false,
        }
    }
}

impl HubConfig {
    /// Reads the variables through `var` (a name to its text, if set).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let defaults = Self::default();
        let number = |name: &str| {
            var(name)
                .and_then(|text| text.trim().parse::<f64>().ok())
                .filter(|n| n.is_finite() && *n > 0.0)
        };
        let whole = |name: &str, default: u64| {
            number(name)
                .filter(|n| n.fract() == 0.0 && *n <= u32::MAX as f64)
                .map_or(default, |n| n as u64)
        };
        let rate = |name: &str, default: f64| number(name).unwrap_or(default);
        let guard = GuardPolicy {
            target_limit: whole("AUTH_FAILURE_LIMIT", u64::from(defaults.guard.target_limit))
                as u32,
            address_limit: whole(
                "AUTH_FAILURE_ADDRESS_LIMIT",
                u64::from(defaults.guard.address_limit),
            ) as u32,
            window_ms: whole("AUTH_FAILURE_WINDOW_SECS", defaults.guard.window_ms / 1000) * 1000,
        };
        let flood = FloodPolicy {
            max_dashboards: whole(
                "MAX_DASHBOARDS_PER_DEVICE",
                defaults.flood.max_dashboards as u64,
            ) as usize,
            dashboard_frames_per_sec: rate(
                "DASHBOARD_FRAMES_PER_SEC",
                defaults.flood.dashboard_frames_per_sec,
            ),
            commands_per_minute: rate("COMMANDS_PER_MINUTE", defaults.flood.commands_per_minute),
            device_frames_per_sec: rate(
                "DEVICE_FRAMES_PER_SEC",
                defaults.flood.device_frames_per_sec,
            ),
            device_bytes_per_sec: rate("DEVICE_BYTES_PER_SEC", defaults.flood.device_bytes_per_sec),
        };
        let presence = PresencePolicy::with_silence_secs(whole(
            "DEVICE_SILENCE_SECS",
            defaults.presence.silence_ms / 1000,
        ));
        let history = HistoryPolicy::new(
            whole(
                "HISTORY_FLUSH_SAMPLES",
                defaults.history.flush_samples as u64,
            ),
            whole("HISTORY_FLUSH_SECS", defaults.history.flush_ms / 1000),
            whole(
                "HISTORY_RETENTION_DAYS",
                defaults.history.retention_ms / 86_400_000,
            ),
        );
        let command_queue_limit =
            whole("COMMAND_QUEUE_LIMIT", defaults.command_queue_limit as u64) as usize;
        Self {
            guard,
            flood,
            presence,
            history,
            command_queue_limit,
            test_faults: Self::test_faults_enabled(var(TEST_FAULTS_VAR)),
        }
    }

    /// Whether the `HUB_TEST_FAULTS` value enables test faults (exactly `enabled`).
    pub fn test_faults_enabled(value: Option<String>) -> bool {
        value.is_some_and(|v| v.trim() == "enabled")
    }
}

/// The variable that lets requests inject failures (end-to-end tests only).
pub const TEST_FAULTS_VAR: &str = "HUB_TEST_FAULTS";

/// The request header through which a test injects failures, honoured only with `HUB_TEST_FAULTS = "enabled"`.
pub const TEST_FAULT_HEADER: &str = "X-Hub-Test-Fault";

/// Failures one request asks for (test builds of the hub only; see [`HubConfig::test_faults`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestFaults {
    /// `guard`: the failed-authentication guard cannot be reached.
    pub guard_unavailable: bool,
    /// `hub_push`: the admin API cannot reach the device objects after writing D1.
    pub hub_push_unavailable: bool,
    /// `hold_lookup=MS`: the device object holds a D1 lookup's answer this long before using it.
    pub hold_lookup_ms: u64,
}

impl TestFaults {
    /// Parses a comma-separated header value; unknown entries are ignored. `None` when faults are off.
    pub fn parse(header: Option<&str>, enabled: bool) -> Self {
        let mut faults = Self::default();
        if !enabled {
            return faults;
        }
        for entry in header.unwrap_or("").split(',').map(str::trim) {
            match entry.split_once('=') {
                Some(("hold_lookup", ms)) => faults.hold_lookup_ms = ms.parse().unwrap_or(0),
                _ if entry == "guard" => faults.guard_unavailable = true,
                _ if entry == "hub_push" => faults.hub_push_unavailable = true,
                _ => {}
            }
        }
        faults
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> HubConfig {
        HubConfig::from_vars(|name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn nothing_set_is_every_default() {
        assert_eq!(config(&[]), HubConfig::default());
    }

    #[test]
    fn each_variable_sets_its_limit() {
        let c = config(&[
            ("AUTH_FAILURE_LIMIT", "5"),
            ("AUTH_FAILURE_ADDRESS_LIMIT", "7"),
            ("AUTH_FAILURE_WINDOW_SECS", "3"),
            ("MAX_DASHBOARDS_PER_DEVICE", "2"),
            ("DASHBOARD_FRAMES_PER_SEC", "0.5"),
            ("COMMANDS_PER_MINUTE", "3"),
            ("DEVICE_FRAMES_PER_SEC", "4"),
            ("DEVICE_BYTES_PER_SEC", "1000"),
            ("DEVICE_SILENCE_SECS", "6"),
            ("HISTORY_FLUSH_SAMPLES", "50"),
            ("HISTORY_FLUSH_SECS", "2"),
            ("HISTORY_RETENTION_DAYS", "30"),
            ("COMMAND_QUEUE_LIMIT", "5"),
            ("HUB_TEST_FAULTS", "enabled"),
        ]);
        assert_eq!(
            c.guard,
            GuardPolicy {
                target_limit: 5,
                address_limit: 7,
                window_ms: 3_000
            }
        );
        assert_eq!(c.flood.max_dashboards, 2);
        assert_eq!(c.flood.dashboard_frames_per_sec, 0.5);
        assert_eq!(c.flood.commands_per_minute, 3.0);
        assert_eq!(c.flood.device_frames_per_sec, 4.0);
        assert_eq!(c.flood.device_bytes_per_sec, 1000.0);
        assert_eq!(c.presence.silence_ms, 6_000);
        assert_eq!((c.history.flush_samples, c.history.flush_ms), (50, 2_000));
        assert_eq!(c.history.retention_ms, 30 * 86_400_000);
        assert_eq!(c.command_queue_limit, 5);
        assert!(c.test_faults);
    }

    #[test]
    fn test_faults_need_the_variable() {
        let header = Some("guard, hub_push,hold_lookup=1500,unknown");
        assert_eq!(TestFaults::parse(header, false), TestFaults::default());
        assert_eq!(
            TestFaults::parse(header, true),
            TestFaults {
                guard_unavailable: true,
                hub_push_unavailable: true,
                hold_lookup_ms: 1500
            }
        );
        assert_eq!(TestFaults::parse(None, true), TestFaults::default());
    }

    #[test]
    fn nonsense_falls_back_to_the_default() {
        let c = config(&[
            ("AUTH_FAILURE_LIMIT", "0"),
            ("AUTH_FAILURE_WINDOW_SECS", "x"),
            ("MAX_DASHBOARDS_PER_DEVICE", "2.5"),
            ("DEVICE_FRAMES_PER_SEC", "-3"),
            ("DEVICE_BYTES_PER_SEC", "inf"),
            ("COMMAND_QUEUE_LIMIT", "-1"),
            ("HUB_TEST_FAULTS", "yes"),
        ]);
        assert_eq!(c, HubConfig::default());
    }
}
