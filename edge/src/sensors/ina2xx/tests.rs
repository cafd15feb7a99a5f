//! The register math against the worked examples and register descriptions of TI's datasheets:
//! INA219 SBOS448F (Aug 2008, rev. Sep 2011) and INA226 SBOS547 (June 2011). Each test names its page and table.

use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

/// The current LSB the datasheets' examples choose, 1 mA, expressed as this module's "expected maximum".
const ONE_MA_LSB_MAX_A: f64 = 0.001 * 32_768.0;

/// INA219 SBOS448F, "Configure/Measure/Calculate Example", Table 3, p. 24 (RSHUNT 2 mΩ, current LSB 1 mA):
/// Calibration 05h = 5000h = 20480; "the power LSB that is 20 times the 1 × 10⁻³ current LSB, or 20 × 10⁻³".
#[test]
fn ina219_calibration_matches_table_3() {
    let cal = Calibration::new(Chip::Ina219, 0.002, ONE_MA_LSB_MAX_A).expect("in range");
    assert_eq!(cal.register, 0x5000);
    assert!(close(cal.current_lsb_a, 0.001), "{cal:?}");
    assert!(close(cal.power_lsb_w, 0.020), "{cal:?}");
}

/// INA219 SBOS448F Table 3, p. 24, steps 2, 3, 5 and 6: shunt 07D0h = 2000 × 10 µV = 20 mV; bus 5D98h, adjusted
/// (>> 3) 0BB3 = 2995 × 4 mV = 11.98 V; current 2710h = 10000 × 1 mA = 10.0 A; power 1766h = 5990 × 20 mW = 119.8 W.
#[test]
fn ina219_decoding_matches_table_3() {
    let cal = Calibration::new(Chip::Ina219, 0.002, ONE_MA_LSB_MAX_A).expect("in range");
    let raw = RawRegisters {
        shunt: 0x07D0,
        bus: 0x5D98,
        power: 0x1766,
        current: 0x2710,
    };
    assert!(!ina219_overflowed(raw.bus), "OVF (bit 0) is clear in 5D98h");
    let m = decode(Chip::Ina219, &cal, raw, 1.0);
    assert!(close(m.shunt_voltage_mv, 20.0), "{m:?}");
    assert!(close(m.bus_voltage_v, 11.98), "{m:?}");
    assert!(close(m.current_a, 10.0), "{m:?}");
    assert!(close(m.power_w, 119.8), "{m:?}");
}

/// The chip's own arithmetic for Table 3 (SBOS448F p. 30, Current = Shunt × Cal / 4096, Power = Current × Bus / 5000,
/// with the text of p. 24): 2000 × 20480 / 4096 = 10000 (2710h), 10000 × 2995 / 5000 = 5990 (1766h).
#[test]
fn ina219_table_3_registers_follow_the_chip_equations() {
    let cal = Calibration::new(Chip::Ina219, 0.002, ONE_MA_LSB_MAX_A).expect("in range");
    assert_eq!(0x07D0 * u32::from(cal.register) / 4096, 0x2710);
    assert_eq!(0x2710 * (0x5D98 >> 3) / 5000, 0x1766);
}

/// INA219 SBOS448F, "Bus Voltage Register 02h", p. 30: bits 15..3 hold the value, "At full-scale range = 32V
/// (decimal = 8000, hex = 1F40), and LSB = 4mV", 16 V range "decimal = 4000, hex = 0FA0"; bit 1 is CNVR and
/// bit 0 OVF ("set when the Power or Current calculations are out of range").
#[test]
fn ina219_bus_register_full_scale_and_flags() {
    let full_scale_32v = 0x1F40 << 3;
    assert!(close(bus_voltage_v(Chip::Ina219, full_scale_32v), 32.0));
    assert!(close(bus_voltage_v(Chip::Ina219, 0x0FA0 << 3), 16.0));
    assert!(close(
        bus_voltage_v(Chip::Ina219, full_scale_32v | 0b10),
        32.0
    ));
    assert!(close(
        bus_voltage_v(Chip::Ina219, full_scale_32v | 0b11),
        32.0
    ));
    assert!(ina219_overflowed(full_scale_32v | 0b01));
    assert!(!ina219_overflowed(full_scale_32v | 0b10), "CNVR is not OVF");
}

/// INA219 shunt register, 10 µV LSB (SBOS448F Table 3, step 2). The sign-extended two's complement words at each
/// PGA range are those TI prints for the same register format in TMP512/TMP513 SBOS491A, "Shunt Voltage Register",
/// p. 41 (±320 mV: 7D00h / 8300h; ±160 mV: 3E80h / C180h); the INA219's default PGA is ÷8, ±320 mV
/// (SBOS448F Table 5, p. 26).
#[test]
fn ina219_shunt_register_is_signed_10_uv() {
    let mv = |word: u16| shunt_voltage_mv(Chip::Ina219, word as i16);
    assert!(close(mv(0x7D00), 320.0) && close(mv(0x8300), -320.0));
    assert!(close(mv(0x3E80), 160.0) && close(mv(0xC180), -160.0));
    assert!(close(Chip::Ina219.shunt_full_scale_v(), 0.32));
}

/// INA226 SBOS547, "Configure/Measure/Calculate Example", pp. 15–16: with a maximum expected current of 15 A,
/// Equation 2 (Current_LSB = max / 2^15) gives "457.7μA/bit"; Equation 1 (CAL = 0.00512 / (Current_LSB × RSHUNT))
/// for that LSB and 2 mΩ is trunc(5592.4) = 5592.
#[test]
fn ina226_equation_2_lsb_for_15_a() {
    let cal = Calibration::new(Chip::Ina226, 0.002, 15.0).expect("in range");
    assert_eq!(cal.register, 5592);
    let lsb_in_tenths_of_a_microamp = (15.0_f64 / 32_768.0 * 1e7).trunc();
    assert_eq!(
        lsb_in_tenths_of_a_microamp, 4577.0,
        "the quoted 457.7 µA/bit"
    );
    assert!(
        close(cal.current_lsb_a, 0.00512 / (5592.0 * 0.002)),
        "{cal:?}"
    );
}

/// INA226 SBOS547 Table 1, step 4, p. 16, and the text of p. 15: "a current LSB of 1mA/bit and a shunt resistor of
/// 2mΩ results in a Calibration Register value of 2560, or A00h"; the power LSB is 25 × the current LSB (p. 14),
/// "25mW/bit" here (p. 16).
#[test]
fn ina226_calibration_matches_table_1() {
    let cal = Calibration::new(Chip::Ina226, 0.002, ONE_MA_LSB_MAX_A).expect("in range");
    assert_eq!(cal.register, 0x0A00);
    assert!(close(cal.current_lsb_a, 0.001), "{cal:?}");
    assert!(close(cal.power_lsb_w, 0.025), "{cal:?}");
}

/// INA226 SBOS547 Table 1, p. 16, steps 2, 3, 5 and 6: shunt 1F40h = 8000 × 2.5 µV = 20 mV; bus 2570h = 9584 ×
/// 1.25 mV = 11.98 V; current 2710h = 10000 × 1 mA = 10 A; power 12B8h = 4792 × 25 mW = 119.8 W. The table (and
/// the sentence above it) print "119.82W", a slip: 4792 × 25 mW is 119.800 W, the "119.8W" of the page's own
/// manual calculation (11.98 V × 10 A).
#[test]
fn ina226_decoding_matches_table_1() {
    let cal = Calibration::new(Chip::Ina226, 0.002, ONE_MA_LSB_MAX_A).expect("in range");
    let raw = RawRegisters {
        shunt: 0x1F40,
        bus: 0x2570,
        power: 0x12B8,
        current: 0x2710,
    };
    let m = decode(Chip::Ina226, &cal, raw, 1.0);
    assert!(close(m.shunt_voltage_mv, 20.0), "{m:?}");
    assert!(close(m.bus_voltage_v, 11.98), "{m:?}");
    assert!(close(m.current_a, 10.0), "{m:?}");
    assert!(close(m.power_w, 119.8), "{m:?}");
}

/// The chip's arithmetic for Table 1: Equation 3 (p. 15), Current = Shunt × CAL / 2048: 8000 × 2560 / 2048 = 10000;
/// Equation 4 (p. 16), Power = Current × Bus / 20000: 10000 × 9584 / 20000 = 4792 (12B8h).
#[test]
fn ina226_table_1_registers_follow_equations_3_and_4() {
    let cal = Calibration::new(Chip::Ina226, 0.002, ONE_MA_LSB_MAX_A).expect("in range");
    assert_eq!(0x1F40 * u32::from(cal.register) / 2048, 0x2710);
    assert_eq!(0x2710 * 0x2570 / 20_000, 0x12B8);
}

/// INA226 SBOS547, "Shunt Voltage Register 01h" and "Bus Voltage Register 02h", p. 20: shunt "Full-scale range =
/// 81.92mV (decimal = 7FFF); LSB: 2.5μV", 80 mV = 32000 counts, negated and sign-extended "= 8300h"; bus
/// "Full-scale range = 40.96V (decimal = 7FFF); LSB = 1.25mV" and "D15 is always zero".
#[test]
fn ina226_shunt_and_bus_registers_of_page_20() {
    assert!(close(shunt_voltage_mv(Chip::Ina226, 0x7FFF), 81.9175));
    assert!(close(
        shunt_voltage_mv(Chip::Ina226, 0x8300_u16 as i16),
        -80.0
    ));
    assert!(close(shunt_voltage_mv(Chip::Ina226, 32_000), 80.0));
    assert!(close(Chip::Ina226.shunt_full_scale_v(), 0.08192));
    assert!(close(bus_voltage_v(Chip::Ina226, 1), 0.00125));
    assert!(close(bus_voltage_v(Chip::Ina226, 0x7FFF), 40.95875));
    assert!(
        close(bus_voltage_v(Chip::Ina226, 0x8000 | 0x2570), 11.98),
        "D15 is not a volt"
    );
}

/// INA226 current register 04h is two's complement (SBOS547 p. 21, CSIGN): a reversed Table 1 load reads −10 A.
#[test]
fn negative_current_decodes_negative() {
    let cal = Calibration::new(Chip::Ina226, 0.002, ONE_MA_LSB_MAX_A).expect("in range");
    assert!(close(current_a(&cal, -0x2710), -10.0));
}

#[test]
fn truncation_is_folded_into_the_current_lsb() {
    // 0.1 ohm, 3.2 A: LSB 97.66 µA, Cal = trunc(4194.3) = 4194 and the real LSB is 0.04096 / (4194 × 0.1).
    let cal = Calibration::new(Chip::Ina219, 0.1, 3.2).expect("in range");
    assert_eq!(cal.register, 4194);
    assert!(close(cal.current_lsb_a, 0.04096 / 419.4));
    // A true 1 A through 0.1 ohm is 100 mV = 10000 shunt counts; the chip's current is shunt × Cal / 4096.
    let chip_current = (10_000 * i32::from(cal.register) / 4096) as i16;
    assert!((current_a(&cal, chip_current) - 1.0).abs() < 1e-3);
}

/// Bit 0 of the INA219's calibration word is cleared: TI's INA220 forum answer (a chip of the same register map)
/// reports 7FFFh reading back as 7FFEh. Not datasheet-verified; clearing it is harmless if the bit were writable.
#[test]
fn the_ina219_calibration_word_is_even() {
    let cal = Calibration::new(Chip::Ina219, 0.01, 10.0).expect("in range");
    assert_eq!(cal.register, 13_420, "trunc(13421.77), bit 0 cleared");
}

/// The INA226 calibration register's D15 is reserved ("—", SBOS743A INA226-Q1, Calibration Register 05h; FS14..FS0
/// in SBOS547 p. 21), so 7FFFh is its largest word; the INA219's is FFFEh (bit 0 as above).
#[test]
fn a_calibration_beyond_the_register_is_clamped_to_a_coarser_lsb() {
    // 2 A through 0.01 ohm asks for Cal 67108; the INA219 holds at most 0xFFFE.
    let cal = Calibration::new(Chip::Ina219, 0.01, 2.0).expect("clamped");
    assert_eq!(cal.register, 0xFFFE);
    assert!(
        cal.current_lsb_a * 32_767.0 >= 2.0,
        "still covers 2 A: {cal:?}"
    );
    let cal = Calibration::new(Chip::Ina226, 0.000_1, 0.01).expect("clamped");
    assert_eq!(cal.register, 0x7FFF);
}

#[test]
fn impossible_calibrations_are_refused_with_the_key() {
    let err = Calibration::new(Chip::Ina226, 1.0, 1_000.0).expect_err("too large");
    assert!(err.starts_with("max_current_a:"), "{err}");
    assert!(Calibration::new(Chip::Ina226, 0.0, 1.0).is_err());
    assert!(Calibration::new(Chip::Ina226, 0.1, f64::NAN).is_err());
}

/// Table 1 of SBOS547 behind a 4:1 divider in front of VBUS: the bus and the power scale, the current does not.
#[test]
fn a_divider_scales_bus_voltage_and_power_only() {
    let cal = Calibration::new(Chip::Ina226, 0.002, ONE_MA_LSB_MAX_A).expect("in range");
    let raw = RawRegisters {
        shunt: 0x1F40,
        bus: 0x2570,
        power: 0x12B8,
        current: 0x2710,
    };
    let m = decode(Chip::Ina226, &cal, raw, 4.0);
    assert!(
        close(m.bus_voltage_v, 47.92) && close(m.power_w, 479.2) && close(m.current_a, 10.0),
        "{m:?}"
    );
}
