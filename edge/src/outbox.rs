//! What to send next, and when, to a hub that confirms samples with its `ack`: a pure window over the store's
//! seq range, plus the encoder that fits batches under the hub's frame limit. (A hub that confirms with
//! `stored` gets the [`crate::stored_window`] instead.)
//!
//! The hub keeps the highest seq per epoch and takes anything at or below it for a resend, so samples must
//! reach it in seq order. The store is the queue; this type only tracks three numbers of one connection:
//! `acked` (the hub holds everything up to it), `sent` (written to this socket) and `newest` (the store's
//! last seq). Everything in `(sent, newest]` waits, oldest first. The rules:
//!
//! - **one message in flight**: the next `telemetry` or `batch` leaves only when the previous one is acked. The
//!   hub answers every message with an ack or an `error`, in order, so an error always refers to the one
//!   message in flight and nothing later can have been accepted past it (which would turn the refused
//!   samples into "resends" the hub drops);
//! - whatever waits goes in that one message, oldest first: a lone live sample as `telemetry` (at 1 Hz the
//!   previous ack came back long ago, so it leaves at once), a backlog as a `batch` of at most 500 samples and
//!   60 KiB. Catching up after an outage is thus paced by the hub's round trip, memory stays bounded, and live
//!   samples taken meanwhile join the tail of the next batch: they keep their order and arrive within a few
//!   round trips instead of waiting behind a day of data;
//! - **paced catch-up**: a message carrying more than one sample (a batch) leaves at least
//!   [`MIN_BATCH_SPACING`] after the previous batch, so a fast hub never sees more than 10 batch frames a
//!   second. A lone live sample is never held back;
//! - **a flood limit ends the window**: after an `error` with code `rate_limited` nothing more is sent on this
//!   socket ([`Outbox::on_error`]); the hub closes it with 1008, and the new connection resends from the store.

use std::time::Duration;

use telemetry_protocol::limits::MAX_BATCH_ITEMS;
use telemetry_protocol::{Batch, DeviceMessage, ErrorCode, Telemetry};
use tokio::time::Instant;

/// Largest encoded batch, in bytes: under the hub's 64 KiB frame limit with room to spare.
pub const MAX_BATCH_BYTES: usize = 60 * 1024;

/// Least time between two batch frames: at most 10 a second of at most [`MAX_BATCH_BYTES`] each, about
/// 600 KiB/s, half of the hub's default flood limits (20 frames and 1 MiB a second, with bursts of 200 frames
/// and 10 MiB). A 30 s outage at 1 Hz is one batch and still goes out at once.
pub const MIN_BATCH_SPACING: Duration = Duration::from_millis(100);

/// Bytes of `{"type":"batch","items":[` and `]}`.
const BATCH_ENVELOPE_BYTES: usize = 28;

/// The next thing to read from the store and send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendPlan {
    /// Send the samples after seq `after`, at most `max_items` of them, as one message.
    Samples {
        /// Send samples with a seq above this.
        after: u64,
        /// At most this many (a batch also stops at [`MAX_BATCH_BYTES`]).
        max_items: usize,
    },
}

/// What an `error` frame from the hub means for this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing was in flight, so no sample was refused: log it and carry on.
    Noted,
    /// The message in flight was refused: end the connection; it is resent after the reconnect.
    EndConnection,
    /// A flood limit (`rate_limited`): send nothing more and let the hub close with 1008; whatever was in
    /// flight is resent after the reconnect.
    AwaitClose,
}

/// The send window of one connection.
#[derive(Debug, Clone)]
pub struct Outbox {
    acked: u64,
    sent: u64,
    newest: u64,
    waiting_since: Option<Instant>,
    last_batch_at: Option<Instant>,
    held: bool,
}

impl Outbox {
    /// A fresh connection: the store holds `(acked_through, newest]`, none of it sent on this socket yet.
    pub fn new(acked_through: u64, newest: u64) -> Self {
        Self {
            acked: acked_through,
            sent: acked_through,
            newest: newest.max(acked_through),
            waiting_since: None,
            last_batch_at: None,
            held: false,
        }
    }

    /// The hub holds every sample up to this seq.
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// Samples written to this socket and not acked yet.
    pub fn in_flight(&self) -> u64 {
        self.sent - self.acked
    }

    /// The sampler stored sample `seq`.
    pub fn on_sampled(&mut self, seq: u64) {
        self.newest = self.newest.max(seq);
    }

    /// The hub acked everything up to `seq` at `now`; returns the new `acked` if it advanced.
    pub fn on_ack(&mut self, seq: u64, now: Instant) -> Option<u64> {
        let seq = seq.min(self.newest);
        if seq <= self.acked {
            return None;
        }
        self.acked = seq;
        self.sent = self.sent.max(seq);
        self.waiting_since = (self.in_flight() > 0).then_some(now);
        Some(seq)
    }

    /// Whether nothing more may be sent on this socket (the hub applied a flood limit).
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// What to send at `now`, if anything: everything waiting (up to a batch), once nothing is in flight and,
    /// for a batch, once [`MIN_BATCH_SPACING`] has passed since the previous one.
    pub fn next(&self, now: Instant) -> Option<SendPlan> {
        let ready = !self.held && self.waiting() > 0 && self.in_flight() == 0;
        let paced = self.batch_due().is_some_and(|due| now < due);
        (ready && !paced).then_some(SendPlan::Samples {
            after: self.sent,
            max_items: MAX_BATCH_ITEMS,
        })
    }

    /// When a batch that waits only for its turn may leave; the link wakes up then.
    pub fn batch_due(&self) -> Option<Instant> {
        let batch_waits = !self.held && self.waiting() > 1 && self.in_flight() == 0;
        let last = self.last_batch_at.filter(|_| batch_waits)?;
        Some(last + MIN_BATCH_SPACING)
    }

    /// Samples up to `through` were written to the socket at `now` (or no longer exist in the store).
    pub fn on_sent(&mut self, through: u64, now: Instant) {
        if self.in_flight() == 0 {
            self.waiting_since = Some(now);
        }
        let through = through.min(self.newest);
        if through.saturating_sub(self.sent) > 1 {
            self.last_batch_at = Some(now);
        }
        self.sent = self.sent.max(through);
        if self.in_flight() == 0 {
            self.waiting_since = None;
        }
    }

    /// When the oldest unacked send times out, if something is in flight.
    pub fn ack_deadline(&self, ack_timeout: Duration) -> Option<Instant> {
        self.waiting_since.map(|since| since + ack_timeout)
    }

    /// The hub refused a message with `code`: what that means for this connection.
    pub fn on_error(&mut self, code: ErrorCode) -> Refusal {
        if code == ErrorCode::RateLimited {
            self.held = true;
            Refusal::AwaitClose
        } else if self.in_flight() > 0 {
            Refusal::EndConnection
        } else {
            Refusal::Noted
        }
    }

    /// Samples stored but not yet written to this socket.
    fn waiting(&self) -> u64 {
        self.newest - self.sent
    }
}

/// A message ready for the socket.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// The JSON text frame.
    pub text: String,
    /// The highest seq it carries.
    pub through: u64,
    /// How many samples it carries.
    pub count: usize,
}

/// Encodes `samples` (oldest first, non-empty) as one `telemetry` message, or as a `batch` of as many leading
/// samples as fit in [`MAX_BATCH_BYTES`] (always at least one). `None` if `samples` is empty.
pub fn encode(mut samples: Vec<Telemetry>) -> Result<Option<Encoded>, serde_json::Error> {
    if samples.len() > 1 {
        let fitting = fitting_prefix(&samples)?;
        samples.truncate(fitting);
    }
    let Some(last) = samples.last() else {
        return Ok(None);
    };
    let through = last.seq;
    let count = samples.len();
    let message = if count == 1 {
        match samples.pop() {
            Some(only) => DeviceMessage::Telemetry(only),
            None => return Ok(None),
        }
    } else {
        DeviceMessage::Batch(Batch { items: samples })
    };
    let text = serde_json::to_string(&message)?;
    Ok(Some(Encoded {
        text,
        through,
        count,
    }))
}

/// How many leading samples fit in one batch frame (at least one).
fn fitting_prefix(samples: &[Telemetry]) -> Result<usize, serde_json::Error> {
    let mut bytes = BATCH_ENVELOPE_BYTES;
    for (index, sample) in samples.iter().enumerate() {
        bytes += encoded_len(sample)? + 1;
        if bytes > MAX_BATCH_BYTES || index == MAX_BATCH_ITEMS {
            return Ok(index.max(1));
        }
    }
    Ok(samples.len())
}

/// The length of `value`'s JSON, without building the string.
fn encoded_len(value: &Telemetry) -> Result<usize, serde_json::Error> {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value)?;
    Ok(count.0)
}

#[cfg(test)]
mod tests;
