//! What one device costs a month at Cloudflare's list prices, from counters per sample: rows written and read,
//! alarms, bytes stored, incoming WebSocket messages. Free allowances are left out; duration (GB-s) is too.

/// Seconds in the month the model uses (30 days).
pub const MONTH_SECS: f64 = 30.0 * 86_400.0;
/// Minutes in that month.
pub const MONTH_MINUTES: f64 = MONTH_SECS / 60.0;
/// Bytes in a billed GB.
const GB: f64 = 1e9;

/// List prices in US dollars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    /// Per million rows written.
    pub rows_written_per_million: f64,
    /// Per million rows read.
    pub rows_read_per_million: f64,
    /// Per GB stored for a month.
    pub storage_per_gb_month: f64,
    /// Per million requests.
    pub requests_per_million: f64,
    /// Incoming WebSocket messages that count as one request.
    pub messages_per_request: f64,
}

impl Prices {
    /// Durable Objects on the Workers Paid plan: rows written $1.00/M, rows read $0.001/M, storage
    /// $0.20/GB-month, requests $0.15/M with 20 incoming WebSocket messages as one request.
    pub const LIST: Prices = Prices {
        rows_written_per_million: 1.00,
        rows_read_per_million: 0.001,
        storage_per_gb_month: 0.20,
        requests_per_million: 0.15,
        messages_per_request: 20.0,
    };
}

/// What one device uses in a month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthlyUsage {
    /// Incoming WebSocket messages (one per sample at 1 Hz).
    pub messages: f64,
    /// Rows written by SQL and the storage API (without alarms).
    pub rows_written: f64,
    /// Rows read.
    pub rows_read: f64,
    /// Alarms set; each is billed as a row written and its invocation as a request.
    pub alarms: f64,
    /// Bytes held on average over the month.
    pub stored_bytes: f64,
}

/// The counters a device's usage is derived from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counters {
    /// Samples a second.
    pub rate_hz: f64,
    /// Rows written per sample (without alarms).
    pub rows_written_per_sample: f64,
    /// Rows read per sample.
    pub rows_read_per_sample: f64,
    /// Alarms set per minute while the device is connected.
    pub alarms_per_minute: f64,
    /// Bytes per stored sample.
    pub bytes_per_sample: f64,
    /// Days of history kept.
    pub retention_days: f64,
}

impl MonthlyUsage {
    /// A month of a device that is connected all month and sends at `counters.rate_hz`.
    pub fn of(counters: &Counters) -> Self {
        let samples = counters.rate_hz * MONTH_SECS;
        let kept = counters.rate_hz * counters.retention_days * 86_400.0;
        Self {
            messages: samples,
            rows_written: samples * counters.rows_written_per_sample,
            rows_read: samples * counters.rows_read_per_sample,
            alarms: counters.alarms_per_minute * MONTH_MINUTES,
            stored_bytes: kept * counters.bytes_per_sample,
        }
    }

    /// Requests billed: the messages in groups of [`Prices::messages_per_request`], plus alarm invocations.
    pub fn requests(&self, prices: &Prices) -> f64 {
        self.messages / prices.messages_per_request + self.alarms
    }

    /// The bill for this usage.
    pub fn cost(&self, prices: &Prices) -> MonthlyCost {
        MonthlyCost {
            rows_written: (self.rows_written + self.alarms) / 1e6 * prices.rows_written_per_million,
            rows_read: self.rows_read / 1e6 * prices.rows_read_per_million,
            storage: self.stored_bytes / GB * prices.storage_per_gb_month,
            requests: self.requests(prices) / 1e6 * prices.requests_per_million,
        }
    }
}

/// Dollars a month, by what is billed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthlyCost {
    /// Rows written, alarms included.
    pub rows_written: f64,
    /// Rows read.
    pub rows_read: f64,
    /// Storage.
    pub storage: f64,
    /// Requests: WebSocket messages and alarm invocations.
    pub requests: f64,
}

impl MonthlyCost {
    /// Everything.
    pub fn total(&self) -> f64 {
        self.rows_written + self.rows_read + self.storage + self.requests
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn one_hertz_for_a_month() {
        let usage = MonthlyUsage::of(&Counters {
            rate_hz: 1.0,
            rows_written_per_sample: 3.0,
            rows_read_per_sample: 1.0,
            alarms_per_minute: 1.0,
            bytes_per_sample: 0.0,
            retention_days: 7.0,
        });
        assert!(close(usage.messages, 2_592_000.0));
        assert!(close(usage.rows_written, 7_776_000.0));
        assert!(close(usage.rows_read, 2_592_000.0));
        assert!(close(usage.alarms, 43_200.0));
        let cost = usage.cost(&Prices::LIST);
        // 7,776,000 rows and 43,200 alarms written at $1/M.
        assert!(close(cost.rows_written, 7.8192));
        assert!(close(cost.rows_read, 0.002592));
        assert!(close(cost.storage, 0.0));
        // 2,592,000 / 20 + 43,200 = 172,800 requests at $0.15/M.
        assert!(close(cost.requests, 0.02592));
        assert!(close(cost.total(), 7.8192 + 0.002592 + 0.02592));
    }

    #[test]
    fn a_week_of_history_is_stored() {
        let usage = MonthlyUsage::of(&Counters {
            rate_hz: 1.0,
            rows_written_per_sample: 0.0,
            rows_read_per_sample: 0.0,
            alarms_per_minute: 0.0,
            bytes_per_sample: 50.0,
            retention_days: 7.0,
        });
        // 604,800 samples of 50 bytes = 30.24 MB at $0.20/GB-month.
        assert!(close(usage.stored_bytes, 30_240_000.0));
        assert!(close(usage.cost(&Prices::LIST).storage, 0.006048));
        assert!(close(usage.requests(&Prices::LIST), 129_600.0));
    }
}
