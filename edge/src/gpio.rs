//! GPIO outputs that commands may switch: only the pins the config lists as `gpio_outputs`, through rppal on a
//! Raspberry Pi or through [`RecordingPins`] in tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// BCM GPIO numbers on the 40-pin header.
pub const HEADER_PINS: std::ops::RangeInclusive<u8> = 0..=27;

/// Output pins a `gpio_write` command may set.
pub trait OutputPins: Send {
    /// Drives `pin` high or low; refuses a pin that is not a configured output.
    fn write(&mut self, pin: u8, high: bool) -> Result<(), GpioError>;
}

/// Why a GPIO could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum GpioError {
    /// The GPIO peripheral cannot be used: not a Raspberry Pi, or no access to `/dev/gpiomem`.
    #[error("GPIO not available ({0}): run on a Raspberry Pi as a user in the gpio group")]
    Unavailable(String),
    /// The pin is not one of the configured outputs.
    #[error("GPIO {pin} is not a configured output")]
    NotAllowed {
        /// The pin asked for.
        pin: u8,
    },
    /// The pin list is invalid; the message names the entry.
    #[error("invalid GPIO config: {0}")]
    Config(String),
    /// The pin exists but cannot be used (e.g. taken by another driver).
    #[error("GPIO {pin}: {message}")]
    Pin {
        /// The pin.
        pin: u8,
        /// What rppal said.
        message: String,
    },
}

/// Header pins never driven as outputs, with what they are and the physical header pin: the HAT ID EEPROM's bus
/// (`i2c-0`), I2C1 (`i2c-1`, the INA2xx sensors' default bus) and UART0 (the serial console or Bluetooth).
pub const RESERVED_PINS: [(u8, &str); 6] = [
    (
        0,
        "ID_SD (header pin 27), the HAT ID EEPROM's I2C bus, reserved for HAT detection",
    ),
    (
        1,
        "ID_SC (header pin 28), the HAT ID EEPROM's I2C bus, reserved for HAT detection",
    ),
    (2, "I2C1 SDA (header pin 3), reserved for I2C"),
    (3, "I2C1 SCL (header pin 5), reserved for I2C"),
    (14, "UART0 TXD (header pin 8), reserved for the serial port"),
    (
        15,
        "UART0 RXD (header pin 10), reserved for the serial port",
    ),
];

/// A header pin that a configured sensor uses, so that no command may drive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedPin {
    /// The BCM number.
    pub pin: u8,
    /// What uses it, completing "GPIO N is …", e.g. `I2C1 SDA, used by the ina226 sensor sensors[0]`.
    pub purpose: String,
}

impl ClaimedPin {
    /// `pins` read by the `gpio_input` sensor `sensors[index]`.
    pub fn gpio_input(index: usize, pins: &[u8]) -> Vec<Self> {
        let purpose = format!("also read by a gpio_input sensor (sensors[{index}])");
        pins.iter()
            .map(|&pin| Self {
                pin,
                purpose: purpose.clone(),
            })
            .collect()
    }

    /// The data and clock pins of I2C `bus` used by the sensor `kind` at `sensors[index]`; none for a bus whose
    /// pins are not fixed (buses other than 0 and 1 come from overlays or `i2c-gpio`: keep their pins out of
    /// `gpio_outputs` by hand).
    pub fn i2c(index: usize, kind: &str, bus: u8) -> Vec<Self> {
        let (data, clock, name) = match bus {
            0 => (0, 1, "the HAT ID EEPROM's I2C bus"),
            1 => (2, 3, "I2C1"),
            _ => return Vec::new(),
        };
        [(data, "SDA"), (clock, "SCL")]
            .into_iter()
            .map(|(pin, line)| Self {
                pin,
                purpose: format!("{name} {line}, used by the {kind} sensor sensors[{index}]"),
            })
            .collect()
    }
}

/// Checks `gpio_outputs`: pins on the header, each once, none that a sensor uses (`claimed`) and none of the
/// [`RESERVED_PINS`]. The message names the entry and says why, e.g. `gpio_outputs[1]: GPIO 40 is not on the
/// header (BCM 0..=27)` or `gpio_outputs[0]: GPIO 2 is I2C1 SDA, used by the ina226 sensor sensors[0]`.
pub fn validate_output_pins(pins: &[u8], claimed: &[ClaimedPin]) -> Result<(), String> {
    for (i, &pin) in pins.iter().enumerate() {
        let refuse = |why: &str| Err(format!("gpio_outputs[{i}]: GPIO {pin} {why}"));
        if !HEADER_PINS.contains(&pin) {
            return refuse("is not on the header (BCM 0..=27)");
        }
        if pins[..i].contains(&pin) {
            return refuse("is listed twice");
        }
        if let Some(claim) = claimed.iter().find(|claim| claim.pin == pin) {
            return refuse(&format!("is {}; choose another pin", claim.purpose));
        }
        if let Some((_, what)) = RESERVED_PINS.iter().find(|(reserved, _)| *reserved == pin) {
            return refuse(&format!("is {what}; choose another pin"));
        }
    }
    Ok(())
}

/// Opens `pins` as outputs with rppal, keeping each pin's current level. With no pins it touches no hardware,
/// so an agent without outputs runs anywhere; off a Pi, any pin gives [`GpioError::Unavailable`], not a panic.
pub fn open_output_pins(pins: &[u8]) -> Result<Box<dyn OutputPins>, GpioError> {
    validate_output_pins(pins, &[]).map_err(GpioError::Config)?;
    let mut outputs = BTreeMap::new();
    if !pins.is_empty() {
        let gpio = open_gpio()?;
        for &pin in pins {
            let output = gpio.get(pin).map_err(|e| pin_error(pin, &e))?.into_output();
            outputs.insert(pin, output);
        }
    }
    Ok(Box::new(RppalOutputPins(outputs)))
}

/// Opens the GPIO peripheral, or says why it cannot be used here.
pub(crate) fn open_gpio() -> Result<rppal::gpio::Gpio, GpioError> {
    rppal::gpio::Gpio::new().map_err(|e| GpioError::Unavailable(e.to_string()))
}

pub(crate) fn pin_error(pin: u8, error: &rppal::gpio::Error) -> GpioError {
    GpioError::Pin {
        pin,
        message: error.to_string(),
    }
}

/// Real output pins, by BCM number. Dropping them returns each pin to its previous mode.
struct RppalOutputPins(BTreeMap<u8, rppal::gpio::OutputPin>);

impl OutputPins for RppalOutputPins {
    fn write(&mut self, pin: u8, high: bool) -> Result<(), GpioError> {
        let output = self.0.get_mut(&pin).ok_or(GpioError::NotAllowed { pin })?;
        output.write(rppal::gpio::Level::from(high));
        Ok(())
    }
}

/// A test double that records writes instead of driving pins. Clones share the record, so a test keeps one
/// clone and hands another to the agent.
#[derive(Debug, Clone)]
pub struct RecordingPins {
    allowed: Vec<u8>,
    writes: Arc<Mutex<Vec<(u8, bool)>>>,
}

impl RecordingPins {
    /// Accepts writes to `pins` only, like the real outputs.
    pub fn new(pins: &[u8]) -> Self {
        Self {
            allowed: pins.to_vec(),
            writes: Arc::default(),
        }
    }

    /// Every accepted write so far, in order: `(pin, high)`.
    pub fn writes(&self) -> Vec<(u8, bool)> {
        self.writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl OutputPins for RecordingPins {
    fn write(&mut self, pin: u8, high: bool) -> Result<(), GpioError> {
        if !self.allowed.contains(&pin) {
            return Err(GpioError::NotAllowed { pin });
        }
        self.writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((pin, high));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_pins_record_allowed_writes_and_share_them_with_clones() {
        let record = RecordingPins::new(&[17, 27]);
        let mut pins: Box<dyn OutputPins> = Box::new(record.clone());
        pins.write(17, true).expect("allowed");
        pins.write(27, false).expect("allowed");
        let err = pins.write(5, true).expect_err("not an output");
        assert_eq!(err.to_string(), "GPIO 5 is not a configured output");
        assert_eq!(record.writes(), [(17, true), (27, false)]);
    }

    #[test]
    fn no_outputs_need_no_hardware_and_refuse_every_pin() {
        let mut pins = open_output_pins(&[]).expect("opens anywhere");
        assert!(matches!(
            pins.write(17, true),
            Err(GpioError::NotAllowed { pin: 17 })
        ));
    }

    #[test]
    fn outputs_off_a_pi_are_an_error_not_a_panic() {
        if std::path::Path::new("/dev/gpiomem").exists() {
            return; // a real Raspberry Pi: nothing to show here
        }
        let err = open_output_pins(&[17]).err().expect("no GPIO here");
        assert!(matches!(err, GpioError::Unavailable(_)), "{err}");
        assert!(err.to_string().starts_with("GPIO not available ("), "{err}");
    }

    #[test]
    fn output_pins_are_validated_by_entry() {
        assert_eq!(validate_output_pins(&[17, 27], &[]), Ok(()));
        assert_eq!(
            validate_output_pins(&[17, 40], &[]),
            Err("gpio_outputs[1]: GPIO 40 is not on the header (BCM 0..=27)".into())
        );
        assert_eq!(
            validate_output_pins(&[17, 17], &[]),
            Err("gpio_outputs[1]: GPIO 17 is listed twice".into())
        );
        assert_eq!(
            validate_output_pins(&[22], &ClaimedPin::gpio_input(1, &[5, 22])),
            Err("gpio_outputs[0]: GPIO 22 is also read by a gpio_input sensor (sensors[1]); choose another pin".into())
        );
        assert!(matches!(open_output_pins(&[99]), Err(GpioError::Config(_))));
    }

    #[test]
    fn reserved_header_pins_are_refused_saying_what_they_are() {
        for (pin, what) in [
            (0, "ID_SD"),
            (1, "ID_SC"),
            (2, "I2C1 SDA"),
            (3, "I2C1 SCL"),
            (14, "UART0 TXD"),
            (15, "UART0 RXD"),
        ] {
            let message = validate_output_pins(&[17, pin], &[]).expect_err("reserved");
            assert!(
                message.starts_with(&format!(
                    "gpio_outputs[1]: GPIO {pin} is {what} (header pin "
                )),
                "{message}"
            );
            assert!(
                message.contains("reserved for") && message.ends_with("choose another pin"),
                "{message}"
            );
        }
        let usable: Vec<u8> = HEADER_PINS
            .filter(|pin| ![0, 1, 2, 3, 14, 15].contains(pin))
            .collect();
        assert_eq!(validate_output_pins(&usable, &[]), Ok(()));
        assert!(matches!(open_output_pins(&[2]), Err(GpioError::Config(_))));
    }

    #[test]
    fn a_pin_an_i2c_sensor_uses_is_refused_naming_the_sensor() {
        let claimed = ClaimedPin::i2c(2, "ina226", 1);
        assert_eq!(
            validate_output_pins(&[3], &claimed),
            Err("gpio_outputs[0]: GPIO 3 is I2C1 SCL, used by the ina226 sensor sensors[2]; choose another pin".into())
        );
        let on_bus_0 = ClaimedPin::i2c(0, "ina219", 0);
        assert_eq!(on_bus_0.iter().map(|c| c.pin).collect::<Vec<_>>(), [0, 1]);
        assert!(
            on_bus_0[1]
                .purpose
                .contains("HAT ID EEPROM's I2C bus SCL, used by the ina219 sensor sensors[0]")
        );
        assert!(
            ClaimedPin::i2c(0, "ina219", 3).is_empty(),
            "bus 3's pins depend on the overlay"
        );
    }
}
