//! What a device's Durable Object counted about the device since `since`, as the admin API reports it in a
//! device's `counters` (**extension**): connections, frames and bytes in, samples accepted, refusals by error code,
//! dashboards, commands, closes by close code and storage rows. Unlike [`crate::StorageMeter`] these are totals
//! that survive the object's restarts: the object keeps them in memory and writes them with its history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `counters` of a device row: totals since `since`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCounters {
    /// When counting started (RFC 3339, UTC, milliseconds): the first time the object counted anything.
    pub since: String,
    /// Device connections accepted (the first one and every reconnect).
    #[serde(default)]
    pub device_connections: u64,
    /// Frames received from the device (pings the runtime answers without waking the object are not counted).
    #[serde(default)]
    pub device_frames: u64,
    /// Bytes of those frames.
    #[serde(default)]
    pub device_bytes: u64,
    /// Samples accepted (new samples; resends of stored ones are not counted).
    #[serde(default)]
    pub samples_accepted: u64,
    /// Error frames the hub answered to the device or its dashboards, by error code (e.g. `invalid_json`,
    /// `rate_limited`).
    #[serde(default)]
    pub frames_refused: BTreeMap<String, u64>,
    /// Dashboard connections accepted.
    #[serde(default)]
    pub dashboard_connections: u64,
    /// Commands relayed from a dashboard to the device.
    #[serde(default)]
    pub commands_relayed: u64,
    /// Command results relayed from the device to its dashboards.
    #[serde(default)]
    pub command_results: u64,
    /// Ends of the device's connections, by WebSocket close code (`"1000"`, `"1006"`, `"4001"`…); `"error"` for a
    /// socket that failed without a close.
    #[serde(default)]
    pub closes: BTreeMap<String, u64>,
    /// Rows the object's SQLite storage read (as billed).
    #[serde(default)]
    pub rows_read: u64,
    /// Rows the object's SQLite storage wrote (as billed).
    #[serde(default)]
    pub rows_written: u64,
}

impl DeviceCounters {
    /// Empty counters that start at `since`.
    pub fn starting(since: &str) -> Self {
        Self {
            since: since.to_owned(),
            ..Self::default()
        }
    }

    /// Adds `other`'s counts to these; `since` becomes the earlier of the two (an empty one is ignored).
    pub fn absorb(&mut self, other: &DeviceCounters) {
        if self.since.is_empty() || (!other.since.is_empty() && other.since < self.since) {
            self.since.clone_from(&other.since);
        }
        self.device_connections += other.device_connections;
        self.device_frames += other.device_frames;
        self.device_bytes += other.device_bytes;
        self.samples_accepted += other.samples_accepted;
        add_all(&mut self.frames_refused, &other.frames_refused);
        self.dashboard_connections += other.dashboard_connections;
        self.commands_relayed += other.commands_relayed;
        self.command_results += other.command_results;
        add_all(&mut self.closes, &other.closes);
        self.rows_read += other.rows_read;
        self.rows_written += other.rows_written;
    }

    /// Counts one more under `key` of `map` (a refusal's error code, a close code).
    pub fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
        *map.entry(key.to_owned()).or_default() += 1;
    }
}

fn add_all(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (key, count) in from {
        *into.entry(key.clone()).or_default() += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absorb_adds_counts_merges_maps_and_keeps_the_earlier_start() {
        let mut total = DeviceCounters::starting("2026-02-03T12:00:00.000Z");
        total.device_connections = 2;
        DeviceCounters::bump(&mut total.closes, "1000");
        let mut later = DeviceCounters::starting("2026-02-04T08:00:00.000Z");
        later.device_connections = 1;
        later.rows_written = 5;
        DeviceCounters::bump(&mut later.closes, "1000");
        DeviceCounters::bump(&mut later.closes, "1006");
        DeviceCounters::bump(&mut later.frames_refused, "invalid_json");
        total.absorb(&later);
        assert_eq!(total.since, "2026-02-03T12:00:00.000Z");
        assert_eq!((total.device_connections, total.rows_written), (3, 5));
        assert_eq!(total.closes.get("1000"), Some(&2));
        assert_eq!(total.closes.get("1006"), Some(&1));
        assert_eq!(total.frames_refused.get("invalid_json"), Some(&1));
        let mut fresh = DeviceCounters::default();
        fresh.absorb(&later);
        assert_eq!(fresh.since, later.since, "an empty start takes the other's");
    }

    #[test]
    fn a_stored_body_without_newer_fields_still_reads() {
        let old: DeviceCounters =
            serde_json::from_str(r#"{"since":"2026-02-03T12:00:00.000Z","device_frames":4}"#)
                .expect("json");
        assert_eq!(old.device_frames, 4);
        assert!(old.closes.is_empty());
    }
}
