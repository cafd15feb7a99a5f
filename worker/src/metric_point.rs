//! One fleet metric: a data point for Workers Analytics Engine, in a fixed schema (docs/operations.md), built
//! from a noteworthy event (a connect, a disconnect, a refusal, a history write, an admin call). Never one per
//! frame: frames and bytes are summed per connection and samples per history write.
//!
//! Schema: `index1` the device id, else the event; blobs `event`, `device_id`, `reason`, `endpoint`; doubles
//! `count`, `code`, `latency_ms`, `frames`, `bytes`, `samples`, `rows_written`, `duration_ms`.

use crate::log_event::LogEvent;

/// How many blobs a point has, in schema order.
pub const BLOBS: usize = 4;
/// How many doubles a point has, in schema order.
pub const DOUBLES: usize = 8;

/// Positions of the doubles (`double1` is index 0).
#[derive(Debug, Clone, Copy)]
enum Double {
    Count = 0,
    Code = 1,
    LatencyMs = 2,
    Frames = 3,
    Bytes = 4,
    Samples = 5,
    RowsWritten = 6,
    DurationMs = 7,
}

/// A data point: one index, [`BLOBS`] strings, [`DOUBLES`] numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    blobs: [String; BLOBS],
    doubles: [f64; DOUBLES],
}

impl MetricPoint {
    /// A point for one occurrence of `event` (`count` 1).
    pub fn new(event: &str) -> Self {
        let mut point = Self {
            blobs: Default::default(),
            doubles: [0.0; DOUBLES],
        };
        point.blobs[0] = event.to_owned();
        point.set(Double::Count, 1);
        point
    }

    /// The device it is about (`blob2`, and the index).
    pub fn device(mut self, device_id: &str) -> Self {
        self.blobs[1] = device_id.to_owned();
        self
    }

    /// Why (`blob3`): a presence or refusal reason, the admin operation.
    pub fn reason(mut self, reason: &str) -> Self {
        self.blobs[2] = reason.to_owned();
        self
    }

    /// Where (`blob4`): `device`, `dashboard`, `api`, `history`, `admin`.
    pub fn endpoint(mut self, endpoint: &str) -> Self {
        self.blobs[3] = endpoint.to_owned();
        self
    }

    /// A close code or HTTP status (`double2`).
    pub fn code(self, code: u16) -> Self {
        self.with(Double::Code, u64::from(code))
    }

    /// How long it took (`double3`).
    pub fn latency_ms(self, ms: u64) -> Self {
        self.with(Double::LatencyMs, ms)
    }

    /// Frames received (`double4`).
    pub fn frames(self, frames: u64) -> Self {
        self.with(Double::Frames, frames)
    }

    /// Bytes received (`double5`).
    pub fn bytes(self, bytes: u64) -> Self {
        self.with(Double::Bytes, bytes)
    }

    /// Samples accepted or written (`double6`).
    pub fn samples(self, samples: u64) -> Self {
        self.with(Double::Samples, samples)
    }

    /// Storage rows written (`double7`).
    pub fn rows_written(self, rows: u64) -> Self {
        self.with(Double::RowsWritten, rows)
    }

    /// How long a connection lasted (`double8`).
    pub fn duration_ms(self, ms: u64) -> Self {
        self.with(Double::DurationMs, ms)
    }

    /// The index: the device id when there is one, else the event.
    pub fn index(&self) -> &str {
        if self.blobs[1].is_empty() {
            &self.blobs[0]
        } else {
            &self.blobs[1]
        }
    }

    /// The blobs, in schema order.
    pub fn blobs(&self) -> &[String; BLOBS] {
        &self.blobs
    }

    /// The doubles, in schema order.
    pub fn doubles(&self) -> &[f64; DOUBLES] {
        &self.doubles
    }

    /// The same point as a log event `{"event":"metric","index1":…,"blob1":…,"double1":…}`: the fallback where
    /// no Analytics Engine dataset is bound, with the dataset's column names.
    pub fn to_log_event(&self) -> LogEvent {
        const BLOB_KEYS: [&str; BLOBS] = ["blob1", "blob2", "blob3", "blob4"];
        const DOUBLE_KEYS: [&str; DOUBLES] = [
            "double1", "double2", "double3", "double4", "double5", "double6", "double7", "double8",
        ];
        let mut event = LogEvent::new("metric").with("index1", self.index());
        for (key, blob) in BLOB_KEYS.iter().zip(&self.blobs) {
            event = event.with(key, blob.as_str());
        }
        for (key, double) in DOUBLE_KEYS.iter().zip(self.doubles) {
            event = event.with(key, double);
        }
        event
    }

    fn with(mut self, slot: Double, value: u64) -> Self {
        self.set(slot, value);
        self
    }

    fn set(&mut self, slot: Double, value: u64) {
        self.doubles[slot as usize] = value as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_disconnect_fills_its_schema_positions() {
        let point = MetricPoint::new("device_disconnected")
            .device("ems_001")
            .reason("disconnected")
            .endpoint("device")
            .code(1006)
            .frames(12)
            .bytes(3400)
            .samples(40)
            .duration_ms(61_000);
        assert_eq!(point.index(), "ems_001");
        assert_eq!(
            point.blobs(),
            &[
                "device_disconnected".to_owned(),
                "ems_001".into(),
                "disconnected".into(),
                "device".into()
            ]
        );
        assert_eq!(
            point.doubles(),
            &[1.0, 1006.0, 0.0, 12.0, 3400.0, 40.0, 0.0, 61_000.0]
        );
    }

    #[test]
    fn without_a_device_the_event_is_the_index() {
        let point = MetricPoint::new("admin_call")
            .reason("list_devices")
            .code(200);
        assert_eq!(point.index(), "admin_call");
        assert_eq!(point.blobs()[1], "");
    }

    #[test]
    fn the_fallback_log_event_uses_the_dataset_column_names() {
        let point = MetricPoint::new("history_written")
            .device("d1")
            .samples(600)
            .rows_written(2)
            .latency_ms(3);
        let line: Value = serde_json::from_str(&point.to_log_event().render()).expect("json");
        assert_eq!(line["event"], "metric");
        assert_eq!(line["index1"], "d1");
        assert_eq!(line["blob1"], "history_written");
        assert_eq!(line["blob2"], "d1");
        assert_eq!(line["blob3"], "");
        assert_eq!(line["double1"], 1.0);
        assert_eq!(line["double3"], 3.0);
        assert_eq!(line["double6"], 600.0);
        assert_eq!(line["double7"], 2.0);
        assert!(line.get("double9").is_none() && line.get("blob5").is_none());
    }
}
