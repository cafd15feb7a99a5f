//! Settings that a command changes and that outlive a restart: the sample interval set by `set_interval`.
//!
//! The command's interval is saved together with the config's `sample_interval_secs` it overrode. At start
//! [`choose_interval`] decides, purely: the saved interval wins while the config still says what it said then;
//! once an operator has edited the config, the config wins and the saved setting is dropped. A file that cannot
//! be read or makes no sense is ignored (the config wins), never fatal. The file itself is [`file::SettingsFile`].

pub mod file;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::commands::{MAX_INTERVAL_SECS, MIN_INTERVAL_SECS};

pub use file::SettingsFile;

/// Two config intervals closer than this (in seconds) are the same value: the file keeps seconds as a float.
const SAME_INTERVAL_SECS: f64 = 1e-6;

/// What `settings.json` holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedInterval {
    /// The interval `set_interval` set, in whole seconds (1 to 3600, as the command allows).
    pub sample_interval_secs: u64,
    /// The config's `sample_interval_secs` when the command overrode it.
    pub config_interval_secs: f64,
}

impl SavedInterval {
    /// `every`, set by a command while the config said `config`.
    pub fn new(every: Duration, config: Duration) -> Self {
        Self {
            sample_interval_secs: every.as_secs(),
            config_interval_secs: config.as_secs_f64(),
        }
    }
}

/// The interval in force at start, and why.
#[derive(Debug, Clone, PartialEq)]
pub enum IntervalChoice {
    /// No saved setting: the config's interval.
    Config(Duration),
    /// A `set_interval` command's interval, the config being unchanged since.
    Saved {
        /// The command's interval, in force.
        every: Duration,
        /// What the config says (and said when the command overrode it).
        config: Duration,
    },
    /// The config has changed since a command set an interval: the config's interval; drop the saved one.
    ConfigEdited {
        /// The config's interval, in force.
        config: Duration,
        /// The command's interval, no longer used.
        saved: Duration,
    },
    /// The saved setting could not be read or makes no sense: the config's interval; the file is left alone.
    Unreadable {
        /// The config's interval, in force.
        config: Duration,
        /// What is wrong with the file.
        reason: String,
    },
}

impl IntervalChoice {
    /// The interval to sample at.
    pub fn interval(&self) -> Duration {
        match self {
            Self::Config(config)
            | Self::ConfigEdited { config, .. }
            | Self::Unreadable { config, .. } => *config,
            Self::Saved { every, .. } => *every,
        }
    }

    /// Whether the saved setting is stale and should be removed.
    pub fn drops_saved(&self) -> bool {
        matches!(self, Self::ConfigEdited { .. })
    }
}

/// Decides the interval at start from the config's and what was saved (`Ok(None)`: nothing; `Err`: the file
/// could not be read or parsed).
pub fn choose_interval(
    config: Duration,
    saved: Result<Option<SavedInterval>, String>,
) -> IntervalChoice {
    let saved = match saved.and_then(|saved| saved.map(checked).transpose()) {
        Ok(Some(saved)) => saved,
        Ok(None) => return IntervalChoice::Config(config),
        Err(reason) => return IntervalChoice::Unreadable { config, reason },
    };
    let every = Duration::from_secs(saved.sample_interval_secs);
    if (saved.config_interval_secs - config.as_secs_f64()).abs() < SAME_INTERVAL_SECS {
        IntervalChoice::Saved { every, config }
    } else {
        IntervalChoice::ConfigEdited {
            config,
            saved: every,
        }
    }
}

/// `saved` if its values are ones the command and the config could have given.
fn checked(saved: SavedInterval) -> Result<SavedInterval, String> {
    let every = saved.sample_interval_secs;
    if !(MIN_INTERVAL_SECS..=MAX_INTERVAL_SECS).contains(&every) {
        return Err(format!(
            "sample_interval_secs {every} is not between {MIN_INTERVAL_SECS} and {MAX_INTERVAL_SECS}"
        ));
    }
    let config = saved.config_interval_secs;
    if !config.is_finite() || config <= 0.0 {
        return Err(format!(
            "config_interval_secs {config} is not a positive number"
        ));
    }
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn saved(every: u64, config: f64) -> Result<Option<SavedInterval>, String> {
        Ok(Some(SavedInterval {
            sample_interval_secs: every,
            config_interval_secs: config,
        }))
    }

    #[test]
    fn without_a_saved_setting_the_config_rules() {
        let choice = choose_interval(SECOND, Ok(None));
        assert_eq!(choice, IntervalChoice::Config(SECOND));
        assert!(!choice.drops_saved());
    }

    #[test]
    fn the_command_s_interval_survives_while_the_config_is_unchanged() {
        let config = Duration::from_millis(50);
        let every = Duration::from_secs(5);
        let written = SavedInterval::new(every, config);
        let choice = choose_interval(config, Ok(Some(written)));
        assert_eq!(choice, IntervalChoice::Saved { every, config });
        assert_eq!(choice.interval(), every);
        assert!(!choice.drops_saved());
    }

    #[test]
    fn an_edited_config_wins_and_drops_the_saved_setting() {
        let config = Duration::from_secs(2);
        let choice = choose_interval(config, saved(5, 1.0));
        let saved = Duration::from_secs(5);
        assert_eq!(choice, IntervalChoice::ConfigEdited { config, saved });
        assert_eq!(choice.interval(), config);
        assert!(choice.drops_saved());
    }

    #[test]
    fn a_setting_that_cannot_be_read_or_makes_no_sense_is_ignored_not_dropped() {
        for (input, why) in [
            (Err("expected value at line 1".to_owned()), "expected value"),
            (saved(0, 1.0), "sample_interval_secs 0"),
            (saved(3601, 1.0), "sample_interval_secs 3601"),
            (saved(5, f64::NAN), "config_interval_secs NaN"),
            (saved(5, -1.0), "config_interval_secs -1"),
        ] {
            let choice = choose_interval(SECOND, input);
            assert_eq!(choice.interval(), SECOND, "{choice:?}");
            assert!(!choice.drops_saved());
            match choice {
                IntervalChoice::Unreadable { reason, .. } => {
                    assert!(reason.contains(why), "{reason}")
                }
                other => panic!("not refused: {other:?}"),
            }
        }
    }

    #[test]
    fn the_file_format_is_two_named_numbers() {
        let written = SavedInterval::new(Duration::from_secs(5), Duration::from_millis(250));
        let text = serde_json::to_string(&written).expect("serialise");
        assert_eq!(
            text,
            r#"{"sample_interval_secs":5,"config_interval_secs":0.25}"#
        );
        let unknown = r#"{"sample_interval_secs":5,"config_interval_secs":1,"x":1}"#;
        assert!(serde_json::from_str::<SavedInterval>(unknown).is_err());
    }
}
