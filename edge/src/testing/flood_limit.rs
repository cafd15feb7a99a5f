//! The hub's per-device flood limits as the fake hub applies them: a token bucket on frames and one on bytes,
//! refilled continuously, as in the real hub (defaults 20 frames/s with bursts of 200, 1 MiB/s with bursts
//! of 10 MiB), and the refusal past them: the `rate_limited` error, then close 1008. Tests scale the limits
//! down so a small backlog is enough to trip an unpaced agent.

use std::sync::Mutex;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use telemetry_protocol::limits::{CLOSE_POLICY_VIOLATION, CLOSE_RATE_LIMITED_REASON};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::hub_record::Record;
use super::lock::lock;

/// The two halves of an accepted device socket.
type HubSink = SplitSink<WebSocketStream<TcpStream>, Message>;
type HubStream = SplitStream<WebSocketStream<TcpStream>>;

/// How long the hub waits between its `rate_limited` error and its close 1008: time for a misbehaving agent to
/// show that it keeps sending.
const RATE_LIMITED_CLOSE_DELAY: Duration = Duration::from_millis(300);

/// The limits of one connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloodLimit {
    /// Frames a second, sustained.
    pub frames_per_sec: f64,
    /// Frames allowed at once.
    pub frame_burst: f64,
    /// Bytes a second, sustained.
    pub bytes_per_sec: f64,
    /// Bytes allowed at once.
    pub byte_burst: f64,
}

/// What is left of the limits on one connection.
#[derive(Debug, Clone)]
pub struct FloodGate {
    frames: f64,
    bytes: f64,
    at: Instant,
}

impl FloodGate {
    /// A new connection starts with full buckets.
    pub fn new(limit: &FloodLimit, now: Instant) -> Self {
        Self {
            frames: limit.frame_burst,
            bytes: limit.byte_burst,
            at: now,
        }
    }

    /// Counts a frame of `len` bytes at `now`; false if it goes past either limit.
    pub fn admit(&mut self, limit: &FloodLimit, len: usize, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.frames = (self.frames + elapsed * limit.frames_per_sec).min(limit.frame_burst);
        self.bytes = (self.bytes + elapsed * limit.bytes_per_sec).min(limit.byte_burst);
        self.frames -= 1.0;
        self.bytes -= len as f64;
        self.frames >= 0.0 && self.bytes >= 0.0
    }
}

/// Refuses like the real hub past a flood limit: the `rate_limited` error, then close 1008 (a moment later, so
/// an agent that keeps sending shows it), counting whatever the agent still sends on this socket.
pub async fn refuse_as_rate_limited(
    mut sink: HubSink,
    mut stream: HubStream,
    record: &Mutex<Record>,
) {
    lock(record).rate_limited += 1;
    let error =
        json!({"type": "error", "code": "rate_limited", "message": "over 20 frames a second"});
    if sink.send(Message::text(error.to_string())).await.is_err() {
        return;
    }
    let close_at = Instant::now() + RATE_LIMITED_CLOSE_DELAY;
    let give_up = close_at + Duration::from_secs(2);
    let mut closed = false;
    loop {
        tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                    lock(record).frames_after_rate_limited += 1;
                }
                Some(Ok(Message::Close(frame))) => {
                    record_close(record, frame);
                    let _ = sink.flush().await;
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            () = sleep_until(close_at), if !closed => {
                closed = true;
                let frame = CloseFrame {
                    code: CloseCode::from(CLOSE_POLICY_VIOLATION),
                    reason: CLOSE_RATE_LIMITED_REASON.into(),
                };
                if sink.send(Message::Close(Some(frame))).await.is_err() {
                    return;
                }
            }
            () = sleep_until(give_up) => return,
        }
    }
}

pub fn record_close(record: &Mutex<Record>, frame: Option<CloseFrame>) {
    let close = frame.map_or((1005, String::new()), |f| {
        (u16::from(f.code), f.reason.to_string())
    });
    lock(record).closes.push(close);
}
