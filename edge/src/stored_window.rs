//! The send window of a connection whose hub confirms stored samples (`Telemetry-Ack: stored`): many frames in
//! flight, samples forgotten only once the hub says they are in its history, and a resend of whatever it acked
//! but did not store in time. Pure: events in, what to send and what to forget out.
//!
//! The hub acks every frame at once (it judged and relayed the samples) but writes its history in groups, so a
//! `stored` may come minutes later. Waiting for it one message at a time would throttle the agent, so:
//!
//! - **a window of frames**: up to [`MAX_UNACKED_FRAMES`] frames may await their `ack`, and up to
//!   [`MAX_UNSTORED_SAMPLES`] samples sent on this socket may await their `stored`; past either bound nothing new
//!   leaves until an `ack`, a `stored` or a resend makes room. Frames still leave in seq order, and the hub
//!   answers each one with an `ack` or an `error`, in order;
//! - **forget only what is stored**: `stored` runs may come in any order, twice, for another epoch (the link
//!   drops those) or for seqs the store no longer holds; the window keeps them as [`SeqRanges`] and lets the
//!   store forget only the prefix that is wholly stored ([`StoredWindow::stored_through`]), so the store stays
//!   one contiguous seq range;
//! - **go back and resend**: when a sample acked [`resend_after`] ago is still not stored, the hub has lost it
//!   (evicted, redeployed, crashed before its write); everything from the oldest unstored sample is sent again,
//!   oldest first, skipping runs known stored. The hub takes what it lost as new and acks (and says `stored`
//!   again for) what it kept. A new connection starts a new window at the store's first sample, which resends
//!   every unstored sample the same way;
//! - pacing of batches ([`MIN_BATCH_SPACING`]) and the refusal rules are those of [`crate::outbox`].

use std::collections::VecDeque;
use std::time::Duration;

use telemetry_protocol::ErrorCode;
use telemetry_protocol::limits::MAX_BATCH_ITEMS;
use tokio::time::Instant;

use crate::outbox::{MIN_BATCH_SPACING, Refusal, SendPlan};
use crate::seq_ranges::SeqRanges;

/// Most frames written and not yet acked.
pub const MAX_UNACKED_FRAMES: usize = 8;

/// Most samples sent on one socket and not yet known stored: about 5.5 hours at 1 Hz, 2 MB of rows at most in
/// the store's 86,400 (which holds them anyway), and 40 batches of catch-up.
pub const MAX_UNSTORED_SAMPLES: u64 = 20_000;

/// Most time added to the hub's `within` before an unstored sample is resent.
pub const MAX_RESEND_MARGIN: Duration = Duration::from_secs(30);

/// Least time between an ack and the resend of its unstored samples, whatever the hub's `within`.
pub const MIN_RESEND_AFTER: Duration = Duration::from_secs(2);

/// How long after its ack an unstored sample is taken for lost: the hub's `within`, plus as much again up to
/// [`MAX_RESEND_MARGIN`] (for the round trip and the hub's write), at least [`MIN_RESEND_AFTER`].
pub fn resend_after(within: Duration) -> Duration {
    (within + within.min(MAX_RESEND_MARGIN)).max(MIN_RESEND_AFTER)
}

/// Samples `first..=through` in one frame, and when it was sent (awaiting its ack) or acked (awaiting `stored`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flight {
    first: u64,
    through: u64,
    at: Instant,
}

/// The stored-acknowledgement send window of one connection.
#[derive(Debug, Clone)]
pub struct StoredWindow {
    stored: u64,
    beyond: SeqRanges,
    sent: u64,
    newest: u64,
    unacked: VecDeque<Flight>,
    unstored: VecDeque<Flight>,
    waiting_since: Option<Instant>,
    last_batch_at: Option<Instant>,
    held: bool,
    resend_after: Duration,
}

impl StoredWindow {
    /// A fresh connection: the store holds `(stored_through, newest]`, none of it known stored, none sent on this
    /// socket; samples acked `resend_after` ago and still unstored are resent.
    pub fn new(stored_through: u64, newest: u64, resend_after: Duration) -> Self {
        Self {
            stored: stored_through,
            beyond: SeqRanges::new(),
            sent: stored_through,
            newest: newest.max(stored_through),
            unacked: VecDeque::new(),
            unstored: VecDeque::new(),
            waiting_since: None,
            last_batch_at: None,
            held: false,
            resend_after,
        }
    }

    /// Every sample up to this seq is stored at the hub (or gone from the store): the store may forget it.
    pub fn stored_through(&self) -> u64 {
        self.stored
    }

    /// Frames written and not yet acked.
    pub fn unacked_frames(&self) -> usize {
        self.unacked.len()
    }

    /// Samples sent on this socket (since the last resend) and not yet known stored.
    pub fn unstored(&self) -> u64 {
        self.sent.saturating_sub(self.stored)
    }

    /// The sampler stored sample `seq`.
    pub fn on_sampled(&mut self, seq: u64) {
        self.newest = self.newest.max(seq);
    }

    /// Whether nothing more may be sent on this socket (the hub applied a flood limit).
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// Whether every sample was sent and every frame acked.
    pub fn is_idle(&self) -> bool {
        self.waiting() == 0 && self.unacked.is_empty()
    }

    /// What to send at `now`, if anything: the samples after the send cursor while the window has room, a batch
    /// no sooner than [`MIN_BATCH_SPACING`] after the previous batch.
    pub fn next(&self, now: Instant) -> Option<SendPlan> {
        let paced = self.batch_due().is_some_and(|due| now < due);
        let room = MAX_UNSTORED_SAMPLES - self.unstored().min(MAX_UNSTORED_SAMPLES);
        (self.has_room() && self.waiting() > 0 && !paced).then_some(SendPlan::Samples {
            after: self.sent,
            max_items: MAX_BATCH_ITEMS.min(usize::try_from(room).unwrap_or(usize::MAX)),
        })
    }

    /// When a batch that waits only for its turn may leave; the link wakes up then.
    pub fn batch_due(&self) -> Option<Instant> {
        let batch_waits = self.has_room() && self.waiting() > 1;
        let last = self.last_batch_at.filter(|_| batch_waits)?;
        Some(last + MIN_BATCH_SPACING)
    }

    /// Samples `first..=through` were written to the socket at `now` as one frame; seqs between the cursor and
    /// `first` are gone from the store (dropped when it was full).
    pub fn on_sent(&mut self, first: u64, through: u64, now: Instant) {
        self.newest = self.newest.max(through);
        self.on_gone(first.saturating_sub(1));
        if self.unacked.is_empty() {
            self.waiting_since = Some(now);
        }
        if through > first {
            self.last_batch_at = Some(now);
        }
        self.unacked.push_back(Flight {
            first,
            through,
            at: now,
        });
        self.sent = self.sent.max(through);
        self.skip_stored();
    }

    /// Every sample after the send cursor up to `through` is gone from the store: nothing to send or wait for.
    pub fn on_gone(&mut self, through: u64) {
        let through = through.min(self.newest);
        if through > self.sent {
            self.beyond.insert(self.sent + 1, through);
            self.advance_stored();
            self.skip_stored();
        }
    }

    /// The hub acked the oldest unacked frame at `now`; its samples now wait for `stored`.
    pub fn on_ack(&mut self, now: Instant) {
        let Some(flight) = self.unacked.pop_front() else {
            return;
        };
        if !self.is_stored(flight.first, flight.through) {
            self.unstored.push_back(Flight { at: now, ..flight });
        }
        self.waiting_since = (!self.unacked.is_empty()).then_some(now);
    }

    /// The hub stored every sample in `from..=to`; returns the new [`Self::stored_through`] if it advanced.
    pub fn on_stored(&mut self, from: u64, to: u64) -> Option<u64> {
        // A run beyond the newest sample cannot be this store's: never let it cover a sample taken later.
        let to = to.min(self.newest);
        let before = self.stored;
        self.beyond.insert(from.max(self.stored + 1), to);
        self.advance_stored();
        self.unstored
            .retain(|flight| !is_stored(self.stored, &self.beyond, flight.first, flight.through));
        self.skip_stored();
        (self.stored > before).then_some(self.stored)
    }

    /// When the oldest acked sample still unstored is taken for lost, if any waits.
    pub fn resend_due(&self) -> Option<Instant> {
        // Acks come in time order and pruning keeps it: the front was acked first.
        self.unstored
            .front()
            .map(|flight| flight.at + self.resend_after)
    }

    /// If a resend is due at `now`, moves the send cursor back to the oldest unstored sample and returns its seq.
    pub fn on_resend_due(&mut self, now: Instant) -> Option<u64> {
        if self.resend_due().is_none_or(|due| now < due) {
            return None;
        }
        self.unstored.clear();
        self.sent = self.stored;
        self.skip_stored();
        Some(self.sent + 1)
    }

    /// When the oldest unacked frame times out, if one is in flight.
    pub fn ack_deadline(&self, ack_timeout: Duration) -> Option<Instant> {
        self.waiting_since.map(|since| since + ack_timeout)
    }

    /// The hub refused a message with `code`: what that means for this connection.
    pub fn on_error(&mut self, code: ErrorCode) -> Refusal {
        if code == ErrorCode::RateLimited {
            self.held = true;
            Refusal::AwaitClose
        } else if !self.unacked.is_empty() {
            Refusal::EndConnection
        } else {
            Refusal::Noted
        }
    }

    /// Samples stored but not yet written to this socket.
    fn waiting(&self) -> u64 {
        self.newest.saturating_sub(self.sent)
    }

    fn has_room(&self) -> bool {
        !self.held
            && self.unacked.len() < MAX_UNACKED_FRAMES
            && self.unstored() < MAX_UNSTORED_SAMPLES
    }

    fn is_stored(&self, first: u64, through: u64) -> bool {
        is_stored(self.stored, &self.beyond, first, through)
    }

    /// Moves the stored prefix over the run that continues it.
    fn advance_stored(&mut self) {
        if let Some(end) = self.beyond.run_end(self.stored + 1) {
            self.stored = end;
            self.beyond.remove_through(end);
        }
    }

    /// Moves the send cursor past the prefix and any stored run right after it: those need no sending.
    fn skip_stored(&mut self) {
        self.sent = self.sent.max(self.stored);
        if let Some(end) = self.beyond.run_end(self.sent + 1) {
            self.sent = end;
        }
    }
}

/// Whether every seq of `first..=through` is at or below `stored` or in `beyond`.
fn is_stored(stored: u64, beyond: &SeqRanges, first: u64, through: u64) -> bool {
    beyond.covers(first.max(stored + 1), through)
}

#[cfg(test)]
mod tests;
