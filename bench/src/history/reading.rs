//! A plausible reading of a home battery with solar panels at a moment of the day, and telemetry messages
//! carrying it: the values move like real ones (the sun rises and sets, the battery follows), so the history
//! compresses like real history and not like a constant.

use serde_json::{Value, json};

/// The reading of system `system` (any number; it shifts the phases a little) at `unix_secs`.
pub fn reading(system: u64, unix_secs: u64) -> Value {
    let day = 86_400.0;
    let shift = (system % 97) as f64 * 37.0;
    let seconds_of_day = (unix_secs as f64 + shift) % day;
    // Sun from 06:00 to 18:00, peak at noon, with a little fast wobble for clouds.
    let sun = (std::f64::consts::PI * (seconds_of_day - 21_600.0) / 43_200.0)
        .sin()
        .max(0.0);
    let clouds = 0.9 + 0.1 * (unix_secs as f64 / 97.0 + shift).sin();
    let pv = 4_200.0 * sun * clouds;
    let load = 450.0 + 250.0 * (unix_secs as f64 / 1_800.0 + shift).sin().abs();
    let battery_w = (pv - load).clamp(-3_000.0, 3_000.0);
    let soc = 55.0 + 35.0 * (2.0 * std::f64::consts::PI * (seconds_of_day - 32_400.0) / day).sin();
    let voltage = 48.0 + soc * 0.06 + battery_w / 3_000.0;
    json!({
        "battery": {
            "voltage": round(voltage, 2),
            "soc": round(soc, 1),
            "current_a": round(battery_w / voltage, 1),
        },
        "pv_power_w": round(pv, 0),
        "grid_power_w": round(load - pv + battery_w, 0),
    })
}

/// One telemetry message (`"type":"telemetry"` when `typed`, else a batch item).
pub fn telemetry(epoch: &str, seq: u64, ts: &str, data: Value, typed: bool) -> Value {
    let mut message = json!({"epoch": epoch, "seq": seq, "ts": ts, "data": data});
    if typed {
        message["type"] = json!("telemetry");
    }
    message
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_plausible() {
        for t in (0..86_400).step_by(600) {
            let r = reading(7, 1_770_000_000 + t);
            let soc = r["battery"]["soc"].as_f64().expect("soc");
            let pv = r["pv_power_w"].as_f64().expect("pv");
            assert!((0.0..=100.0).contains(&soc), "{r}");
            assert!((0.0..=5_000.0).contains(&pv), "{r}");
            assert!(r["battery"]["voltage"].as_f64().is_some_and(|v| v > 40.0));
        }
    }

    #[test]
    fn batch_items_have_no_type() {
        let item = telemetry("e", 1, "2026-01-01T00:00:00Z", json!({}), false);
        assert!(item.get("type").is_none());
        assert_eq!(telemetry("e", 1, "x", json!({}), true)["type"], "telemetry");
    }
}
