//! The `ina219` and `ina226` sensors: the chips' embedded-hal drivers over rppal's I2C, decoded by [`super::ina2xx`].
//!
//! The drivers do the bus work (register pointer, reset, calibration write); only raw register words come back,
//! so one tested decoder serves both chips.

use embedded_hal::i2c::I2c;
use serde_json::{Map, Value, json};

use super::ina2xx::{self, Calibration, Chip, RawRegisters};
use super::{Sensor, SensorError, check_range, round, validate_field};

mod drivers;

/// `[[sensors]] kind = "ina219"` or `"ina226"`: a power monitor on an I2C bus.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ina2xxConfig {
    /// Payload field for {`bus_voltage_v`, `shunt_voltage_mv`, `current_a`, `power_w`}. Default `power_monitor`.
    #[serde(default = "default_field")]
    pub field: String,
    /// I2C bus number: `/dev/i2c-{bus}`. Default 1 (pins 3 and 5).
    #[serde(default = "default_bus")]
    pub bus: u8,
    /// 7-bit address, 0x40 to 0x4F as set by A0/A1. Default 0x40.
    #[serde(default = "default_address")]
    pub address: u8,
    /// Shunt resistance, ohms (e.g. 0.1 on most INA219 boards, 0.002 on 20 A INA226 boards).
    pub shunt_ohms: f64,
    /// Largest current expected, A: sets the resolution (max / 32768).
    pub max_current_a: f64,
    /// Ratio of a resistor divider in front of VBUS, e.g. 4 to read a 48 V bank on an INA226. Default 1 (none).
    #[serde(default = "default_divider")]
    pub bus_voltage_divider: f64,
}

fn default_field() -> String {
    "power_monitor".into()
}
fn default_bus() -> u8 {
    1
}
fn default_address() -> u8 {
    0x40
}
fn default_divider() -> f64 {
    1.0
}

impl Ina2xxConfig {
    /// Checks the address, the calibration and the shunt range for `chip`; the message names the key.
    pub fn validate(&self, chip: Chip) -> Result<(), String> {
        validate_field("field", &self.field)?;
        if !(0x40..=0x4F).contains(&self.address) {
            return Err(format!(
                "address: must be 0x40..=0x4F (got {:#04x})",
                self.address
            ));
        }
        check_range("shunt_ohms", self.shunt_ohms, 0.0001, 10.0)?;
        check_range("max_current_a", self.max_current_a, 0.001, 1000.0)?;
        check_range("bus_voltage_divider", self.bus_voltage_divider, 1.0, 100.0)?;
        let shunt_v = self.max_current_a * self.shunt_ohms;
        if shunt_v > chip.shunt_full_scale_v() * (1.0 + 1e-9) {
            return Err(format!(
                "max_current_a: {} A through {} ohm is {:.1} mV, beyond the {}'s {:.2} mV shunt range",
                self.max_current_a,
                self.shunt_ohms,
                shunt_v * 1000.0,
                chip.as_str(),
                chip.shunt_full_scale_v() * 1000.0
            ));
        }
        Calibration::new(chip, self.shunt_ohms, self.max_current_a).map(|_| ())
    }
}

/// Reads the four measurement registers through a chip's driver.
trait RegisterReader: Send {
    fn read_registers(&mut self) -> Result<RawRegisters, String>;
}

/// An INA219 or INA226 on an I2C bus.
pub struct PowerMonitor {
    name: String,
    chip: Chip,
    field: String,
    calibration: Calibration,
    divider: f64,
    device: Box<dyn RegisterReader>,
}

impl PowerMonitor {
    /// Opens `/dev/i2c-{bus}` with rppal, then the chip as in [`Self::with_i2c`].
    pub fn open(chip: Chip, config: &Ina2xxConfig) -> Result<Self, SensorError> {
        let i2c =
            rppal::i2c::I2c::with_bus(config.bus).map_err(|e| i2c_unavailable(config.bus, &e))?;
        Self::with_i2c(chip, config, i2c)
    }

    /// Resets (INA219) or identifies (INA226) the chip on `i2c` and writes its calibration.
    pub fn with_i2c<I>(chip: Chip, config: &Ina2xxConfig, i2c: I) -> Result<Self, SensorError>
    where
        I: I2c + Send + 'static,
        I::Error: std::fmt::Display,
    {
        config.validate(chip).map_err(SensorError::Config)?;
        let calibration = Calibration::new(chip, config.shunt_ohms, config.max_current_a)
            .map_err(SensorError::Config)?;
        let name = format!("{}@{}:{:#04x}", chip.as_str(), config.bus, config.address);
        let opened = match chip {
            Chip::Ina219 => drivers::open_ina219(i2c, config.address, calibration.register),
            Chip::Ina226 => drivers::open_ina226(i2c, config.address, calibration.register),
        };
        let device = opened.map_err(|message| SensorError::I2c {
            sensor: name.clone(),
            message: format!(
                "{message}; check the wiring and the address (i2cdetect -y {})",
                config.bus
            ),
        })?;
        Ok(Self {
            name,
            chip,
            field: config.field.clone(),
            calibration,
            divider: config.bus_voltage_divider,
            device,
        })
    }
}

impl Sensor for PowerMonitor {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&mut self, fields: &mut Map<String, Value>) -> Result<(), SensorError> {
        let raw = self.device.read_registers().map_err(SensorError::Read)?;
        if self.chip == Chip::Ina219 && ina2xx::ina219_overflowed(raw.bus) {
            return Err(SensorError::Read(
                "current beyond the calibrated range (math overflow): raise max_current_a".into(),
            ));
        }
        let m = ina2xx::decode(self.chip, &self.calibration, raw, self.divider);
        let value = json!({
            "bus_voltage_v": round(m.bus_voltage_v, 3),
            "shunt_voltage_mv": round(m.shunt_voltage_mv, 4),
            "current_a": round(m.current_a, 4),
            "power_w": round(m.power_w, 3),
        });
        fields.insert(self.field.clone(), value);
        Ok(())
    }
}

const ENABLE_I2C: &str = "enable I2C with raspi-config (Interface Options > I2C) and reboot";

fn i2c_unavailable(bus: u8, error: &rppal::i2c::Error) -> SensorError {
    let path = format!("/dev/i2c-{bus}");
    let (cause, hint) = match error {
        rppal::i2c::Error::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            (e.to_string(), "run the agent as a user in the i2c group")
        }
        rppal::i2c::Error::Io(e) => (e.to_string(), ENABLE_I2C),
        other => (other.to_string(), ENABLE_I2C),
    };
    SensorError::I2cUnavailable {
        bus,
        path,
        cause,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensors::fake_i2c::FakeIna;

    fn config(shunt_ohms: f64, max_current_a: f64) -> Ina2xxConfig {
        Ina2xxConfig {
            field: "battery_monitor".into(),
            bus: 1,
            address: 0x40,
            shunt_ohms,
            max_current_a,
            bus_voltage_divider: 1.0,
        }
    }

    fn read(sensor: &mut PowerMonitor) -> Result<Value, SensorError> {
        let mut fields = Map::new();
        sensor.read(&mut fields)?;
        Ok(fields
            .remove("battery_monitor")
            .expect("the configured field"))
    }

    /// The worked examples of both datasheets use a 2 mΩ shunt and a 1 mA current LSB (a 32.768 A maximum here).
    fn datasheet_example() -> Ina2xxConfig {
        config(0.002, 32.768)
    }

    /// TI INA226 SBOS547, "Configure/Measure/Calculate Example", Table 1, pp. 15–16: CAL A00h; a conversion of
    /// shunt 1F40h and bus 2570h gives current 2710h and power 12B8h (Equations 3 and 4), read as 20 mV, 11.98 V,
    /// 10 A and 119.8 W (the table's "119.82W" is a slip for 4792 × 25 mW).
    #[test]
    fn ina226_reads_table_1_through_the_driver() {
        let chip = FakeIna::new(Chip::Ina226);
        let mut sensor = PowerMonitor::with_i2c(Chip::Ina226, &datasheet_example(), chip.clone())
            .expect("opens");
        assert_eq!(chip.register(0x05), 0x0A00, "calibration written");
        chip.convert(0x1F40, 0x2570);
        assert_eq!((chip.register(0x04), chip.register(0x03)), (0x2710, 0x12B8));
        let value = read(&mut sensor).expect("reads");
        assert_eq!(
            value,
            json!({"bus_voltage_v": 11.98, "shunt_voltage_mv": 20.0, "current_a": 10.0, "power_w": 119.8})
        );
        assert_eq!(sensor.name(), "ina226@1:0x40");
    }

    /// TI INA219 SBOS448F, "Configure/Measure/Calculate Example", Table 3, p. 24: the driver resets the chip (the
    /// configuration returns to its power-on 399Fh, SBOS448F p. 26) and writes Cal 5000h; a conversion of shunt
    /// 07D0h and bus 5D98h gives current 2710h and power 1766h, read as 20 mV, 11.98 V, 10 A and 119.8 W.
    #[test]
    fn ina219_resets_calibrates_and_reads_table_3_through_the_driver() {
        let chip = FakeIna::new(Chip::Ina219);
        chip.set_register(0x00, 0x019F); // Table 3, step 1: left over from an earlier program
        chip.set_register(0x05, 0x1234);
        let mut sensor = PowerMonitor::with_i2c(Chip::Ina219, &datasheet_example(), chip.clone())
            .expect("opens");
        assert_eq!(
            chip.register(0x00),
            0x399F,
            "reset to the power-on configuration"
        );
        assert_eq!(chip.register(0x05), 0x5000, "calibration written");
        chip.convert(0x07D0, 0x5D98);
        assert_eq!((chip.register(0x04), chip.register(0x03)), (0x2710, 0x1766));
        let value = read(&mut sensor).expect("reads");
        assert_eq!(
            value,
            json!({"bus_voltage_v": 11.98, "shunt_voltage_mv": 20.0, "current_a": 10.0, "power_w": 119.8})
        );
    }

    /// OVF (SBOS448F p. 30): at the power-on gain the shunt reads up to 320 mV (7D00h); with Table 3's Cal the chip's
    /// current, 32000 × 20480 / 4096 = 160000, does not fit its register, so the chip flags the math overflow.
    #[test]
    fn ina219_math_overflow_is_an_error_not_a_value() {
        let chip = FakeIna::new(Chip::Ina219);
        let mut sensor = PowerMonitor::with_i2c(Chip::Ina219, &datasheet_example(), chip.clone())
            .expect("opens");
        chip.convert(0x7D00, 0x5D98);
        assert_eq!(chip.register(0x02) & 1, 1, "OVF set by the conversion");
        let err = read(&mut sensor).expect_err("overflow").to_string();
        assert!(err.contains("raise max_current_a"), "{err}");
    }

    #[test]
    fn a_missing_chip_is_a_clear_error() {
        let chip = FakeIna::absent(Chip::Ina226);
        let err = PowerMonitor::with_i2c(Chip::Ina226, &config(0.002, 20.0), chip)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.starts_with("ina226@1:0x40: no answer from the INA226"),
            "{err}"
        );
        assert!(err.contains("i2cdetect -y 1"), "{err}");
    }

    #[test]
    fn another_chip_at_the_address_is_refused() {
        let chip = FakeIna::new(Chip::Ina226);
        chip.set_register(0xFE, 0x1234);
        let err = PowerMonitor::with_i2c(Chip::Ina226, &config(0.002, 20.0), chip)
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("not an INA226"), "{err}");
    }

    #[test]
    fn opening_a_missing_bus_is_an_error_not_a_panic() {
        let err = PowerMonitor::open(
            Chip::Ina219,
            &Ina2xxConfig {
                bus: 250,
                ..config(0.1, 3.2)
            },
        )
        .err()
        .expect("no /dev/i2c-250 here")
        .to_string();
        assert!(
            err.starts_with("I2C bus 250 not available (/dev/i2c-250: No such file or directory"),
            "{err}"
        );
        assert!(err.contains("raspi-config"), "{err}");
    }

    #[test]
    fn validation_names_the_key() {
        let bad = |c: Ina2xxConfig, chip| c.validate(chip).expect_err("invalid");
        assert_eq!(
            bad(
                Ina2xxConfig {
                    address: 0x10,
                    ..config(0.1, 3.2)
                },
                Chip::Ina219
            ),
            "address: must be 0x40..=0x4F (got 0x10)"
        );
        assert!(bad(config(0.0, 3.2), Chip::Ina219).starts_with("shunt_ohms:"));
        assert!(bad(config(0.1, -1.0), Chip::Ina219).starts_with("max_current_a:"));
        let err = bad(config(0.01, 10.0), Chip::Ina226);
        assert!(
            err.starts_with(
                "max_current_a: 10 A through 0.01 ohm is 100.0 mV, beyond the ina226's 81.92 mV"
            ),
            "{err}"
        );
        assert!(
            config(0.01, 10.0).validate(Chip::Ina219).is_ok(),
            "the INA219 takes 320 mV"
        );
        assert!(
            bad(
                Ina2xxConfig {
                    bus_voltage_divider: 0.5,
                    ..config(0.1, 3.2)
                },
                Chip::Ina219
            )
            .starts_with("bus_voltage_divider:")
        );
    }
}
