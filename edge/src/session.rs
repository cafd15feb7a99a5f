//! The connection's life as a pure state machine: events in, reconnect decisions out, no I/O.
//!
//! `Connecting` → `Connected{since}` → `Disconnected{next_delay, reason}` → `Connecting` …, forever. An outage
//! starts when a connection that stayed up for `reset_after` is lost (or at the first failure after start). The
//! first retry after such a connection is spread over the fast window, and attempts the hub refuses because it
//! is down (no TCP, no handshake, an HTTP error without `Retry-After`) are retried within the fast window for
//! the fast period, so the agent is back soon after the hub (see [`crate::backoff`]). Other failures (a close
//! 1008 after a flood limit, a connection lost soon after it opened, a refusal after the fast period) back off
//! exponentially with full jitter; a connection that stayed up for `reset_after` forgets earlier failures. A
//! refused credential (401/403, close 4001) or a takeover (close 4000) waits the full cap every time, and is
//! reported loudly once, then quietly, so a wrong token never floods the log or the hub. A refused upgrade that
//! carries `Retry-After` (the hub's 429 for an address with too many failed authentications) waits at least that
//! long, at most [`MAX_RETRY_AFTER`].

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use crate::backoff::Backoff;

/// The longest `Retry-After` the agent honours; a hub asking for more is retried after this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Why a connection ended or never started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// TCP, DNS, TLS or handshake failure before the upgrade.
    ConnectFailed(String),
    /// The handshake did not finish within the connect timeout.
    ConnectTimeout,
    /// The hub refused the credential with this HTTP status (401 or 403).
    AuthRejected(u16),
    /// The hub answered the upgrade with another HTTP status, possibly asking to wait before the next attempt.
    HandshakeRejected {
        /// The HTTP status, e.g. 429 or 503.
        status: u16,
        /// The response's `Retry-After`, in seconds, as sent (not yet capped).
        retry_after: Option<Duration>,
    },
    /// Close 4000: another connection with this device id took over.
    Replaced,
    /// Close 4001: the device's credential was revoked or disabled.
    Revoked,
    /// The hub closed the socket with this code and reason.
    Closed(u16, String),
    /// Nothing at all was read for the read timeout: the socket is presumed half-open.
    Silent(Duration),
    /// A batch or sample stayed unacknowledged for the ack timeout.
    AckTimeout(Duration),
    /// The hub refused a message it should have accepted (an `error` frame while samples were in flight).
    Refused(String),
    /// Reading or writing the socket failed.
    Io(String),
}

impl DisconnectReason {
    /// Whether this reason means the credential is wrong: retry slowly, tell the operator once.
    pub fn is_auth_failure(&self) -> bool {
        matches!(self, Self::AuthRejected(_) | Self::Revoked)
    }

    /// Whether retrying soon cannot help, so the next attempt waits the backoff cap.
    pub fn waits_the_cap(&self) -> bool {
        self.is_auth_failure() || *self == Self::Replaced
    }

    /// Whether the hub seems down rather than refusing this agent: no TCP or TLS, no handshake in time, or an
    /// HTTP error without `Retry-After` (a hub starting up). Such refusals are retried fast for a while.
    pub fn hub_seems_down(&self) -> bool {
        matches!(
            self,
            Self::ConnectFailed(_)
                | Self::ConnectTimeout
                | Self::HandshakeRejected {
                    retry_after: None,
                    ..
                }
        )
    }

    /// How long the hub asked the agent to stay away (`Retry-After` on a refused upgrade).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::HandshakeRejected { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConnectFailed(why) => write!(f, "connection failed: {why}"),
            Self::ConnectTimeout => f.write_str("no handshake within the connect timeout"),
            Self::AuthRejected(status) => write!(
                f,
                "authentication failed (HTTP {status}): the hub refused the token; check the device token (api_token_file, the api_token credential or API_TOKEN) and DEVICE_ID"
            ),
            Self::HandshakeRejected {
                status,
                retry_after,
            } => {
                write!(f, "the hub refused the upgrade with HTTP {status}")?;
                if *status == 429 {
                    f.write_str(" (too many failed authentications from this address)")?;
                }
                match retry_after {
                    Some(wait) => write!(f, " and asked to retry after {} s", wait.as_secs()),
                    None => Ok(()),
                }
            }
            Self::Replaced => {
                f.write_str("replaced (close 4000): another agent is connected with this DEVICE_ID")
            }
            Self::Revoked => f.write_str(
                "revoked (close 4001): the hub disabled this device's token; check the device token (api_token_file, the api_token credential or API_TOKEN)",
            ),
            Self::Closed(code, reason) => {
                write!(f, "the hub closed the connection ({code} {reason:?})")
            }
            Self::Silent(after) => write!(
                f,
                "nothing received for {} s: connection presumed dead",
                after.as_secs()
            ),
            Self::AckTimeout(after) => write!(f, "no ack for {} s", after.as_secs()),
            Self::Refused(why) => write!(f, "the hub refused a message: {why}"),
            Self::Io(why) => write!(f, "socket error: {why}"),
        }
    }
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// A connection attempt is under way.
    Connecting,
    /// The socket is up since `since`.
    Connected {
        /// When the handshake completed.
        since: Instant,
    },
    /// Waiting `next_delay` before the next attempt, because of `reason`.
    Disconnected {
        /// How long to wait before connecting again.
        next_delay: Duration,
        /// Why the last connection ended or failed.
        reason: DisconnectReason,
    },
}

/// How loudly the event loop should report a state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loudness {
    /// A problem the operator must fix (first refused credential, a takeover).
    Error,
    /// Something went wrong that retrying should fix.
    Warn,
    /// Ordinary progress.
    Info,
    /// A repeat of a problem already reported.
    Quiet,
}

/// What to do after a disconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconnect {
    /// Wait this long, then connect again.
    pub delay: Duration,
    /// How loudly to report it.
    pub loudness: Loudness,
}

/// The state machine; owns the backoff.
#[derive(Debug, Clone)]
pub struct Session {
    state: SessionState,
    backoff: Backoff,
    reset_after: Duration,
    reported: Option<DisconnectReason>,
    outage_since: Option<Instant>,
}

impl Session {
    /// A session about to make its first attempt; `reset_after` is how long a connection must stay up for
    /// earlier failures to be forgotten.
    pub fn new(backoff: Backoff, reset_after: Duration) -> Self {
        Self {
            state: SessionState::Connecting,
            backoff,
            reset_after,
            reported: None,
            outage_since: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> &SessionState {
        &self.state
    }

    /// Whether the current failure was already reported (so attempts are logged quietly).
    pub fn is_quiet(&self) -> bool {
        self.reported.is_some()
    }

    /// The delay has passed; a new attempt starts.
    pub fn on_attempt(&mut self) {
        self.state = SessionState::Connecting;
    }

    /// The handshake completed at `now`.
    pub fn on_connected(&mut self, now: Instant) {
        self.state = SessionState::Connected { since: now };
        self.reported = None;
    }

    /// The connection ended (or the attempt failed) at `now` because of `reason`.
    pub fn on_disconnected(&mut self, reason: DisconnectReason, now: Instant) -> Reconnect {
        let own_delay = self.own_delay(&reason, now);
        let delay = reconnect_delay(own_delay, reason.retry_after());
        let loudness = self.loudness(&reason);
        self.state = SessionState::Disconnected {
            next_delay: delay,
            reason,
        };
        Reconnect { delay, loudness }
    }

    /// The session's own wait before the next attempt (before any `Retry-After`): the cap for a credential or a
    /// takeover, the first retry after a connection that stayed up, a fast retry while the hub seems down within
    /// the fast period, else the backoff.
    fn own_delay(&mut self, reason: &DisconnectReason, now: Instant) -> Duration {
        let connected_since = match self.state {
            SessionState::Connected { since } => Some(since),
            _ => None,
        };
        let stayed_up = connected_since
            .is_some_and(|since| now.saturating_duration_since(since) >= self.reset_after);
        if stayed_up {
            self.backoff.reset();
            self.outage_since = Some(now);
        }
        let outage = now.saturating_duration_since(*self.outage_since.get_or_insert(now));
        if reason.waits_the_cap() {
            self.backoff.policy().cap
        } else if stayed_up {
            self.backoff.first_retry()
        } else if connected_since.is_none() && reason.hub_seems_down() {
            self.backoff.retry_refused(outage)
        } else {
            self.backoff.next_delay()
        }
    }

    fn loudness(&mut self, reason: &DisconnectReason) -> Loudness {
        if reason.retry_after().is_some() {
            // The hub is holding the agent off, often because of the failures already reported: warn every
            // time (each refusal is one line with its wait) without forgetting what was reported.
            return Loudness::Warn;
        }
        if !reason.waits_the_cap() {
            self.reported = None;
            // A hub deploy closes every socket with 1001 (or 1000): routine, not a warning.
            let routine = matches!(reason, DisconnectReason::Closed(1000 | 1001, _));
            return if routine {
                Loudness::Info
            } else {
                Loudness::Warn
            };
        }
        if self.reported.as_ref() == Some(reason) {
            return Loudness::Quiet;
        }
        self.reported = Some(reason.clone());
        Loudness::Error
    }
}

/// The wait before the next attempt: the session's own delay, stretched to what the hub asked for with
/// `Retry-After` (capped at [`MAX_RETRY_AFTER`]), never shortened by it.
pub fn reconnect_delay(own_delay: Duration, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(asked) => own_delay.max(asked.min(MAX_RETRY_AFTER)),
        None => own_delay,
    }
}

#[cfg(test)]
mod tests;
