//! The INA219 and INA226 drivers behind [`RegisterReader`]: they reset or identify the chip, write the
//! calibration word and read the raw measurement registers.

use embedded_hal::i2c::I2c;
use ina219::SyncIna219;
use ina219::address::Address;
use ina219::calibration::Calibration as Ina219Calibration;
use ina219::errors::{BusVoltageReadError, InitializationErrorReason, ShuntVoltageReadError};
use ina219::measurements::{CurrentRegister, PowerRegister};
use ina226::INA226;

use super::{RawRegisters, RegisterReader};

/// TI's manufacturer id ("TI") in the INA226's register 0xFE.
const TI_MANUFACTURER_ID: u16 = 0x5449;

/// Hands the INA219 driver our calibration word and gives back raw current and power words.
struct RawCalibration(u16);

impl Ina219Calibration for RawCalibration {
    type Current = i16;
    type Power = u16;

    fn register_bits(&self) -> u16 {
        self.0
    }
    fn current_from_register(&self, reg: CurrentRegister) -> i16 {
        i16::from_be_bytes(reg.0.to_be_bytes())
    }
    fn power_from_register(&self, reg: PowerRegister) -> u16 {
        reg.0
    }
}

struct Ina219Device<I: I2c>(SyncIna219<I, RawCalibration>);
struct Ina226Device<I: I2c>(INA226<I>);

pub(super) fn open_ina219<I>(
    i2c: I,
    address: u8,
    calibration: u16,
) -> Result<Box<dyn RegisterReader>, String>
where
    I: I2c + Send + 'static,
    I::Error: std::fmt::Display,
{
    let address =
        Address::from_byte(address).map_err(|_| format!("address {address:#04x} out of range"))?;
    match SyncIna219::new_calibrated(i2c, address, RawCalibration(calibration)) {
        Ok(driver) => Ok(Box::new(Ina219Device(driver))),
        Err(e) => Err(match e.reason {
            InitializationErrorReason::I2cError(e) => format!("no answer from the INA219: {e}"),
            other => {
                format!("the device does not behave like an INA219 after a reset ({other:?})")
            }
        }),
    }
}

pub(super) fn open_ina226<I>(
    i2c: I,
    address: u8,
    calibration: u16,
) -> Result<Box<dyn RegisterReader>, String>
where
    I: I2c + Send + 'static,
    I::Error: std::fmt::Display,
{
    let mut driver = INA226::new(i2c, address);
    let id = driver
        .manufacturer_id()
        .map_err(|e| format!("no answer from the INA226: {e}"))?;
    if id != TI_MANUFACTURER_ID {
        return Err(format!(
            "not an INA226: manufacturer id {id:#06x}, expected {TI_MANUFACTURER_ID:#06x}"
        ));
    }
    driver
        .set_callibration_raw(calibration)
        .map_err(|e| format!("writing the calibration failed: {e}"))?;
    Ok(Box::new(Ina226Device(driver)))
}

impl<I> RegisterReader for Ina219Device<I>
where
    I: I2c + Send,
    I::Error: std::fmt::Display,
{
    fn read_registers(&mut self) -> Result<RawRegisters, String> {
        let driver = &mut self.0;
        let bus = driver.bus_voltage().map_err(|e| match e {
            BusVoltageReadError::I2cError(e) => format!("reading the bus voltage failed: {e}"),
            other => format!("bus voltage out of range: {other}"),
        })?;
        let shunt = driver.shunt_voltage().map_err(|e| match e {
            ShuntVoltageReadError::I2cError(e) => {
                format!("reading the shunt voltage failed: {e}")
            }
            other => format!("shunt voltage out of range: {other}"),
        })?;
        let current = driver
            .current_raw()
            .map_err(|e| format!("reading the current failed: {e}"))?;
        let power = driver
            .power_raw()
            .map_err(|e| format!("reading the power failed: {e}"))?;
        // The driver splits the bus register into volts and flags; put the word back together.
        let flags =
            u16::from(bus.is_conversion_ready()) << 1 | u16::from(bus.has_math_overflowed());
        Ok(RawRegisters {
            shunt: shunt.shunt_voltage_10uv(),
            bus: bus.voltage_4mv() << 3 | flags,
            power: power.0,
            current: i16::from_be_bytes(current.0.to_be_bytes()),
        })
    }
}

impl<I> RegisterReader for Ina226Device<I>
where
    I: I2c + Send,
    I::Error: std::fmt::Display,
{
    fn read_registers(&mut self) -> Result<RawRegisters, String> {
        let driver = &mut self.0;
        let failed =
            |what: &'static str| move |e: I::Error| format!("reading the {what} failed: {e}");
        Ok(RawRegisters {
            shunt: driver
                .shunt_voltage_raw()
                .map_err(failed("shunt voltage"))?,
            bus: driver.bus_voltage_raw().map_err(failed("bus voltage"))?,
            power: driver.power_raw().map_err(failed("power"))?,
            current: driver.current_raw().map_err(failed("current"))?,
        })
    }
}
