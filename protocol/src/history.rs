//! The hub's history of a device: the stored-acknowledgement handshake of the device endpoint, and the answer of
//! `GET /api/devices/{id}/history` (extensions of `telemetry.v1`).

use serde::{Deserialize, Serialize};

/// Header a device sends on its handshake to ask for `stored` messages, and the hub answers on the 101 when it
/// sends them: `Telemetry-Ack: stored` in the request, `Telemetry-Ack: stored; within=<seconds>` in the response.
pub const STORED_ACK_HEADER: &str = "Telemetry-Ack";

/// The request value of [`STORED_ACK_HEADER`].
pub const STORED_ACK_REQUEST: &str = "stored";

/// Default number of points a history answer holds.
pub const DEFAULT_HISTORY_POINTS: u32 = 1000;

/// Most points a history answer holds, whatever `points` asks for.
pub const MAX_HISTORY_POINTS: u32 = 5000;

/// Most fields one history query returns.
pub const MAX_HISTORY_FIELDS: usize = 32;

/// Most samples one CSV export holds; a longer range is cut there and says where to go on.
pub const MAX_CSV_SAMPLES: usize = 100_000;

/// Response header of a CSV export cut at [`MAX_CSV_SAMPLES`]: the `from` (Unix ms) of the next page.
pub const CSV_NEXT_FROM_HEADER: &str = "Telemetry-Next-From";

/// The value of [`STORED_ACK_HEADER`] on the hub's 101: the hub writes every sample within `within_secs`.
pub fn stored_ack_response(within_secs: u64) -> String {
    format!("{STORED_ACK_REQUEST}; within={within_secs}")
}

/// Reads the hub's [`STORED_ACK_HEADER`] answer: `Some(within_secs)` when the hub sends `stored` messages.
pub fn parse_stored_ack_response(value: &str) -> Option<u64> {
    let mut parts = value.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case(STORED_ACK_REQUEST) {
        return None;
    }
    let within = parts
        .filter_map(|part| part.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("within"))
        .and_then(|(_, value)| value.trim().parse().ok());
    Some(within.unwrap_or(0))
}

/// Whether a device's handshake asked for `stored` messages.
pub fn asks_for_stored_acks(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        v.split(',')
            .any(|item| item.trim().eq_ignore_ascii_case(STORED_ACK_REQUEST))
    })
}

/// `GET /api/devices/{id}/history`: numeric fields of a device's samples in a time range, raw when they fit in
/// the point budget, else as time buckets with min, max and mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryResponse {
    /// The device.
    pub device_id: String,
    /// Start of the range (inclusive), RFC 3339.
    pub from: String,
    /// End of the range (exclusive), RFC 3339.
    pub to: String,
    /// The fields, as dotted paths into `data` (`battery.voltage`); each point's arrays follow this order.
    pub fields: Vec<String>,
    /// Width of a bucket in milliseconds; 0 when `samples` holds raw samples.
    pub bucket_ms: u64,
    /// Raw samples, oldest first, when the range holds no more than the point budget.
    pub samples: Vec<HistorySample>,
    /// Buckets that hold at least one sample, oldest first, when the range holds more. A missing bucket is a gap.
    pub buckets: Vec<HistoryBucket>,
    /// True when the query reached the most rows one query may read: the answer covers the range only up to the
    /// last point; ask again from there.
    pub truncated: bool,
}

/// One sample of a history answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistorySample {
    /// The sample's time, Unix milliseconds.
    pub t: u64,
    /// The value of each field, `null` where the sample has no number there.
    pub v: Vec<Option<f64>>,
}

/// One bucket of a history answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryBucket {
    /// Start of the bucket, Unix milliseconds.
    pub t: u64,
    /// Samples in the bucket.
    pub n: u32,
    /// Per field: the smallest value, `null` where no sample had a number there.
    pub min: Vec<Option<f64>>,
    /// Per field: the largest value.
    pub max: Vec<Option<f64>>,
    /// Per field: the mean of the values.
    pub mean: Vec<Option<f64>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_ack_header_round_trips() {
        assert_eq!(
            parse_stored_ack_response(&stored_ack_response(600)),
            Some(600)
        );
        assert_eq!(parse_stored_ack_response("Stored;Within = 5"), Some(5));
        assert_eq!(parse_stored_ack_response("stored"), Some(0));
        assert_eq!(parse_stored_ack_response("acked"), None);
        assert!(asks_for_stored_acks(Some("stored")));
        assert!(asks_for_stored_acks(Some("other, STORED")));
        assert!(!asks_for_stored_acks(Some("storedx")));
        assert!(!asks_for_stored_acks(None));
    }
}
