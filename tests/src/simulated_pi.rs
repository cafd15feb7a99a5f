//! A simulated Raspberry Pi on a small solar battery system: plausible, gently varying telemetry samples.
//!
//! Pure: the caller supplies the time, so tests are deterministic. One call is one second of simulated time.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use telemetry_protocol::Telemetry;

/// Usable battery energy in watt-seconds (0.5 kWh: small, so the state of charge visibly moves in a demo).
const BATTERY_WS: f64 = 0.5 * 3_600_000.0;
/// Seconds per simulated "day" of PV output (ten minutes, so a demo sees the sun rise and set).
const DAY_SECONDS: f64 = 600.0;
/// Peak PV power in watts.
const PV_PEAK_W: f64 = 2_400.0;

/// The simulated system: counts samples within its epoch and integrates the battery's state of charge.
#[derive(Debug, Clone)]
pub struct SimulatedPi {
    epoch: String,
    seq: u64,
    soc: f64,
    noise: u64,
}

impl SimulatedPi {
    /// A system whose samples belong to `epoch`, starting at 70 % charge; `seed` varies the noise.
    pub fn new(epoch: impl Into<String>, seed: u64) -> Self {
        Self {
            epoch: epoch.into(),
            seq: 0,
            soc: 70.0,
            noise: seed | 1,
        }
    }

    /// The epoch the samples belong to.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The seq of the last sample (0 before the first).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Advances one second and returns the sample taken at `now`.
    pub fn next_sample(&mut self, now: DateTime<Utc>) -> Telemetry {
        self.seq += 1;
        let t = self.seq as f64;
        let sun = (std::f64::consts::TAU * t / DAY_SECONDS).sin().max(0.0);
        let pv = (PV_PEAK_W * sun + 40.0 * self.jitter()).max(0.0);
        let load = 450.0 + 150.0 * (t / 37.0).sin() + 30.0 * self.jitter();
        self.soc = (self.soc + 100.0 * (pv - load) / BATTERY_WS).clamp(5.0, 100.0);
        let voltage = 46.0 + 0.08 * self.soc - 0.4 * load / 1_000.0;
        Telemetry {
            epoch: self.epoch.clone(),
            seq: self.seq,
            ts: now.to_rfc3339_opts(SecondsFormat::Millis, true),
            data: sample_data(voltage, self.soc, pv, load),
            device_id: None,
        }
    }

    /// Uniform noise in [-1, 1] from a 64-bit LCG (no randomness crate needed for a demo).
    fn jitter(&mut self) -> f64 {
        self.noise = self
            .noise
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.noise >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

fn sample_data(voltage: f64, soc: f64, pv: f64, load: f64) -> Map<String, Value> {
    let value = json!({
        "battery": { "voltage": round(voltage, 2), "soc": round(soc, 1) },
        "pv_power_w": round(pv, 0),
        "load_power_w": round(load, 0),
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn round(x: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (x * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(second: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_767_225_600 + second, 0)
            .single()
            .expect("valid time")
    }

    #[test]
    fn counts_seq_from_one_and_stamps_rfc3339() {
        let mut pi = SimulatedPi::new("e1", 7);
        let first = pi.next_sample(at(0));
        let second = pi.next_sample(at(1));
        assert_eq!((first.seq, second.seq), (1, 2));
        assert_eq!(first.epoch, "e1");
        assert_eq!(first.ts, "2026-01-01T00:00:00.000Z");
        assert!(DateTime::parse_from_rfc3339(&second.ts).is_ok());
    }

    #[test]
    fn stays_plausible_for_a_whole_simulated_day() {
        let mut pi = SimulatedPi::new("e1", 42);
        for second in 0..(2.0 * DAY_SECONDS) as i64 {
            let sample = pi.next_sample(at(second));
            let data = Value::Object(sample.data);
            let soc = data["battery"]["soc"].as_f64().expect("soc");
            let voltage = data["battery"]["voltage"].as_f64().expect("voltage");
            let pv = data["pv_power_w"].as_f64().expect("pv");
            let load = data["load_power_w"].as_f64().expect("load");
            assert!((5.0..=100.0).contains(&soc), "soc {soc}");
            assert!((45.0..=55.0).contains(&voltage), "voltage {voltage}");
            assert!((0.0..=PV_PEAK_W + 40.0).contains(&pv), "pv {pv}");
            assert!((250.0..=650.0).contains(&load), "load {load}");
        }
    }

    #[test]
    fn serialises_as_a_typed_telemetry_message() {
        let mut pi = SimulatedPi::new("e1", 1);
        let message = telemetry_protocol::DeviceMessage::Telemetry(pi.next_sample(at(0)));
        let value = serde_json::to_value(&message).expect("serialises");
        assert_eq!(value["type"], "telemetry");
        assert_eq!(value["seq"], 1);
        assert!(value["data"]["battery"]["soc"].is_number());
        assert!(value.get("device_id").is_none());
    }
}
