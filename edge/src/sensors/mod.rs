//! Sensors: what the agent measures, behind one trait, chosen and named by the `[[sensors]]` config tables.
//!
//! Each kind fills its own fields of the telemetry payload:
//!
//! | `kind` | fills |
//! |---|---|
//! | `simulated` (the default) | `battery` {`voltage`, `soc`, `current_a`}, `pv_power_w`, `load_power_w` |
//! | `ina219`, `ina226` | `{field}` {`bus_voltage_v`, `shunt_voltage_mv`, `current_a`, `power_w`} |
//! | `gpio_input` | `{field}` {`gpio17`: bool, ...} |
//! | `command` | the JSON object the program prints, under `{field}` or, without `field`, at the top level |
//!
//! Every reading passes [`read_bounded`] before it joins a sample: one that breaks a bound of
//! [`reading_bounds`] (depth, size, values, string length, finite numbers) is refused, whatever the kind.
//!
//! Reads block briefly (I2C, a child process): call [`Sensor::read`] from a blocking thread.

pub mod energy_system;
pub mod external_command;
#[cfg(test)]
mod fake_i2c;
pub mod gpio_input;
pub mod ina2xx;
pub mod power_monitor;
pub mod reading_bounds;
pub mod sensor_health;
pub mod simulated;

use serde_json::{Map, Value};

pub use external_command::CommandConfig;
pub use gpio_input::{GpioInputConfig, Pull};
pub use ina2xx::Chip;
pub use power_monitor::Ina2xxConfig;
pub use reading_bounds::OutOfBounds;
pub use sensor_health::SensorHealth;
pub use simulated::SimulatedConfig;

/// One source of measurements.
pub trait Sensor: Send {
    /// A short name for logs, e.g. `ina226@1:0x40`.
    fn name(&self) -> &str;

    /// Reads once and writes this sensor's configured fields into `fields`
    /// (e.g. `"battery"` -> `{"voltage": 53.2, "soc": 85}`). May block briefly. An error is a
    /// [`SensorError::Read`] whose message does not repeat [`Self::name`]: log both.
    fn read(&mut self, fields: &mut Map<String, Value>) -> Result<(), SensorError>;
}

/// One `[[sensors]]` table of the config, chosen by its `kind`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SensorConfig {
    /// Realistic energy-system data without hardware.
    Simulated(SimulatedConfig),
    /// A TI INA219 power monitor on I2C (bus voltage up to 26 V).
    Ina219(Ina2xxConfig),
    /// A TI INA226 power monitor on I2C (bus voltage up to 36 V).
    Ina226(Ina2xxConfig),
    /// GPIO pins read as digital inputs.
    GpioInput(GpioInputConfig),
    /// A program that prints one JSON object; run directly, never through a shell.
    Command(CommandConfig),
}

impl SensorConfig {
    /// Checks the values serde cannot. The message names the bad key relative to this sensor's table,
    /// e.g. `address: must be 0x40..=0x4F (got 0x10)`; [`validate_sensors`] prefixes `sensors[i].`.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Simulated(config) => config.validate(),
            Self::Ina219(config) => config.validate(Chip::Ina219),
            Self::Ina226(config) => config.validate(Chip::Ina226),
            Self::GpioInput(config) => config.validate(),
            Self::Command(config) => config.validate(),
        }
    }

    /// The GPIO pins (BCM numbers) this sensor claims, so they are not also used as outputs.
    pub fn gpio_pins(&self) -> &[u8] {
        match self {
            Self::GpioInput(config) => &config.pins,
            _ => &[],
        }
    }
}

/// Validates every sensor and checks that no GPIO pin is read by two sensors.
/// The message names the key, e.g. `sensors[1].address: must be 0x40..=0x4F (got 0x10)`.
pub fn validate_sensors(configs: &[SensorConfig]) -> Result<(), String> {
    let mut claimed: Vec<u8> = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        config.validate().map_err(|e| format!("sensors[{i}].{e}"))?;
        for &pin in config.gpio_pins() {
            if claimed.contains(&pin) {
                return Err(format!(
                    "sensors[{i}].pins: GPIO {pin} is already read by another sensor"
                ));
            }
            claimed.push(pin);
        }
    }
    Ok(())
}

/// Validates the configs and opens every sensor, in order. Fails on the first sensor that cannot be opened
/// (e.g. a missing I2C bus), so a misconfigured device is caught at start, not on every read.
pub fn build_sensors(configs: &[SensorConfig]) -> Result<Vec<Box<dyn Sensor>>, SensorError> {
    validate_sensors(configs).map_err(SensorError::Config)?;
    configs.iter().map(build_sensor).collect()
}

fn build_sensor(config: &SensorConfig) -> Result<Box<dyn Sensor>, SensorError> {
    Ok(match config {
        SensorConfig::Simulated(c) => Box::new(simulated::SimulatedSensor::new(c)),
        SensorConfig::Ina219(c) => Box::new(power_monitor::PowerMonitor::open(Chip::Ina219, c)?),
        SensorConfig::Ina226(c) => Box::new(power_monitor::PowerMonitor::open(Chip::Ina226, c)?),
        SensorConfig::GpioInput(c) => Box::new(gpio_input::GpioInput::open(c)?),
        SensorConfig::Command(c) => Box::new(external_command::ExternalCommand::open(c)?),
    })
}

/// Reads `sensor` once into a fresh map and checks that reading against the bounds of [`reading_bounds`], so
/// the caller merges only readings that can be stored, read back and sent.
pub fn read_bounded(sensor: &mut dyn Sensor) -> Result<Map<String, Value>, SensorError> {
    let mut reading = Map::new();
    sensor.read(&mut reading)?;
    reading_bounds::check_reading(&reading)?;
    Ok(reading)
}

/// The sensors used when the config names none: one simulated energy system with default settings.
pub fn default_sensors() -> Vec<SensorConfig> {
    vec![SensorConfig::Simulated(SimulatedConfig::default())]
}

/// Why a sensor could not be opened or read. Messages say what to do where there is something to do; errors
/// from [`build_sensors`] name the sensor, errors from [`Sensor::read`] leave that to the caller.
#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    /// The sensor config is invalid; the message names the key.
    #[error("invalid sensor config: {0}")]
    Config(String),
    /// The I2C device file is missing or cannot be opened.
    #[error("I2C bus {bus} not available ({path}: {cause}): {hint}")]
    I2cUnavailable {
        /// The bus number, e.g. 1.
        bus: u8,
        /// The device file, e.g. `/dev/i2c-1`.
        path: String,
        /// What the OS said.
        cause: String,
        /// What to do, e.g. `enable I2C with raspi-config (Interface Options > I2C) and reboot`.
        hint: &'static str,
    },
    /// Talking to a device on the bus failed.
    #[error("{sensor}: {message}")]
    I2c {
        /// The sensor's name, e.g. `ina226@1:0x40`.
        sensor: String,
        /// What went wrong, with a hint where one helps.
        message: String,
    },
    /// The GPIO peripheral or a pin cannot be used.
    #[error(transparent)]
    Gpio(#[from] crate::gpio::GpioError),
    /// The external command cannot be run (e.g. no such program).
    #[error("command {program}: {message}")]
    Command {
        /// The program's path as configured.
        program: String,
        /// What went wrong.
        message: String,
    },
    /// One read failed: an I2C transfer, an INA219 math overflow, a command that failed, timed out or printed
    /// something other than one JSON object (with a bounded excerpt of its stderr). The message does not name
    /// the sensor: the caller prefixes [`Sensor::name`].
    #[error("{0}")]
    Read(String),
    /// A reading that breaks a bound of [`reading_bounds`]: refused, never stored. Like [`Self::Read`], the
    /// message does not name the sensor.
    #[error("reading refused: {0}")]
    OutOfBounds(#[from] OutOfBounds),
}

/// Checks a payload field name from the config: 1 to 64 ASCII letters, digits, `_` or `-`.
pub(crate) fn validate_field(key: &str, value: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if value.is_empty() || value.len() > 64 || !value.chars().all(ok_char) {
        return Err(format!(
            "{key}: must be 1 to 64 ASCII letters, digits, '_' or '-' (got {value:?})"
        ));
    }
    Ok(())
}

/// Checks that a number from the config is finite and within `min..=max`; the message names the key.
pub(crate) fn check_range(key: &str, value: f64, min: f64, max: f64) -> Result<(), String> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!("{key}: must be {min} to {max} (got {value})"))
    }
}

/// Rounds to `decimals` places, so payloads carry no false precision (`53.2`, not `53.19999`).
pub(crate) fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct File {
        sensors: Vec<SensorConfig>,
    }

    fn parse(text: &str) -> Result<Vec<SensorConfig>, String> {
        toml::from_str::<File>(text)
            .map(|f| f.sensors)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_kind_parses_from_toml_with_defaults() {
        let sensors = parse(
            r#"
            [[sensors]]
            kind = "simulated"
            [[sensors]]
            kind = "ina226"
            field = "battery_monitor"
            shunt_ohms = 0.002
            max_current_a = 20
            [[sensors]]
            kind = "gpio_input"
            field = "inputs"
            pins = [17, 27]
            pull = "up"
            [[sensors]]
            kind = "command"
            program = "/usr/local/bin/read-bms"
            args = ["--json"]
            "#,
        )
        .expect("parses");
        assert_eq!(sensors[0], default_sensors()[0]);
        let SensorConfig::Ina226(ina) = &sensors[1] else {
            panic!("not ina226: {:?}", sensors[1])
        };
        assert_eq!((ina.bus, ina.address, ina.max_current_a), (1, 0x40, 20.0));
        assert!(matches!(&sensors[2], SensorConfig::GpioInput(g) if g.pull == Pull::Up));
        let SensorConfig::Command(cmd) = &sensors[3] else {
            panic!("not command: {:?}", sensors[3])
        };
        assert_eq!((cmd.timeout_ms, cmd.field.as_deref()), (2000, None));
        assert_eq!(validate_sensors(&sensors), Ok(()));
    }

    #[test]
    fn unknown_kinds_and_keys_are_refused() {
        let err = parse("[[sensors]]\nkind = \"thermometer\"\n").expect_err("unknown kind");
        assert!(err.contains("thermometer"), "{err}");
        let err = parse("[[sensors]]\nkind = \"ina219\"\nshunt_ohms = 0.1\nmax_current_a = 3.2\nadress = 0x41\n")
            .expect_err("typo");
        assert!(err.contains("adress"), "{err}");
    }

    #[test]
    fn validation_names_the_sensor_and_key() {
        let sensors = parse(
            "[[sensors]]\nkind = \"simulated\"\n[[sensors]]\nkind = \"ina219\"\naddress = 0x10\nshunt_ohms = 0.1\nmax_current_a = 3.2\n",
        )
        .expect("parses");
        let err = validate_sensors(&sensors).expect_err("bad address");
        assert!(
            err.starts_with("sensors[1].address: must be 0x40..=0x4F"),
            "{err}"
        );
        let err = build_sensors(&sensors).err().expect("refused").to_string();
        assert!(err.contains("sensors[1].address"), "{err}");
    }

    #[test]
    fn a_pin_read_by_two_sensors_is_refused() {
        let sensors = parse(
            "[[sensors]]\nkind = \"gpio_input\"\nfield = \"a\"\npins = [17]\n[[sensors]]\nkind = \"gpio_input\"\nfield = \"b\"\npins = [27, 17]\n",
        )
        .expect("parses");
        let err = validate_sensors(&sensors).expect_err("pin twice");
        assert_eq!(
            err,
            "sensors[1].pins: GPIO 17 is already read by another sensor"
        );
    }

    #[test]
    fn default_sensors_build_and_fill_the_documented_fields() {
        let mut sensors = build_sensors(&default_sensors()).expect("simulated builds anywhere");
        let mut fields = Map::new();
        sensors[0].read(&mut fields).expect("reads");
        let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(keys, ["battery", "pv_power_w", "load_power_w"]);
    }

    #[test]
    fn field_names_are_checked() {
        assert_eq!(validate_field("field", "battery_2"), Ok(()));
        assert!(validate_field("field", "").is_err());
        assert!(validate_field("field", "a b").is_err());
        assert!(validate_field("field", &"x".repeat(65)).is_err());
    }
}
