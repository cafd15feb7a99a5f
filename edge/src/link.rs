//! One connected socket: the only code that reads and writes it. A single `select!` waits on incoming frames,
//! new samples, the ping timer, the batch pacing, the write flush, the silence, ack and close deadlines, and
//! shutdown, so sending and receiving never block each other.
//!
//! Messages are queued with `feed` (no waiting) and written by the flush branch, so a slow write never stops
//! acks and commands from being read. What to send, and what the store may forget on an `ack` or a `stored`,
//! comes from the [`Delivery`] the handshake chose; the samples come from the store.
//!
//! The keep-alive is the text frame `{"type":"ping"}` ([`PING_TEXT`]), not a WebSocket Ping: the Cloudflare
//! runtime answers that exact text with `{"type":"pong"}` without waking the hub's Durable Object, and the hub
//! judges the device's presence by it (a protocol Ping is invisible to it). Any frame at all, the text pong
//! included, counts as hearing from the hub. Protocol Pings from the hub are still answered, by tungstenite.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use telemetry_protocol::limits::{CLOSE_REPLACED, CLOSE_REVOKED, PING_TEXT};
use telemetry_protocol::{Ack, DeviceMessage, ErrorFrame, HubToDevice, Stored};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::agent_error::AgentError;
use crate::command_runner::CommandRunner;
use crate::config::ConnectionConfig;
use crate::connection::DeviceSocket;
use crate::delivery::{AckMode, Delivery};
use crate::metrics::AgentMetrics;
use crate::outbox::{Refusal, SendPlan, encode};
use crate::sampler::store_figures;
use crate::session::DisconnectReason;
use crate::store::SampleStore;

/// How long a closing handshake may take at shutdown or after the hub's Close, and how long the hub's close
/// may take to follow its `rate_limited` error.
const CLOSE_TIMEOUT: Duration = Duration::from_millis(1000);

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// Shutdown was requested; the socket was closed with 1000.
    Shutdown,
    /// The connection was lost or dropped, for this reason.
    Lost(DisconnectReason),
}

/// The long-lived parts a connection works with.
pub struct LinkContext {
    /// The sample store (the send queue).
    pub store: Arc<SampleStore>,
    /// The store's epoch; acks and `stored` of other epochs are ignored.
    pub epoch: String,
    /// The newest stored seq, published by the sampler.
    pub newest: watch::Receiver<u64>,
    /// Timeouts and heartbeat.
    pub timing: ConnectionConfig,
    /// Carries out allowed commands.
    pub commands: CommandRunner,
    /// Where samples sent and confirmed, and connections, are counted.
    pub metrics: Arc<AgentMetrics>,
}

/// A connected socket and its send window.
pub struct Link<'a> {
    sink: SplitSink<DeviceSocket, Message>,
    stream: SplitStream<DeviceSocket>,
    delivery: Delivery,
    context: &'a mut LinkContext,
    unflushed: bool,
    last_read: Instant,
    catching_up: bool,
    close_expected_by: Option<Instant>,
}

impl<'a> Link<'a> {
    /// Wraps a freshly connected socket whose hub acknowledges as `mode` says; the whole unconfirmed backlog
    /// is due first.
    pub async fn new(
        socket: DeviceSocket,
        mode: AckMode,
        context: &'a mut LinkContext,
    ) -> Result<Self, AgentError> {
        let store = Arc::clone(&context.store);
        let confirmed = blocking(move || store.acked_through()).await?;
        let newest = *context.newest.borrow_and_update();
        let delivery = Delivery::new(mode, confirmed, newest);
        let backlog = newest.saturating_sub(confirmed);
        if backlog > 1 {
            tracing::info!(samples = backlog, "sending unconfirmed samples first");
        }
        let (sink, stream) = socket.split();
        Ok(Self {
            sink,
            stream,
            delivery,
            context,
            unflushed: false,
            last_read: Instant::now(),
            catching_up: backlog > 1,
            close_expected_by: None,
        })
    }

    /// Runs the connection until it is lost or `shutdown` completes.
    pub async fn serve(
        mut self,
        shutdown: &mut (impl Future<Output = ()> + Unpin),
    ) -> Result<Served, AgentError> {
        let timing = self.context.timing;
        let mut ping = interval_at(Instant::now() + timing.ping_interval, timing.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            if let Err(reason) = self.send_due().await? {
                return Ok(Served::Lost(reason));
            }
            let silent_at = self.last_read + timing.read_timeout;
            let ack_deadline = self.delivery.ack_deadline(timing.ack_timeout);
            let batch_due = self.delivery.batch_due();
            let resend_due = self.delivery.resend_due();
            tokio::select! {
                () = &mut *shutdown => {
                    self.close().await;
                    return Ok(Served::Shutdown);
                }
                frame = self.stream.next() => {
                    self.last_read = Instant::now();
                    if let Some(reason) = self.on_frame(frame).await {
                        return Ok(Served::Lost(reason));
                    }
                }
                Ok(()) = self.context.newest.changed() => {
                    let seq = *self.context.newest.borrow_and_update();
                    self.delivery.on_sampled(seq);
                }
                _ = ping.tick(), if !self.delivery.is_held() => {
                    if let Err(reason) = self.queue(Message::text(PING_TEXT)).await {
                        return Ok(Served::Lost(reason));
                    }
                }
                () = sleep_until(batch_due.unwrap_or(silent_at)), if batch_due.is_some() => {}
                () = sleep_until(resend_due.unwrap_or(silent_at)), if resend_due.is_some() => {
                    if let Some(from) = self.delivery.on_resend_due(Instant::now()) {
                        tracing::warn!(from, "acked samples not stored in time; sending again");
                    }
                }
                flushed = self.sink.flush(), if self.unflushed => {
                    if let Err(error) = flushed {
                        return Ok(Served::Lost(io(error)));
                    }
                    self.unflushed = false;
                }
                () = sleep_until(silent_at) => {
                    return Ok(Served::Lost(DisconnectReason::Silent(timing.read_timeout)));
                }
                () = sleep_until(ack_deadline.unwrap_or(silent_at)), if ack_deadline.is_some() => {
                    return Ok(Served::Lost(DisconnectReason::AckTimeout(timing.ack_timeout)));
                }
                () = sleep_until(self.close_expected_by.unwrap_or(silent_at)), if self.close_expected_by.is_some() => {
                    return Ok(Served::Lost(DisconnectReason::Refused(
                        "rate_limited, and no close followed".into(),
                    )));
                }
            }
        }
    }

    /// Queues every message the send window allows now. The outer error is fatal (the store failed), the inner one
    /// ends the connection.
    async fn send_due(&mut self) -> Result<Result<(), DisconnectReason>, AgentError> {
        while let Some(SendPlan::Samples { after, max_items }) = self.delivery.next(Instant::now())
        {
            let store = Arc::clone(&self.context.store);
            let samples = blocking(move || store.unacked(after, max_items)).await?;
            let first = samples.first().map(|sample| sample.seq);
            let (Some(first), Some(encoded)) =
                (first, encode(samples).map_err(AgentError::Encode)?)
            else {
                // Everything after `after` was confirmed or dropped meanwhile.
                self.delivery.on_all_gone(Instant::now());
                continue;
            };
            if let Err(reason) = self.queue(Message::text(encoded.text)).await {
                return Ok(Err(reason));
            }
            self.delivery
                .on_sent(first, encoded.through, Instant::now());
            let count = encoded.through.saturating_sub(first) + 1;
            self.context.metrics.on_sent(count);
        }
        if self.catching_up && self.delivery.is_idle() {
            self.catching_up = false;
            tracing::info!(
                confirmed_through = self.delivery.confirmed(),
                "backlog delivered"
            );
        }
        Ok(Ok(()))
    }

    /// Handles one incoming frame; `Some` ends the connection.
    async fn on_frame(
        &mut self,
        frame: Option<Result<Message, WsError>>,
    ) -> Option<DisconnectReason> {
        match frame {
            None => Some(DisconnectReason::Io(
                "the hub closed the TCP connection".into(),
            )),
            Some(Err(error)) => Some(DisconnectReason::Io(error.to_string())),
            Some(Ok(Message::Text(text))) => self.on_text(text.as_str()).await,
            Some(Ok(Message::Close(frame))) => {
                // tungstenite queued the Close reply; send it, briefly.
                let _ = timeout(CLOSE_TIMEOUT, self.sink.flush()).await;
                Some(close_reason(frame))
            }
            Some(Ok(_)) => None,
        }
    }

    async fn on_text(&mut self, text: &str) -> Option<DisconnectReason> {
        match serde_json::from_str::<HubToDevice>(text) {
            Ok(HubToDevice::Ack(ack)) => {
                self.on_ack(&ack);
                None
            }
            Ok(HubToDevice::Command(command)) => {
                let result = self.context.commands.run(&command);
                let text = serde_json::to_string(&DeviceMessage::CommandResult(result));
                match text {
                    Ok(text) => self.queue(Message::text(text)).await.err(),
                    Err(error) => Some(DisconnectReason::Io(error.to_string())),
                }
            }
            Ok(HubToDevice::Error(error)) => self.on_error(&error),
            // Hearing from the hub at all is what keeps the link alive; a pong says nothing more.
            Ok(HubToDevice::Pong) => None,
            Ok(HubToDevice::Stored(stored)) => {
                self.on_stored(&stored);
                None
            }
            Err(error) => {
                let excerpt: String = text.chars().take(120).collect();
                tracing::warn!(%error, message = %excerpt, "unexpected message from the hub, ignored");
                None
            }
        }
    }

    /// Decides with the outbox what a refusal means; `Some` ends the connection.
    fn on_error(&mut self, error: &ErrorFrame) -> Option<DisconnectReason> {
        match self.delivery.on_error(error.code) {
            Refusal::Noted => {
                tracing::warn!(code = ?error.code, message = %error.message, "the hub refused a message");
                None
            }
            Refusal::EndConnection => Some(DisconnectReason::Refused(format!(
                "{:?}: {}",
                error.code, error.message
            ))),
            Refusal::AwaitClose => {
                // The close 1008 right behind it is what gets reported (once, with its code and reason).
                tracing::debug!(message = %error.message, "rate limited by the hub; sending nothing more");
                self.close_expected_by
                    .get_or_insert_with(|| Instant::now() + CLOSE_TIMEOUT);
                None
            }
        }
    }

    /// Moves the window and, without stored acknowledgements, removes the acked samples from the store.
    fn on_ack(&mut self, ack: &Ack) {
        if ack.epoch.as_deref() != Some(self.context.epoch.as_str()) {
            tracing::debug!(seq = ack.seq, epoch = ?ack.epoch, "ack for another epoch ignored");
            return;
        }
        if let Some(seq) = self.delivery.on_ack(ack.seq, Instant::now()) {
            self.forget_through(seq);
        }
    }

    /// Removes the samples the hub has now stored, as far as they form a prefix of the store.
    fn on_stored(&mut self, stored: &Stored) {
        if stored.epoch != self.context.epoch {
            tracing::debug!(epoch = %stored.epoch, "stored for another epoch ignored");
            return;
        }
        if let Some(seq) = self.delivery.on_stored(stored.from, stored.to) {
            self.forget_through(seq);
        }
    }

    /// Removes every sample up to `seq` from the store, in the background: a lost removal only means a
    /// harmless resend.
    fn forget_through(&self, seq: u64) {
        let store = Arc::clone(&self.context.store);
        let metrics = Arc::clone(&self.context.metrics);
        tokio::task::spawn_blocking(move || match store.ack_through(seq) {
            Ok(forgotten) => {
                metrics.on_confirmed(forgotten);
                metrics.set_store(store_figures(&store));
            }
            Err(error) => tracing::error!(%error, "cannot remove confirmed samples"),
        });
    }

    /// Queues a message for the flush branch to write. Queueing only waits if the write buffer is full, and
    /// never longer than the read timeout: a socket that takes nothing is as dead as one that says nothing.
    async fn queue(&mut self, message: Message) -> Result<(), DisconnectReason> {
        let stall = self.context.timing.read_timeout;
        match timeout(stall, self.sink.feed(message)).await {
            Ok(queued) => queued.map_err(io)?,
            Err(_) => {
                return Err(DisconnectReason::Io(format!(
                    "no write progress for {} s",
                    stall.as_secs()
                )));
            }
        }
        self.unflushed = true;
        Ok(())
    }

    /// Sends Close 1000 and waits briefly for it to leave.
    async fn close(&mut self) {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "shutdown".into(),
        };
        let _ = timeout(CLOSE_TIMEOUT, self.sink.send(Message::Close(Some(frame)))).await;
    }
}

fn close_reason(frame: Option<CloseFrame>) -> DisconnectReason {
    let Some(frame) = frame else {
        return DisconnectReason::Closed(1005, String::new());
    };
    match u16::from(frame.code) {
        CLOSE_REPLACED => DisconnectReason::Replaced,
        CLOSE_REVOKED => DisconnectReason::Revoked,
        code => DisconnectReason::Closed(code, frame.reason.as_str().to_owned()),
    }
}

fn io(error: WsError) -> DisconnectReason {
    DisconnectReason::Io(error.to_string())
}

/// Runs a store call on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, AgentError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AgentError::Task(e.to_string()))?
        .map_err(AgentError::Store)
}
