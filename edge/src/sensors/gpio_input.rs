//! The `gpio_input` sensor: GPIO pins read as digital inputs through rppal, reported as booleans.

use serde_json::{Map, Value};

use super::{Sensor, SensorError, validate_field};
use crate::gpio::{self, HEADER_PINS};

/// The pin's built-in bias resistor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pull {
    /// Pull-up: an open switch to ground reads high.
    Up,
    /// Pull-down: an open switch to 3.3 V reads low.
    Down,
    /// No bias: the circuit drives the pin.
    #[default]
    None,
}

/// `[[sensors]] kind = "gpio_input"`: fills `{field}: {"gpio17": true, ...}`, `true` meaning active.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct GpioInputConfig {
    /// Payload field. Default `gpio`.
    #[serde(default = "default_field")]
    pub field: String,
    /// BCM pin numbers, 0 to 27.
    pub pins: Vec<u8>,
    /// Bias for every listed pin. Default `none`.
    #[serde(default)]
    pub pull: Pull,
    /// Report a low level as `true` (a switch to ground with `pull = "up"`). Default false.
    #[serde(default)]
    pub active_low: bool,
}

fn default_field() -> String {
    "gpio".into()
}

impl GpioInputConfig {
    /// Checks the field and the pins; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        validate_field("field", &self.field)?;
        if self.pins.is_empty() {
            return Err("pins: list at least one pin".into());
        }
        for (i, &pin) in self.pins.iter().enumerate() {
            if !HEADER_PINS.contains(&pin) {
                return Err(format!(
                    "pins[{i}]: GPIO {pin} is not on the header (BCM 0..=27)"
                ));
            }
            if self.pins[..i].contains(&pin) {
                return Err(format!("pins[{i}]: GPIO {pin} is listed twice"));
            }
        }
        Ok(())
    }
}

/// The payload value for pin levels: `{"gpio17": true, ...}`, inverted when `active_low`.
pub fn levels_to_value(levels: impl IntoIterator<Item = (u8, bool)>, active_low: bool) -> Value {
    let map: Map<String, Value> = levels
        .into_iter()
        .map(|(pin, high)| (format!("gpio{pin}"), Value::Bool(high != active_low)))
        .collect();
    Value::Object(map)
}

/// Input pins held open for the agent's lifetime.
pub struct GpioInput {
    name: String,
    field: String,
    active_low: bool,
    pins: Vec<(u8, rppal::gpio::InputPin)>,
}

impl GpioInput {
    /// Claims the pins as inputs with the configured bias; off a Pi this is an error, not a panic.
    pub fn open(config: &GpioInputConfig) -> Result<Self, SensorError> {
        let gpio = gpio::open_gpio()?;
        let mut pins = Vec::with_capacity(config.pins.len());
        for &number in &config.pins {
            let pin = gpio.get(number).map_err(|e| gpio::pin_error(number, &e))?;
            let input = match config.pull {
                Pull::Up => pin.into_input_pullup(),
                Pull::Down => pin.into_input_pulldown(),
                Pull::None => pin.into_input(),
            };
            pins.push((number, input));
        }
        let list: Vec<String> = config.pins.iter().map(u8::to_string).collect();
        Ok(Self {
            name: format!("gpio_input[{}]", list.join(",")),
            field: config.field.clone(),
            active_low: config.active_low,
            pins,
        })
    }
}

impl Sensor for GpioInput {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&mut self, fields: &mut Map<String, Value>) -> Result<(), SensorError> {
        let levels = self
            .pins
            .iter()
            .map(|(number, pin)| (*number, pin.is_high()));
        fields.insert(self.field.clone(), levels_to_value(levels, self.active_low));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(pins: Vec<u8>) -> GpioInputConfig {
        GpioInputConfig {
            field: "inputs".into(),
            pins,
            pull: Pull::Up,
            active_low: false,
        }
    }

    #[test]
    fn levels_become_named_booleans() {
        assert_eq!(
            levels_to_value([(17, true), (27, false)], false),
            json!({"gpio17": true, "gpio27": false})
        );
        assert_eq!(
            levels_to_value([(17, true), (27, false)], true),
            json!({"gpio17": false, "gpio27": true})
        );
    }

    #[test]
    fn validation_names_the_entry() {
        assert_eq!(config(vec![17, 27]).validate(), Ok(()));
        assert_eq!(
            config(vec![]).validate(),
            Err("pins: list at least one pin".into())
        );
        assert_eq!(
            config(vec![4, 28]).validate(),
            Err("pins[1]: GPIO 28 is not on the header (BCM 0..=27)".into())
        );
        assert_eq!(
            config(vec![4, 4]).validate(),
            Err("pins[1]: GPIO 4 is listed twice".into())
        );
    }

    #[test]
    fn opening_off_a_pi_is_an_error_not_a_panic() {
        if std::path::Path::new("/dev/gpiomem").exists() {
            return; // a real Raspberry Pi
        }
        let err = GpioInput::open(&config(vec![17]))
            .err()
            .expect("no GPIO here")
            .to_string();
        assert!(err.starts_with("GPIO not available ("), "{err}");
    }
}
