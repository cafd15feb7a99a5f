//! A simulated off-grid energy system (PV array, household load, 16S LiFePO4 bank) stepped through time; pure, no clock.
//!
//! Sign convention: battery current and power are positive while charging and negative while discharging;
//! the battery takes exactly `pv - load`. When the bank is nearly full the charge controller curtails PV to what
//! the battery accepts; when it is empty the inverter's low-voltage cut-off limits the load to the PV power.

/// Cells in series: a "48 V" bank, 51.2 V nominal.
const CELLS: f64 = 16.0;
/// The bank's terminal voltage never leaves this range (2.75 to 3.65 V per cell).
pub const VOLTAGE_RANGE: (f64, f64) = (44.0, 58.4);
/// Open-circuit voltage per cell against state of charge (%), from typical LiFePO4 rest curves.
const OCV_PER_CELL: [(f64, f64); 13] = [
    (0.0, 2.80),
    (2.0, 3.00),
    (5.0, 3.12),
    (10.0, 3.20),
    (20.0, 3.24),
    (40.0, 3.28),
    (60.0, 3.30),
    (70.0, 3.31),
    (80.0, 3.33),
    (90.0, 3.34),
    (95.0, 3.36),
    (98.0, 3.40),
    (100.0, 3.50),
];
/// Pack internal resistance (cells, busbars, BMS), ohms.
const INTERNAL_OHMS: f64 = 0.025;
/// Longest step integrated at once; longer steps are split so a fast `speedup` stays accurate.
const MAX_STEP_S: f64 = 60.0;

/// The system's sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SystemParams {
    /// Usable battery energy, Wh.
    pub capacity_wh: f64,
    /// PV output at noon under a clear sky, W.
    pub pv_peak_w: f64,
    /// Load that never switches off (fridge, router, standby), W.
    pub base_load_w: f64,
    /// State of charge at the start, 0 to 100 %.
    pub initial_soc: f64,
}

impl Default for SystemParams {
    fn default() -> Self {
        Self {
            capacity_wh: 10_240.0,
            pv_peak_w: 2_400.0,
            base_load_w: 250.0,
            initial_soc: 60.0,
        }
    }
}

/// One instant's measurements, unrounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnergySample {
    /// Battery terminal voltage, V.
    pub battery_voltage_v: f64,
    /// State of charge, 0 to 100 %.
    pub soc_percent: f64,
    /// Battery current, A: positive while charging.
    pub battery_current_a: f64,
    /// PV power delivered (after curtailment), W.
    pub pv_power_w: f64,
    /// Load power served, W.
    pub load_power_w: f64,
}

/// The simulated system's state: state of charge, weather, appliances and a seeded random source.
#[derive(Debug, Clone)]
pub struct EnergySystem {
    params: SystemParams,
    soc: f64,
    cloud: f64,
    appliance_w: f64,
    appliance_left_s: f64,
    rng: SplitMix64,
}

impl EnergySystem {
    /// A system in its initial state; the same `seed` gives the same run for the same steps.
    pub fn new(params: SystemParams, seed: u64) -> Self {
        let soc = params.initial_soc.clamp(0.0, 100.0);
        Self {
            params,
            soc,
            cloud: 0.8,
            appliance_w: 0.0,
            appliance_left_s: 0.0,
            rng: SplitMix64(seed),
        }
    }

    /// Advances by `dt_s` seconds ending at `hour` (local time of day, 0 to 24) and returns the measurements then.
    pub fn step(&mut self, hour: f64, dt_s: f64) -> EnergySample {
        let mut remaining = dt_s.max(0.0);
        loop {
            let dt = remaining.min(MAX_STEP_S);
            remaining -= dt;
            let at = (hour - remaining / 3600.0).rem_euclid(24.0);
            let sample = self.advance(at, dt);
            if remaining <= 0.0 {
                return sample;
            }
        }
    }

    fn advance(&mut self, hour: f64, dt_s: f64) -> EnergySample {
        self.update_weather(dt_s);
        self.update_appliances(hour, dt_s);
        let mut pv = clear_sky_pv(hour, self.params.pv_peak_w)
            * self.cloud
            * (1.0 + 0.01 * self.rng.normal());
        pv = pv.max(0.0);
        let mut load = (household_load(hour, self.params.base_load_w)
            + self.appliance_w
            + 8.0 * self.rng.normal())
        .max(self.params.base_load_w * 0.5);
        if pv > load {
            pv = pv.min(load + self.charge_acceptance_w());
        } else if self.soc <= 0.0 {
            load = pv;
        }
        let battery_w = pv - load;
        let efficiency = if battery_w > 0.0 { 0.96 } else { 1.0 / 0.96 };
        self.soc = (self.soc
            + battery_w * efficiency * dt_s / 3600.0 / self.params.capacity_wh * 100.0)
            .clamp(0.0, 100.0);
        let ocv = CELLS * ocv_per_cell(self.soc);
        let current = battery_w / ocv;
        let voltage = (ocv + current * INTERNAL_OHMS + 0.01 * self.rng.normal())
            .clamp(VOLTAGE_RANGE.0, VOLTAGE_RANGE.1);
        EnergySample {
            battery_voltage_v: voltage,
            soc_percent: self.soc,
            battery_current_a: current,
            pv_power_w: pv,
            load_power_w: load,
        }
    }

    /// Most power the bank takes: 0.5 C, tapering to zero over the last 5 % (the charger's absorption phase).
    fn charge_acceptance_w(&self) -> f64 {
        let max = self.params.capacity_wh * 0.5;
        max * ((100.0 - self.soc) / 5.0).clamp(0.0, 1.0)
    }

    /// Cloud cover as a slow mean-reverting random walk: 1.0 is a clear sky, 0.2 a heavy overcast.
    fn update_weather(&mut self, dt_s: f64) {
        let pull = (0.8 - self.cloud) * dt_s / 1800.0;
        let gust = 0.004 * dt_s.sqrt() * self.rng.normal();
        self.cloud = (self.cloud + pull + gust).clamp(0.2, 1.0);
    }

    /// Big appliances (kettle, washing machine, pump) switch on at random, mostly by day, for a few minutes.
    fn update_appliances(&mut self, hour: f64, dt_s: f64) {
        self.appliance_left_s -= dt_s;
        if self.appliance_left_s <= 0.0 {
            self.appliance_w = 0.0;
            let per_hour = if (7.0..22.0).contains(&hour) {
                1.5
            } else {
                0.2
            };
            if self.rng.unit() < per_hour * dt_s / 3600.0 {
                self.appliance_w = 800.0 + 1_400.0 * self.rng.unit();
                self.appliance_left_s = 60.0 + 540.0 * self.rng.unit();
            }
        }
    }
}

/// PV power under a clear sky: zero at night, a smooth bell from sunrise (06:00) to sunset (18:00).
pub fn clear_sky_pv(hour: f64, peak_w: f64) -> f64 {
    if !(6.0..18.0).contains(&hour) {
        return 0.0;
    }
    peak_w * (std::f64::consts::PI * (hour - 6.0) / 12.0).sin().powf(1.5)
}

/// Household load without appliances: the base plus a morning and a larger evening peak.
pub fn household_load(hour: f64, base_w: f64) -> f64 {
    let bump =
        |centre: f64, width: f64, height: f64| height * (-((hour - centre) / width).powi(2)).exp();
    base_w + bump(7.5, 1.0, 350.0) + bump(19.5, 1.8, 650.0)
}

/// Open-circuit voltage of one cell at `soc` percent, interpolated linearly in `OCV_PER_CELL`.
pub fn ocv_per_cell(soc: f64) -> f64 {
    let soc = soc.clamp(0.0, 100.0);
    for pair in OCV_PER_CELL.windows(2) {
        let ((s0, v0), (s1, v1)) = (pair[0], pair[1]);
        if soc <= s1 {
            return v0 + (v1 - v0) * (soc - s0) / (s1 - s0);
        }
    }
    OCV_PER_CELL[OCV_PER_CELL.len() - 1].1
}

/// A small, fast, seedable random source (SplitMix64); good enough for noise, not for secrets.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly standard normal (Irwin-Hall of 4 uniforms, rescaled): bounded at +-3.5, which noise wants.
    fn normal(&mut self) -> f64 {
        let sum: f64 = (0..4).map(|_| self.unit()).sum();
        (sum - 2.0) * 3f64.sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three days at one-minute steps, starting at midnight.
    fn run(seed: u64) -> Vec<(f64, EnergySample)> {
        let mut system = EnergySystem::new(SystemParams::default(), seed);
        (1..=3 * 24 * 60)
            .map(|minute| {
                let hour = (f64::from(minute) / 60.0) % 24.0;
                (hour, system.step(hour, 60.0))
            })
            .collect()
    }

    #[test]
    fn values_stay_physically_plausible_over_days() {
        for seed in [0, 1, 42, u64::MAX] {
            for (hour, s) in run(seed) {
                assert!(
                    (44.0..=58.4).contains(&s.battery_voltage_v),
                    "{hour}: {s:?}"
                );
                assert!((0.0..=100.0).contains(&s.soc_percent), "{hour}: {s:?}");
                assert!(
                    s.pv_power_w >= 0.0 && s.load_power_w >= 0.0,
                    "{hour}: {s:?}"
                );
                assert!(s.battery_current_a.abs() < 120.0, "{hour}: {s:?}");
                if !(6.0..18.0).contains(&hour) {
                    assert_eq!(s.pv_power_w, 0.0, "no sun at {hour}");
                }
            }
        }
    }

    #[test]
    fn the_battery_charges_when_pv_exceeds_load_and_discharges_otherwise() {
        let samples = run(7);
        for (hour, s) in &samples {
            let net = s.pv_power_w - s.load_power_w;
            assert!(
                (s.battery_current_a * CELLS * ocv_per_cell(s.soc_percent) - net).abs() < 1e-6,
                "{hour}: {s:?}"
            );
            if net > 1.0 {
                assert!(s.battery_current_a > 0.0, "{hour}: {s:?}");
            } else if net < -1.0 {
                assert!(s.battery_current_a < 0.0, "{hour}: {s:?}");
            }
        }
        assert!(
            samples.iter().any(|(_, s)| s.battery_current_a > 5.0),
            "never charged"
        );
        assert!(
            samples.iter().any(|(_, s)| s.battery_current_a < -5.0),
            "never discharged"
        );
    }

    #[test]
    fn soc_follows_the_sun_by_day_and_the_load_by_night() {
        let samples = run(3);
        let soc_at = |day: usize, hour: usize| samples[day * 1440 + hour * 60 - 1].1.soc_percent;
        for day in 1..3 {
            assert!(soc_at(day, 16) > soc_at(day, 8), "day {day} charges");
            assert!(
                soc_at(day, 5) < soc_at(day - 1, 20),
                "night {day} discharges"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }

    #[test]
    fn a_long_step_is_split_into_one_minute_steps() {
        let mut long = EnergySystem::new(SystemParams::default(), 5);
        let mut short = EnergySystem::new(SystemParams::default(), 5);
        let a = long.step(12.0, 3600.0);
        let b = (0..60)
            .map(|m| short.step(11.0 + f64::from(m + 1) / 60.0, 60.0))
            .last()
            .expect("steps");
        for (x, y) in [
            (a.soc_percent, b.soc_percent),
            (a.battery_voltage_v, b.battery_voltage_v),
            (a.pv_power_w, b.pv_power_w),
        ] {
            assert!(
                (x - y).abs() < 1e-6,
                "a long step is split into the same one-minute steps: {a:?} {b:?}"
            );
        }
    }

    #[test]
    fn voltage_rises_with_state_of_charge() {
        let volts: Vec<f64> = (0..=100)
            .map(|soc| CELLS * ocv_per_cell(f64::from(soc)))
            .collect();
        assert!(volts.windows(2).all(|w| w[1] >= w[0]));
        assert!(
            (CELLS * ocv_per_cell(50.0) - 52.6).abs() < 0.5,
            "about 51.2 V nominal, a little above at rest"
        );
    }

    #[test]
    fn clear_sky_pv_peaks_at_noon() {
        assert_eq!(clear_sky_pv(5.9, 2400.0), 0.0);
        assert!((clear_sky_pv(12.0, 2400.0) - 2400.0).abs() < 1e-9);
        assert!(clear_sky_pv(9.0, 2400.0) < clear_sky_pv(11.0, 2400.0));
    }
}
