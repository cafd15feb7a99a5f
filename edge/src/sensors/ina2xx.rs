//! INA219 and INA226 register math, as pure functions: calibration from the shunt and the expected current, and
//! the decoding of raw register words into volts, amps and watts. The bus I/O is in [`super::power_monitor`].
//!
//! | | INA219 | INA226 |
//! |---|---|---|
//! | shunt voltage LSB | 10 µV | 2.5 µV |
//! | bus voltage LSB | 4 mV, bits 15..3 (bit 1 CNVR, bit 0 OVF) | 1.25 mV, bits 14..0 |
//! | calibration | 0.04096 / (current LSB × R) | 0.00512 / (current LSB × R) |
//! | power LSB | 20 × current LSB | 25 × current LSB |

/// Which chip: they share a register map but not the scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chip {
    /// TI INA219: bus voltage up to 26 V, shunt up to ±320 mV.
    Ina219,
    /// TI INA226: bus voltage up to 36 V, shunt up to ±81.92 mV.
    Ina226,
}

impl Chip {
    /// Lower-case name, as in the config's `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ina219 => "ina219",
            Self::Ina226 => "ina226",
        }
    }

    fn shunt_lsb_v(self) -> f64 {
        match self {
            Self::Ina219 => 10e-6,
            Self::Ina226 => 2.5e-6,
        }
    }

    /// The datasheet's calibration constant: 0.04096 (INA219) or 0.00512 (INA226).
    fn calibration_constant(self) -> f64 {
        match self {
            Self::Ina219 => 0.04096,
            Self::Ina226 => 0.00512,
        }
    }

    fn power_lsb_factor(self) -> f64 {
        match self {
            Self::Ina219 => 20.0,
            Self::Ina226 => 25.0,
        }
    }

    /// The largest calibration word: the INA219 ignores bit 0, the INA226 reserves bit 15.
    fn max_calibration(self) -> u16 {
        match self {
            Self::Ina219 => 0xFFFE,
            Self::Ina226 => 0x7FFF,
        }
    }

    /// Largest shunt voltage the chip measures (the INA219 at its power-on gain, /8), V.
    pub fn shunt_full_scale_v(self) -> f64 {
        match self {
            Self::Ina219 => 0.32,
            Self::Ina226 => 0.08192,
        }
    }
}

/// The calibration register word and the current and power scales it yields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// The word written to the calibration register (0x05).
    pub register: u16,
    /// Amps per count of the current register, exact for the truncated `register`.
    pub current_lsb_a: f64,
    /// Watts per count of the power register.
    pub power_lsb_w: f64,
}

impl Calibration {
    /// Calibrates for `shunt_ohms` and an expected maximum of `max_current_a`, as the datasheets do:
    /// current LSB = max / 2^15, register = trunc(constant / (LSB × R)). A register beyond the chip's largest is
    /// clamped to it (a coarser LSB than asked for, still covering the maximum). The LSB is then recomputed from the
    /// register actually written, so decoded currents carry no truncation error.
    pub fn new(chip: Chip, shunt_ohms: f64, max_current_a: f64) -> Result<Self, String> {
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(shunt_ohms) || !positive(max_current_a) {
            return Err("shunt_ohms and max_current_a must be positive".into());
        }
        let k = chip.calibration_constant();
        let wanted = (k / (max_current_a / 32_768.0 * shunt_ohms)).trunc();
        if wanted < 1.0 {
            return Err(format!(
                "max_current_a: {max_current_a} A through {shunt_ohms} ohm is beyond any calibration"
            ));
        }
        let mut register = wanted.min(f64::from(chip.max_calibration())) as u16;
        if chip == Chip::Ina219 {
            register &= !1; // bit 0 is read-only zero
        }
        let current_lsb_a = k / (f64::from(register) * shunt_ohms);
        Ok(Self {
            register,
            current_lsb_a,
            power_lsb_w: current_lsb_a * chip.power_lsb_factor(),
        })
    }
}

/// Raw words of the four measurement registers, as read from the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRegisters {
    /// Shunt voltage register (0x01), two's complement.
    pub shunt: i16,
    /// Bus voltage register (0x02).
    pub bus: u16,
    /// Power register (0x03).
    pub power: u16,
    /// Current register (0x04), two's complement.
    pub current: i16,
}

/// One decoded measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// Bus voltage, V.
    pub bus_voltage_v: f64,
    /// Voltage across the shunt, mV; negative when current flows backwards.
    pub shunt_voltage_mv: f64,
    /// Current through the shunt, A (sign as the shunt is wired).
    pub current_a: f64,
    /// Power, W; the chips compute it from the magnitudes, so it is never negative.
    pub power_w: f64,
}

/// Shunt voltage in mV from the shunt register.
pub fn shunt_voltage_mv(chip: Chip, register: i16) -> f64 {
    f64::from(register) * chip.shunt_lsb_v() * 1000.0
}

/// Bus voltage in V from the bus register; the INA219's conversion-ready and overflow bits are shifted out.
pub fn bus_voltage_v(chip: Chip, register: u16) -> f64 {
    match chip {
        Chip::Ina219 => f64::from(register >> 3) * 0.004,
        Chip::Ina226 => f64::from(register & 0x7FFF) * 0.00125,
    }
}

/// Whether an INA219's bus register flags a math overflow (OVF, bit 0): current and power are then invalid.
pub fn ina219_overflowed(register: u16) -> bool {
    register & 1 == 1
}

/// Current in A from the current register.
pub fn current_a(calibration: &Calibration, register: i16) -> f64 {
    f64::from(register) * calibration.current_lsb_a
}

/// Power in W from the power register.
pub fn power_w(calibration: &Calibration, register: u16) -> f64 {
    f64::from(register) * calibration.power_lsb_w
}

/// Decodes all four registers. `bus_scale` multiplies the bus voltage and power, for a resistor divider in
/// front of VBUS (1.0 without one).
pub fn decode(
    chip: Chip,
    calibration: &Calibration,
    raw: RawRegisters,
    bus_scale: f64,
) -> Measurement {
    Measurement {
        bus_voltage_v: bus_voltage_v(chip, raw.bus) * bus_scale,
        shunt_voltage_mv: shunt_voltage_mv(chip, raw.shunt),
        current_a: current_a(calibration, raw.current),
        power_w: power_w(calibration, raw.power) * bus_scale,
    }
}

#[cfg(test)]
mod tests;
