//! The sizes of a `history` run, from the environment.

use anyhow::{Context, Result, ensure};

/// Sizes of each part of a `history` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Closed-loop messages per round (`HUB_BENCH_MESSAGES`); the open loop sends twice as many.
    pub messages: u64,
    /// Dashboards attached in the side-by-side rounds (`HUB_BENCH_DASHBOARDS`).
    pub dashboards: usize,
    /// Side-by-side rounds per hub (`HUB_BENCH_ROUNDS`, at least 3).
    pub rounds: usize,
    /// Devices of the fleet, each with one dashboard (`HUB_BENCH_FLEET`).
    pub fleet: usize,
    /// Seconds the fleet sends at 1 Hz (`HUB_BENCH_FLEET_SECS`).
    pub fleet_secs: u64,
    /// Samples of the day of history, one a second (`HUB_BENCH_DAY_SAMPLES`).
    pub day_samples: u64,
    /// Timed history queries of each kind (`HUB_BENCH_QUERIES`).
    pub queries: usize,
    /// Samples streamed for the storage counters (`HUB_BENCH_COUNTER_SAMPLES`), rounded up to whole groups.
    pub counter_samples: u64,
}

impl Settings {
    /// Defaults: 10,000 messages, 10 dashboards, 4 rounds; 1,000 devices for 60 s; 86,400 samples; 20 queries;
    /// 6,000 counted samples.
    pub const DEFAULT: Settings = Settings {
        messages: 10_000,
        dashboards: 10,
        rounds: 4,
        fleet: 1_000,
        fleet_secs: 60,
        day_samples: 86_400,
        queries: 20,
        counter_samples: 6_000,
    };

    /// The defaults with what the environment overrides.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let read = |name: &str, default: u64, least: u64| -> Result<u64> {
            let Some(text) = lookup(name) else {
                return Ok(default);
            };
            let value: u64 = text
                .trim()
                .parse()
                .with_context(|| format!("{name} must be a whole number, got {text:?}"))?;
            ensure!(value >= least, "{name} must be at least {least}");
            Ok(value)
        };
        let d = Self::DEFAULT;
        Ok(Self {
            messages: read("HUB_BENCH_MESSAGES", d.messages, 1)?,
            dashboards: usize::try_from(read("HUB_BENCH_DASHBOARDS", d.dashboards as u64, 1)?)?,
            rounds: usize::try_from(read("HUB_BENCH_ROUNDS", d.rounds as u64, 3)?)?,
            fleet: usize::try_from(read("HUB_BENCH_FLEET", d.fleet as u64, 1)?)?,
            fleet_secs: read("HUB_BENCH_FLEET_SECS", d.fleet_secs, 1)?,
            day_samples: read("HUB_BENCH_DAY_SAMPLES", d.day_samples, 1)?,
            queries: usize::try_from(read("HUB_BENCH_QUERIES", d.queries as u64, 1)?)?,
            counter_samples: read("HUB_BENCH_COUNTER_SAMPLES", d.counter_samples, 1)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(with(&[]).expect("defaults"), Settings::DEFAULT);
        let quick =
            with(&[("HUB_BENCH_FLEET", "50"), ("HUB_BENCH_FLEET_SECS", " 10 ")]).expect("valid");
        assert_eq!((quick.fleet, quick.fleet_secs), (50, 10));
        assert_eq!(quick.rounds, 4);
    }

    #[test]
    fn refuses_nonsense_and_too_few_rounds() {
        assert!(with(&[("HUB_BENCH_FLEET", "many")]).is_err());
        assert!(with(&[("HUB_BENCH_ROUNDS", "2")]).is_err());
        assert!(with(&[("HUB_BENCH_QUERIES", "0")]).is_err());
        assert!(with(&[("HUB_BENCH_MESSAGES", "-1")]).is_err());
    }
}
