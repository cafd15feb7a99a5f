//! What the fake hub saw: every handshake, frame, ping, close and refusal, for the tests to assert on.

use std::collections::HashMap;

use serde_json::Value;
use tokio::time::Instant;

/// One upgrade request as the hub saw it.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// Request path and query, e.g. `/ws/device/edge-test`.
    pub uri: String,
    /// `(lowercase name, value)` of every header.
    pub headers: Vec<(String, String)>,
    /// When it arrived.
    pub at: Instant,
}

impl Handshake {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Everything the hub recorded.
#[derive(Debug, Default)]
pub struct Record {
    /// Every upgrade request, refused or not.
    pub handshakes: Vec<Handshake>,
    /// Every text frame received, parsed, except the text pings.
    pub frames: Vec<Value>,
    /// When each exact text ping (`PING_TEXT`) arrived.
    pub text_pings: Vec<Instant>,
    /// WebSocket protocol Pings received from the agent.
    pub protocol_pings: usize,
    /// Payloads of the protocol Pongs the agent sent back.
    pub protocol_pongs: Vec<Vec<u8>>,
    /// How many times the hub refused a frame with `rate_limited` (and closed with 1008).
    pub rate_limited: usize,
    /// Text or binary frames the agent sent on a socket after it was told `rate_limited`.
    pub frames_after_rate_limited: usize,
    /// Samples accepted (seq above the epoch's highest), in arrival order.
    pub accepted: Vec<Value>,
    /// Highest accepted seq per epoch.
    pub highest: HashMap<String, u64>,
    /// Close frames received from the agent: (code, reason).
    pub closes: Vec<(u16, String)>,
    /// For each batch: (first seq, last seq, item count, frame bytes).
    pub batches: Vec<(u64, u64, usize, usize)>,
    /// When each batch arrived.
    pub batch_arrivals: Vec<Instant>,
    /// Set when a batch arrived while an earlier batch was not yet acked.
    pub overlapping_batch: bool,
}
