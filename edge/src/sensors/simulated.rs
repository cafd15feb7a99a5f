//! The `simulated` sensor: an [`EnergySystem`] driven by the wall clock, for trying the system without hardware.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use chrono::Timelike;
use serde_json::{Map, Value, json};

use super::energy_system::{EnergySample, EnergySystem, SystemParams};
use super::{Sensor, SensorError, check_range, round, validate_field};

/// `[[sensors]] kind = "simulated"`: every key is optional.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulatedConfig {
    /// Seed for the noise, weather and appliances; the same seed gives the same run. Default: from the clock.
    pub seed: Option<u64>,
    /// Simulated seconds per real second, e.g. 3600 for a day in 24 s of a demo. Default 1.
    pub speedup: f64,
    /// Usable battery energy, kWh. Default 10.24 (200 Ah at 51.2 V).
    pub capacity_kwh: f64,
    /// PV output at noon under a clear sky, W. Default 2400.
    pub pv_peak_w: f64,
    /// Load that never switches off, W. Default 250.
    pub base_load_w: f64,
    /// State of charge at start, %. Default 60.
    pub initial_soc: f64,
    /// Payload field for {`voltage`, `soc`, `current_a`}. Default `battery`.
    pub battery_field: String,
    /// Payload field for the PV power in W. Default `pv_power_w`.
    pub pv_field: String,
    /// Payload field for the load power in W. Default `load_power_w`.
    pub load_field: String,
}

impl Default for SimulatedConfig {
    fn default() -> Self {
        let params = SystemParams::default();
        Self {
            seed: None,
            speedup: 1.0,
            capacity_kwh: params.capacity_wh / 1000.0,
            pv_peak_w: params.pv_peak_w,
            base_load_w: params.base_load_w,
            initial_soc: params.initial_soc,
            battery_field: "battery".into(),
            pv_field: "pv_power_w".into(),
            load_field: "load_power_w".into(),
        }
    }
}

impl SimulatedConfig {
    /// Checks ranges and field names; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        check_range("speedup", self.speedup, 0.001, 100_000.0)?;
        check_range("capacity_kwh", self.capacity_kwh, 0.1, 1_000.0)?;
        check_range("pv_peak_w", self.pv_peak_w, 0.0, 1_000_000.0)?;
        check_range("base_load_w", self.base_load_w, 1.0, 1_000_000.0)?;
        check_range("initial_soc", self.initial_soc, 0.0, 100.0)?;
        validate_field("battery_field", &self.battery_field)?;
        validate_field("pv_field", &self.pv_field)?;
        validate_field("load_field", &self.load_field)
    }

    fn params(&self) -> SystemParams {
        SystemParams {
            capacity_wh: self.capacity_kwh * 1000.0,
            pv_peak_w: self.pv_peak_w,
            base_load_w: self.base_load_w,
            initial_soc: self.initial_soc,
        }
    }
}

/// The simulated energy system on simulated time: local time of day at start, then `speedup` times real time.
pub struct SimulatedSensor {
    config: SimulatedConfig,
    system: EnergySystem,
    started: Instant,
    start_hour: f64,
    simulated_s: f64,
}

impl SimulatedSensor {
    /// Starts the simulation at the current local time of day.
    pub fn new(config: &SimulatedConfig) -> Self {
        let now = chrono::Local::now();
        let start_hour = f64::from(now.num_seconds_from_midnight()) / 3600.0;
        let seed = config.seed.unwrap_or_else(seed_from_clock);
        Self {
            config: config.clone(),
            system: EnergySystem::new(config.params(), seed),
            started: Instant::now(),
            start_hour,
            simulated_s: 0.0,
        }
    }

    /// Writes one sample into `fields` under the configured names, rounded to what a real meter shows.
    fn write_fields(&self, sample: &EnergySample, fields: &mut Map<String, Value>) {
        let battery = json!({
            "voltage": round(sample.battery_voltage_v, 2),
            "soc": round(sample.soc_percent, 1),
            "current_a": round(sample.battery_current_a, 2),
        });
        fields.insert(self.config.battery_field.clone(), battery);
        fields.insert(
            self.config.pv_field.clone(),
            json!(round(sample.pv_power_w, 1)),
        );
        fields.insert(
            self.config.load_field.clone(),
            json!(round(sample.load_power_w, 1)),
        );
    }
}

impl Sensor for SimulatedSensor {
    fn name(&self) -> &str {
        "simulated"
    }

    fn read(&mut self, fields: &mut Map<String, Value>) -> Result<(), SensorError> {
        let now_s = self.started.elapsed().as_secs_f64() * self.config.speedup;
        // At most a simulated day per read, so a suspended Pi does not spin through weeks on wake-up.
        let dt = (now_s - self.simulated_s).clamp(0.0, 86_400.0);
        self.simulated_s = now_s;
        let hour = (self.start_hour + now_s / 3600.0).rem_euclid(24.0);
        let sample = self.system.step(hour, dt);
        self.write_fields(&sample, fields);
        Ok(())
    }
}

fn seed_from_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fill_the_configured_fields_with_plausible_values() {
        let config = SimulatedConfig {
            seed: Some(1),
            battery_field: "bank".into(),
            ..SimulatedConfig::default()
        };
        let mut sensor = SimulatedSensor::new(&config);
        let mut fields = Map::new();
        sensor.read(&mut fields).expect("reads");
        let bank = fields["bank"].as_object().expect("an object");
        let voltage = bank["voltage"].as_f64().expect("a number");
        assert!((44.0..=58.4).contains(&voltage), "{voltage}");
        assert_eq!(bank["soc"].as_f64(), Some(60.0), "no time has passed");
        assert!(fields["pv_power_w"].as_f64().is_some_and(|w| w >= 0.0));
        assert!(fields["load_power_w"].as_f64().is_some_and(|w| w > 0.0));
    }

    #[test]
    fn speedup_moves_simulated_time() {
        let config = SimulatedConfig {
            seed: Some(1),
            speedup: 36_000.0,
            ..SimulatedConfig::default()
        };
        let mut sensor = SimulatedSensor::new(&config);
        let mut fields = Map::new();
        std::thread::sleep(std::time::Duration::from_millis(50));
        sensor.read(&mut fields).expect("reads");
        assert!(
            sensor.simulated_s >= 1_800.0,
            "50 ms at 36000x is at least half an hour"
        );
        assert_ne!(
            fields["battery"]["soc"].as_f64(),
            Some(60.0),
            "energy flowed"
        );
    }

    #[test]
    fn validation_names_the_key() {
        let bad = SimulatedConfig {
            speedup: 0.0,
            ..SimulatedConfig::default()
        };
        assert_eq!(
            bad.validate(),
            Err("speedup: must be 0.001 to 100000 (got 0)".into())
        );
        let bad = SimulatedConfig {
            initial_soc: f64::NAN,
            ..SimulatedConfig::default()
        };
        assert!(bad.validate().is_err_and(|e| e.starts_with("initial_soc:")));
        let bad = SimulatedConfig {
            pv_field: "pv power".into(),
            ..SimulatedConfig::default()
        };
        assert!(bad.validate().is_err_and(|e| e.starts_with("pv_field:")));
        assert_eq!(SimulatedConfig::default().validate(), Ok(()));
    }
}
