//! How one sensor's reads are going: each change is logged once (a failure or a refusal as a warning, the
//! recovery as info), and refused readings are counted for the telemetry's `readings_refused`.

use serde_json::{Map, Value};

use super::{Sensor, SensorError, read_bounded};

/// How the latest read of a sensor went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadState {
    /// It read, within bounds.
    #[default]
    Reading,
    /// The read failed (a bus error, a program that failed or timed out, ...).
    Failing,
    /// It read, but the reading broke a bound and was refused.
    Refused,
}

/// A change of [`ReadState`] worth one log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Into [`ReadState::Failing`].
    Failed,
    /// Into [`ReadState::Refused`].
    Refused,
    /// From [`ReadState::Failing`] back to reading.
    ReadsAgain,
    /// From [`ReadState::Refused`] back to reading.
    WithinBoundsAgain,
}

/// One sensor's [`ReadState`] and how many of its readings were refused since the agent started.
#[derive(Debug, Clone, Default)]
pub struct SensorHealth {
    state: ReadState,
    refused: u64,
}

impl SensorHealth {
    /// Takes the outcome of one read; returns the change to log, if the state changed.
    pub fn observe(&mut self, outcome: Result<(), &SensorError>) -> Option<Change> {
        let next = match outcome {
            Ok(()) => ReadState::Reading,
            Err(SensorError::OutOfBounds(_)) => ReadState::Refused,
            Err(_) => ReadState::Failing,
        };
        if next == ReadState::Refused {
            self.refused += 1;
        }
        let previous = std::mem::replace(&mut self.state, next);
        match (previous, next) {
            (previous, next) if previous == next => None,
            (_, ReadState::Failing) => Some(Change::Failed),
            (_, ReadState::Refused) => Some(Change::Refused),
            (ReadState::Refused, ReadState::Reading) => Some(Change::WithinBoundsAgain),
            (_, ReadState::Reading) => Some(Change::ReadsAgain),
        }
    }

    /// How the latest read went.
    pub fn state(&self) -> ReadState {
        self.state
    }

    /// Readings refused since the agent started.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Reads `sensor` once through [`read_bounded`] and merges the reading into `data`; logs a change of state.
    /// On failure or refusal nothing is merged and the error comes back prefixed with the sensor's name, as the
    /// sample's `sensor_errors` carry it.
    pub fn read_into(
        &mut self,
        sensor: &mut dyn Sensor,
        data: &mut Map<String, Value>,
    ) -> Result<(), String> {
        let outcome = read_bounded(sensor);
        let change = self.observe(outcome.as_ref().map(|_| ()));
        log_change(sensor.name(), change, outcome.as_ref().err());
        match outcome {
            Ok(reading) => {
                data.extend(reading);
                Ok(())
            }
            Err(error) => Err(format!("{}: {error}", sensor.name())),
        }
    }
}

fn log_change(sensor: &str, change: Option<Change>, error: Option<&SensorError>) {
    match (change, error) {
        (Some(Change::Failed), Some(error)) => tracing::warn!(sensor, %error, "sensor read failed"),
        (Some(Change::Refused), Some(error)) => {
            tracing::warn!(sensor, %error, "sensor reading refused");
        }
        (Some(Change::ReadsAgain), _) => tracing::info!(sensor, "sensor reads again"),
        (Some(Change::WithinBoundsAgain), _) => {
            tracing::info!(sensor, "sensor reading within bounds again");
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sensors::OutOfBounds;

    fn refusal() -> SensorError {
        OutOfBounds::TooDeep { depth: 40 }.into()
    }

    #[test]
    fn each_change_is_reported_once_and_refusals_are_counted() {
        let mut health = SensorHealth::default();
        let failure = SensorError::Read("timed out".into());
        let steps = [
            (Ok(()), None),
            (Err(&failure), Some(Change::Failed)),
            (Err(&failure), None),
            (Ok(()), Some(Change::ReadsAgain)),
            (Err(&refusal()), Some(Change::Refused)),
            (Err(&refusal()), None),
            (Err(&failure), Some(Change::Failed)),
            (Err(&refusal()), Some(Change::Refused)),
            (Ok(()), Some(Change::WithinBoundsAgain)),
            (Ok(()), None),
        ];
        for (i, (outcome, expected)) in steps.into_iter().enumerate() {
            assert_eq!(health.observe(outcome), expected, "step {i}");
        }
        assert_eq!((health.state(), health.refused()), (ReadState::Reading, 3));
    }

    /// Writes `{"v": value}`.
    struct Fixed(Value);

    impl Sensor for Fixed {
        fn name(&self) -> &str {
            "fixed"
        }

        fn read(&mut self, fields: &mut Map<String, Value>) -> Result<(), SensorError> {
            fields.insert("v".into(), self.0.clone());
            Ok(())
        }
    }

    #[test]
    fn a_reading_past_a_bound_is_not_merged_and_its_error_names_the_sensor() {
        let mut health = SensorHealth::default();
        let mut data = Map::new();
        let arrays = (0..33).fold(json!(1), |inner, _| Value::Array(vec![inner]));
        let mut deep = Fixed(arrays);
        let error = health.read_into(&mut deep, &mut data).expect_err("refused");
        assert_eq!(
            error,
            "fixed: reading refused: nested 34 levels deep, more than the 32 allowed"
        );
        assert!(data.is_empty());
        let mut fine = Fixed(json!({"temp_c": 21.5}));
        assert_eq!(health.read_into(&mut fine, &mut data), Ok(()));
        assert_eq!(Value::Object(data), json!({"v": {"temp_c": 21.5}}));
        assert_eq!(health.refused(), 1);
    }
}
