//! How samples leave and when the store may forget them, for one connection: by the hub's answer to the
//! handshake, either the one-message window of [`Outbox`] that forgets on `ack`, or the [`StoredWindow`] that
//! keeps many frames in flight and forgets on `stored`. Pure: the link asks it what to send and what to forget.

use std::time::Duration;

use telemetry_protocol::ErrorCode;
use tokio::time::Instant;

use crate::outbox::{Outbox, Refusal, SendPlan};
use crate::stored_window::{StoredWindow, resend_after};

/// What the hub's acknowledgements mean on this connection, as its handshake answer said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckMode {
    /// The hub did not answer `Telemetry-Ack`: an `ack` means the samples are safe.
    OnAck,
    /// The hub answered `Telemetry-Ack: stored; within=…`: only `stored` means the samples are safe, and the hub
    /// writes each sample within `within` while the device stays connected.
    OnStored {
        /// The hub's promise, from the `within` of its answer.
        within: Duration,
    },
}

/// The send window of one connection.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// Forget on `ack`, one message in flight.
    OnAck(Outbox),
    /// Forget on `stored`, a window of frames in flight.
    OnStored(StoredWindow),
}

impl Delivery {
    /// A fresh connection in `mode` over a store that holds `(confirmed, newest]`.
    pub fn new(mode: AckMode, confirmed: u64, newest: u64) -> Self {
        match mode {
            AckMode::OnAck => Self::OnAck(Outbox::new(confirmed, newest)),
            AckMode::OnStored { within } => {
                Self::OnStored(StoredWindow::new(confirmed, newest, resend_after(within)))
            }
        }
    }

    /// Every sample up to this seq is confirmed (acked or stored, as the mode says) or gone.
    pub fn confirmed(&self) -> u64 {
        match self {
            Self::OnAck(outbox) => outbox.acked(),
            Self::OnStored(window) => window.stored_through(),
        }
    }

    /// What to send at `now`, if anything.
    pub fn next(&self, now: Instant) -> Option<SendPlan> {
        match self {
            Self::OnAck(outbox) => outbox.next(now),
            Self::OnStored(window) => window.next(now),
        }
    }

    /// When a batch that waits only for its turn may leave.
    pub fn batch_due(&self) -> Option<Instant> {
        match self {
            Self::OnAck(outbox) => outbox.batch_due(),
            Self::OnStored(window) => window.batch_due(),
        }
    }

    /// The sampler stored sample `seq`.
    pub fn on_sampled(&mut self, seq: u64) {
        match self {
            Self::OnAck(outbox) => outbox.on_sampled(seq),
            Self::OnStored(window) => window.on_sampled(seq),
        }
    }

    /// Samples `first..=through` were written to the socket at `now` as one message.
    pub fn on_sent(&mut self, first: u64, through: u64, now: Instant) {
        match self {
            Self::OnAck(outbox) => outbox.on_sent(through, now),
            Self::OnStored(window) => window.on_sent(first, through, now),
        }
    }

    /// The store holds nothing after the send cursor any more (confirmed or dropped meanwhile): every sample
    /// known so far needs no sending.
    pub fn on_all_gone(&mut self, now: Instant) {
        match self {
            Self::OnAck(outbox) => outbox.on_sent(u64::MAX, now),
            Self::OnStored(window) => window.on_gone(u64::MAX),
        }
    }

    /// The hub acked through `seq` (of this epoch) at `now`; returns the seq the store may forget through.
    pub fn on_ack(&mut self, seq: u64, now: Instant) -> Option<u64> {
        match self {
            Self::OnAck(outbox) => outbox.on_ack(seq, now),
            Self::OnStored(window) => {
                window.on_ack(now);
                None
            }
        }
    }

    /// The hub stored `from..=to` of this epoch; returns the seq the store may forget through. Without the
    /// extension a `stored` changes nothing.
    pub fn on_stored(&mut self, from: u64, to: u64) -> Option<u64> {
        match self {
            Self::OnAck(_) => None,
            Self::OnStored(window) => window.on_stored(from, to),
        }
    }

    /// When the oldest acked sample still unstored is taken for lost.
    pub fn resend_due(&self) -> Option<Instant> {
        match self {
            Self::OnAck(_) => None,
            Self::OnStored(window) => window.resend_due(),
        }
    }

    /// Goes back to the oldest unstored sample if its resend is due at `now`; returns that sample's seq.
    pub fn on_resend_due(&mut self, now: Instant) -> Option<u64> {
        match self {
            Self::OnAck(_) => None,
            Self::OnStored(window) => window.on_resend_due(now),
        }
    }

    /// When the oldest unacked message times out, if one is in flight.
    pub fn ack_deadline(&self, ack_timeout: Duration) -> Option<Instant> {
        match self {
            Self::OnAck(outbox) => outbox.ack_deadline(ack_timeout),
            Self::OnStored(window) => window.ack_deadline(ack_timeout),
        }
    }

    /// The hub refused a message with `code`: what that means for this connection.
    pub fn on_error(&mut self, code: ErrorCode) -> Refusal {
        match self {
            Self::OnAck(outbox) => outbox.on_error(code),
            Self::OnStored(window) => window.on_error(code),
        }
    }

    /// Whether nothing more may be sent on this socket.
    pub fn is_held(&self) -> bool {
        match self {
            Self::OnAck(outbox) => outbox.is_held(),
            Self::OnStored(window) => window.is_held(),
        }
    }

    /// Whether nothing awaits its ack (and, with the extension, nothing waits to be sent either).
    pub fn is_idle(&self) -> bool {
        match self {
            Self::OnAck(outbox) => outbox.in_flight() == 0,
            Self::OnStored(window) => window.is_idle(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_extension_an_ack_frees_the_store_and_stored_is_ignored() {
        let now = Instant::now();
        let mut delivery = Delivery::new(AckMode::OnAck, 0, 2);
        delivery.on_sent(1, 2, now);
        assert_eq!(delivery.next(now), None, "one message at a time");
        assert_eq!(delivery.on_stored(1, 2), None);
        assert_eq!(delivery.on_ack(2, now), Some(2));
        assert_eq!(delivery.confirmed(), 2);
        assert_eq!(delivery.resend_due(), None);
    }

    #[test]
    fn with_the_extension_only_stored_frees_the_store() {
        let now = Instant::now();
        let within = Duration::from_secs(10);
        let mut delivery = Delivery::new(AckMode::OnStored { within }, 0, 2);
        delivery.on_sent(1, 1, now);
        assert!(
            delivery.next(now).is_some(),
            "more than one message in flight"
        );
        delivery.on_sent(2, 2, now);
        assert_eq!(delivery.on_ack(1, now), None);
        assert_eq!(delivery.on_ack(2, now), None);
        assert_eq!(delivery.confirmed(), 0);
        assert_eq!(delivery.resend_due(), Some(now + Duration::from_secs(20)));
        assert_eq!(delivery.on_stored(1, 2), Some(2));
        assert_eq!(delivery.resend_due(), None);
    }
}
