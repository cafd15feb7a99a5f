//! Flood limits of one device's Durable Object: token buckets for frames, bytes and commands, and the verdict
//! for each frame. A socket past a limit gets an `error` frame and a close with 1008; nothing else is disturbed.

use telemetry_protocol::{ErrorCode, ErrorFrame};

/// Every bucket holds this many seconds' worth of its rate, so short bursts (a backlog batch, a page reload)
/// pass while a sustained flood does not.
pub const BURST_SECONDS: f64 = 10.0;

/// The limits, from `wrangler.toml` `[vars]` (see `HubConfig`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloodPolicy {
    /// Most open dashboards per device: `MAX_DASHBOARDS_PER_DEVICE`.
    pub max_dashboards: usize,
    /// Frames a second from one dashboard socket: `DASHBOARD_FRAMES_PER_SEC`.
    pub dashboard_frames_per_sec: f64,
    /// Commands a minute from one control token on one device: `COMMANDS_PER_MINUTE`.
    pub commands_per_minute: f64,
    /// Frames a second from the device: `DEVICE_FRAMES_PER_SEC`.
    pub device_frames_per_sec: f64,
    /// Bytes a second from the device: `DEVICE_BYTES_PER_SEC`.
    pub device_bytes_per_sec: f64,
}

impl FloodPolicy {
    /// The documented defaults: 50 dashboards, 5 frames/s per dashboard, 30 commands/min per token, 20 frames/s
    /// and 1 MiB/s from the device.
    pub const DEFAULT: FloodPolicy = FloodPolicy {
        max_dashboards: 50,
        dashboard_frames_per_sec: 5.0,
        commands_per_minute: 30.0,
        device_frames_per_sec: 20.0,
        device_bytes_per_sec: 1_048_576.0,
    };
}

/// A token bucket: `rate` tokens a second, holding at most `capacity`; starts full.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    capacity: f64,
    rate_per_ms: f64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket refilled at `rate_per_sec` that holds [`BURST_SECONDS`] of it (at least one token).
    pub fn per_second(rate_per_sec: f64, now_ms: u64) -> Self {
        let capacity = (rate_per_sec * BURST_SECONDS).max(1.0);
        Self {
            tokens: capacity,
            capacity,
            rate_per_ms: rate_per_sec / 1000.0,
            last_ms: now_ms,
        }
    }

    /// A full bucket refilled at `rate_per_min` that holds one minute of it (at least one token).
    pub fn per_minute(rate_per_min: f64, now_ms: u64) -> Self {
        let capacity = rate_per_min.max(1.0);
        Self {
            tokens: capacity,
            capacity,
            rate_per_ms: rate_per_min / 60_000.0,
            last_ms: now_ms,
        }
    }

    /// Takes `cost` tokens at `now_ms`; `false` (and nothing taken) if there are not enough.
    pub fn take(&mut self, cost: f64, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.last_ms) as f64;
        self.tokens = (self.tokens + elapsed * self.rate_per_ms).min(self.capacity);
        self.last_ms = self.last_ms.max(now_ms);
        if self.tokens >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }
}

/// The buckets of the device's socket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceBuckets {
    frames: TokenBucket,
    bytes: TokenBucket,
}

impl DeviceBuckets {
    /// Full buckets for a new device socket.
    pub fn new(policy: &FloodPolicy, now_ms: u64) -> Self {
        Self {
            frames: TokenBucket::per_second(policy.device_frames_per_sec, now_ms),
            bytes: TokenBucket::per_second(policy.device_bytes_per_sec, now_ms),
        }
    }

    /// Charges one frame of `len` bytes; the refusal to send before closing if a limit is passed.
    pub fn charge(&mut self, len: usize, policy: &FloodPolicy, now_ms: u64) -> Option<ErrorFrame> {
        if !self.frames.take(1.0, now_ms) {
            return Some(rate_limited(format!(
                "more than {} frames a second from this device; closing",
                policy.device_frames_per_sec
            )));
        }
        if !self.bytes.take(len as f64, now_ms) {
            return Some(rate_limited(format!(
                "more than {} bytes a second from this device; closing",
                policy.device_bytes_per_sec
            )));
        }
        None
    }
}

/// The refusal sent to a dashboard past its frame rate.
pub fn dashboard_flood(policy: &FloodPolicy) -> ErrorFrame {
    rate_limited(format!(
        "more than {} frames a second from this dashboard; closing",
        policy.dashboard_frames_per_sec
    ))
}

/// The refusal sent to a dashboard whose token sent too many commands.
pub fn command_flood(policy: &FloodPolicy) -> ErrorFrame {
    rate_limited(format!(
        "more than {} commands a minute from this dashboard token; closing",
        policy.commands_per_minute
    ))
}

/// The refusal sent to a dashboard that would pass the device's dashboard limit.
pub fn too_many_dashboards(policy: &FloodPolicy) -> ErrorFrame {
    ErrorFrame::new(
        ErrorCode::TooManyDashboards,
        format!(
            "this device already has {} dashboards, the most the hub allows; closing",
            policy.max_dashboards
        ),
    )
}

fn rate_limited(message: String) -> ErrorFrame {
    ErrorFrame::new(ErrorCode::RateLimited, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let mut bucket = TokenBucket::per_second(2.0, 0);
        for _ in 0..20 {
            assert!(bucket.take(1.0, 0));
        }
        assert!(!bucket.take(1.0, 0), "the 10 s burst of 2/s is 20");
        assert!(!bucket.take(1.0, 499));
        assert!(bucket.take(1.0, 500), "refilled at 2/s");
        assert!(!bucket.take(1.0, 500));
    }

    #[test]
    fn a_refused_take_takes_nothing() {
        let mut bucket = TokenBucket::per_second(1.0, 0);
        assert!(!bucket.take(11.0, 0));
        assert!(bucket.take(10.0, 0));
    }

    #[test]
    fn a_bucket_never_holds_more_than_its_capacity() {
        let mut bucket = TokenBucket::per_minute(3.0, 0);
        assert!(bucket.take(3.0, 3_600_000));
        assert!(!bucket.take(1.0, 3_600_000));
    }

    #[test]
    fn time_going_backwards_refills_nothing() {
        let mut bucket = TokenBucket::per_second(1.0, 10_000);
        assert!(bucket.take(10.0, 10_000));
        assert!(!bucket.take(1.0, 5_000));
    }

    #[test]
    fn device_frames_and_bytes_are_limited_separately() {
        let policy = FloodPolicy {
            device_frames_per_sec: 1.0,
            device_bytes_per_sec: 100.0,
            ..FloodPolicy::DEFAULT
        };
        let mut buckets = DeviceBuckets::new(&policy, 0);
        assert!(
            buckets.charge(1_000, &policy, 0).is_none(),
            "the burst holds 1,000 bytes"
        );
        let refusal = buckets.charge(1, &policy, 0).expect("bytes exhausted");
        assert_eq!(refusal.code, ErrorCode::RateLimited);
        assert!(refusal.message.contains("bytes"));
        let mut buckets = DeviceBuckets::new(&policy, 0);
        for _ in 0..10 {
            assert!(buckets.charge(1, &policy, 0).is_none());
        }
        let refusal = buckets.charge(1, &policy, 0).expect("frames exhausted");
        assert!(refusal.message.contains("frames"));
    }

    #[test]
    fn refusals_name_their_limit() {
        let policy = FloodPolicy::DEFAULT;
        assert!(dashboard_flood(&policy).message.contains("5 frames"));
        assert!(command_flood(&policy).message.contains("30 commands"));
        assert_eq!(
            too_many_dashboards(&policy).code,
            ErrorCode::TooManyDashboards
        );
    }
}
