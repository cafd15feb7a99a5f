//! The Durable Object of one device: holds its socket and its dashboards' sockets, relays between them, enforces
//! the device's credentials and flood limits, and tells dashboards the truth about presence.
//!
//! It uses the WebSocket Hibernation API: who a socket is lives in its attachment, the written seqs, the last
//! sample, the history and the credential copy live in storage, so nothing written is lost when the object sleeps
//! or restarts. Handshakes are decided in `hub_admission`, presence and the alarm in `hub_presence`, the history in
//! `hub_history`; this file holds the object, its frames and its flood limits.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use telemetry_protocol::limits::{
    CLOSE_MESSAGE_TOO_BIG, CLOSE_POLICY_VIOLATION, CLOSE_RATE_LIMITED_REASON, PING_TEXT, PONG_TEXT,
};
use telemetry_protocol::{
    DeviceId, ErrorCode, ErrorFrame, HubToDashboard, HubToDevice, PresenceReason,
};
use worker::{
    Date, DurableObject, Env, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketRequestResponsePair, durable_object,
};

use crate::access::{Access, DeviceRecord};
use crate::clock::rfc3339_millis;
use crate::config::HubConfig;
use crate::counter_book::CounterBook;
use crate::fanout::RevokeFanout;
use crate::flood::{DeviceBuckets, TokenBucket, command_flood, dashboard_flood};
use crate::handoff::{HistoryRequest, Role};
use crate::history::HistoryMemory;
use crate::hub_sockets::{
    Attachment, attachment, broadcast, live_device_sockets, send_json, to_json,
};
use crate::hub_store::HubStore;
use crate::log_event::{LogEvent, emit, wire_name};
use crate::session::{
    DashboardOutcome, DeviceOutcome, Inbound, Ingested, on_dashboard_frame, on_device_frame,
};

/// One per device id: the device's connection, its dashboards, its cursor and its last sample.
#[durable_object]
pub struct DeviceHub {
    core: Rc<HubCore>,
}

/// Everything the object's handlers share; in an `Rc` so work that outlives a handler (confirming a handshake
/// against D1 after the 101) can hold it.
pub struct HubCore {
    pub(crate) state: State,
    pub(crate) env: Env,
    pub(crate) config: HubConfig,
    pub(crate) store: HubStore,
    limits: RefCell<LiveLimits>,
    pub(crate) alarm_at: Cell<Option<u64>>,
    pub(crate) history: RefCell<HistoryMemory>,
    /// What the object counted (see `hub_counters`).
    pub(crate) counters: RefCell<CounterBook>,
}

/// Flood buckets, in memory: a flooding socket keeps the object awake, and a fresh object starts them full.
#[derive(Default)]
struct LiveLimits {
    device: Option<(u64, DeviceBuckets)>,
    dashboards: HashMap<u64, TokenBucket>,
    commands: HashMap<String, TokenBucket>,
}

impl DurableObject for DeviceHub {
    fn new(state: State, env: Env) -> Self {
        // `{"type":"ping"}` is answered by the runtime without waking the object.
        if let Ok(pair) = WebSocketRequestResponsePair::new(PING_TEXT, PONG_TEXT) {
            state.set_websocket_auto_response(&pair);
        }
        let config = crate::request::config(&env);
        let store = HubStore::open(&state);
        Self {
            core: Rc::new(HubCore {
                state,
                env,
                config,
                store,
                limits: RefCell::new(LiveLimits::default()),
                alarm_at: Cell::new(None),
                history: RefCell::default(),
                counters: RefCell::new(CounterBook::new(&now_text())),
            }),
        }
    }

    /// Internal requests: `/connect` and `/history` from the gateway, `/status` and `/credentials` from the admin
    /// API and the sync sweeper, `/fanout` from them and from other device objects.
    async fn fetch(&self, mut req: Request) -> Result<Response> {
        match req.path().as_str() {
            "/connect" => HubCore::admit(&self.core, &req).await,
            "/status" => Response::from_json(&self.core.status().await),
            "/credentials" => {
                let record: DeviceRecord = req.json().await?;
                let report = self.core.on_credentials(record).await;
                Response::from_json(&report)
            }
            "/fanout" => {
                let order: RevokeFanout = req.json().await?;
                Response::from_json(&self.core.on_fanout(order).await)
            }
            "/history" => {
                let request: HistoryRequest = req.json().await?;
                self.core
                    .answer_history(request.device_id.as_str(), &request.query)
                    .await
            }
            _ => Response::error("bad internal request", 400),
        }
    }

    /// Closes sessions whose rotation grace ended and reports silent devices; then sleeps until next needed.
    async fn alarm(&self) -> Result<Response> {
        self.core.on_alarm().await;
        Response::ok("done")
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let Some(attachment) = attachment(&ws) else {
            let _ = ws.close(Some(1011), Some("unknown connection"));
            return Ok(());
        };
        let Ok(device_id) = DeviceId::parse(&attachment.device_id) else {
            let _ = ws.close(Some(1011), Some("unknown connection"));
            return Ok(());
        };
        let frame = match &message {
            WebSocketIncomingMessage::String(text) => Inbound::Text(text),
            WebSocketIncomingMessage::Binary(bytes) => Inbound::Binary(bytes.len()),
        };
        match attachment.role {
            Role::Device => {
                self.core
                    .on_device_frame(&ws, attachment, &device_id, frame)
                    .await
            }
            Role::Dashboard => {
                self.core
                    .on_dashboard_frame(&ws, &attachment, &device_id, frame)
                    .await;
                Ok(())
            }
        }
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        // Complete the closing handshake; 1005 and 1006 may not be sent, so answer those with 1000.
        let echo = u16::try_from(code)
            .ok()
            .filter(|c| *c != 1005 && *c != 1006)
            .unwrap_or(1000);
        let _ = ws.close(Some(echo), Some("closed"));
        self.core.note_socket_closed(&ws, u16::try_from(code).ok());
        self.core
            .on_socket_gone(&ws, PresenceReason::Disconnected)
            .await;
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        self.core.note_socket_closed(&ws, None);
        self.core.on_socket_gone(&ws, PresenceReason::Error).await;
        Ok(())
    }
}

/// Now, in Unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// Now, as the wire shows it.
pub(crate) fn now_text() -> String {
    rfc3339_millis(now_ms())
}

/// Sends `refusal` and closes with 1008: the end of a socket that went past a flood limit.
fn close_for_flood(ws: &WebSocket, refusal: ErrorFrame, to_device: bool) {
    if to_device {
        send_json(ws, &HubToDevice::Error(refusal));
    } else {
        send_json(ws, &HubToDashboard::Error(refusal));
    }
    let _ = ws.close(
        Some(CLOSE_POLICY_VIOLATION),
        Some(CLOSE_RATE_LIMITED_REASON),
    );
}

impl HubCore {
    async fn on_device_frame(
        &self,
        ws: &WebSocket,
        mut attachment: Attachment,
        device_id: &DeviceId,
        frame: Inbound<'_>,
    ) -> Result<()> {
        let now = now_ms();
        let len = match frame {
            Inbound::Text(text) => text.len(),
            Inbound::Binary(len) => len,
        };
        self.count(|book| book.device_frame(len));
        if let Some(refusal) = self.charge_device(attachment.socket_id, len, now) {
            self.note_flood(device_id, "device", "device_rate", &refusal.message);
            close_for_flood(ws, refusal, true);
            return Ok(());
        }
        if attachment.timed_out {
            attachment.timed_out = false;
            attachment.last_frame_ms = now;
            let _ = ws.serialize_attachment(&attachment);
            self.announce(device_id, true, PresenceReason::Connected);
            self.ensure_alarm_by(now + self.config.presence.report_within_ms)
                .await;
            self.deliver_commands(ws, device_id, false, now);
        } else if attachment.frame_time_is_stale(now) {
            attachment.last_frame_ms = now;
            let _ = ws.serialize_attachment(&attachment);
        }
        let quiet_for = self.note_device_frame(now);
        self.load_history().await;
        match on_device_frame(device_id, frame, self.held_seqs(), &rfc3339_millis(now)) {
            DeviceOutcome::Samples(ingested) => {
                // A group whose writes keep failing takes no more: without an ack the device keeps its samples.
                if !ingested.accepted.is_empty() && self.history_full() {
                    emit(LogEvent::new("history_full").device(device_id.as_str()));
                    self.count(|book| book.refused("internal"));
                    let refusal =
                        ErrorFrame::new(ErrorCode::Internal, "storage unavailable; resend later");
                    send_json(ws, &HubToDevice::Error(refusal));
                    return Ok(());
                }
                let Ingested {
                    accepted,
                    resent,
                    held,
                    ack,
                } = ingested;
                let mut kept = Vec::with_capacity(accepted.len());
                for sample in accepted {
                    let message = HubToDashboard::Telemetry(sample);
                    broadcast(&self.state, &message);
                    if let HubToDashboard::Telemetry(sample) = message {
                        kept.push(sample);
                    }
                }
                self.count(|book| book.samples_accepted(kept.len()));
                send_json(ws, &HubToDevice::Ack(ack));
                let bytes_each = len / kept.len().max(1);
                let resent_stored = self.keep_samples(kept, &resent, held, now, bytes_each);
                if attachment.stored_acks {
                    for run in resent_stored {
                        send_json(ws, &HubToDevice::Stored(run));
                    }
                }
                // Written after the ack and the broadcast, so the output gate holds only `stored` messages.
                self.write_history_if_due(now, quiet_for);
            }
            DeviceOutcome::CommandResult(result) => {
                self.complete_command(device_id, &result, now);
                self.count(CounterBook::command_result);
                broadcast(&self.state, &HubToDashboard::CommandResult(result));
            }
            DeviceOutcome::Pong => {
                let _ = ws.send_with_str(PONG_TEXT);
            }
            DeviceOutcome::Refused(error) => {
                self.count(|book| book.refused(&wire_name(&error.code)));
                send_json(ws, &HubToDevice::Error(error));
            }
            DeviceOutcome::TooBig => {
                let _ = ws.close(Some(CLOSE_MESSAGE_TOO_BIG), Some("message too big"));
            }
        }
        Ok(())
    }

    async fn on_dashboard_frame(
        &self,
        ws: &WebSocket,
        attachment: &Attachment,
        device_id: &DeviceId,
        frame: Inbound<'_>,
    ) {
        let now = now_ms();
        if !self.charge_dashboard(attachment.socket_id, now) {
            let refusal = dashboard_flood(&self.config.flood);
            self.note_flood(device_id, "dashboard", "dashboard_frames", &refusal.message);
            close_for_flood(ws, refusal, false);
            return;
        }
        let access = attachment.access.unwrap_or(Access::Read);
        let online = !live_device_sockets(&self.state).is_empty();
        match on_dashboard_frame(device_id, frame, access, online) {
            DashboardOutcome::Forward(command) => {
                if !self.charge_command_or_close(ws, attachment, device_id, now) {
                    return;
                }
                self.count(CounterBook::command_relayed);
                let text = to_json(&HubToDevice::Command(command));
                for device in live_device_sockets(&self.state) {
                    let _ = device.send_with_str(&text);
                }
            }
            DashboardOutcome::Enqueue(command, ttl_s) => {
                if !self.charge_command_or_close(ws, attachment, device_id, now) {
                    return;
                }
                self.enqueue_command(ws, device_id, command, ttl_s, now)
                    .await;
            }
            DashboardOutcome::Cancel(id) => self.cancel_command(ws, device_id, &id, now),
            DashboardOutcome::Reply(reply) => {
                if let HubToDashboard::Error(error) = &reply {
                    self.count(|book| book.refused(&wire_name(&error.code)));
                }
                send_json(ws, &reply);
            }
            DashboardOutcome::TooBig => {
                let _ = ws.close(Some(CLOSE_MESSAGE_TOO_BIG), Some("message too big"));
            }
        }
    }

    /// Charges a device frame; the refusal if the device went past a limit.
    fn charge_device(&self, socket_id: u64, len: usize, now: u64) -> Option<ErrorFrame> {
        let policy = &self.config.flood;
        let mut limits = self.limits.borrow_mut();
        let buckets = match &mut limits.device {
            Some((id, buckets)) if *id == socket_id => buckets,
            slot => &mut slot.insert((socket_id, DeviceBuckets::new(policy, now))).1,
        };
        buckets.charge(len, policy, now)
    }

    fn charge_dashboard(&self, socket_id: u64, now: u64) -> bool {
        let rate = self.config.flood.dashboard_frames_per_sec;
        let mut limits = self.limits.borrow_mut();
        limits
            .dashboards
            .entry(socket_id)
            .or_insert_with(|| TokenBucket::per_second(rate, now))
            .take(1.0, now)
    }

    /// Charges a command to the dashboard's token; past the limit, notes the flood and closes `ws` with 1008.
    fn charge_command_or_close(
        &self,
        ws: &WebSocket,
        attachment: &Attachment,
        device_id: &DeviceId,
        now: u64,
    ) -> bool {
        let token = attachment.token_id.as_deref().unwrap_or("");
        if self.charge_command(token, now) {
            return true;
        }
        let refusal = command_flood(&self.config.flood);
        self.note_flood(device_id, "dashboard", "commands", &refusal.message);
        close_for_flood(ws, refusal, false);
        false
    }

    fn charge_command(&self, token_id: &str, now: u64) -> bool {
        let rate = self.config.flood.commands_per_minute;
        let mut limits = self.limits.borrow_mut();
        limits
            .commands
            .entry(token_id.to_owned())
            .or_insert_with(|| TokenBucket::per_minute(rate, now))
            .take(1.0, now)
    }

    /// Forgets a closed dashboard's bucket.
    pub(crate) fn forget_socket(&self, socket_id: u64) {
        self.limits.borrow_mut().dashboards.remove(&socket_id);
    }
}
