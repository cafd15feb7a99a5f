//! The Durable Object of one device: holds its socket and its dashboards' sockets, and relays between them.
//!
//! It uses the WebSocket Hibernation API: who a socket is lives in its tags and attachment, the cursor and the
//! last sample live in storage, so nothing that matters is lost when the object sleeps or restarts.

use serde::{Deserialize, Serialize};
use telemetry_protocol::limits::{
    CLOSE_MESSAGE_TOO_BIG, CLOSE_REPLACED, CLOSE_REPLACED_REASON, CLOSE_REVOKED,
    CLOSE_REVOKED_REASON, PING_TEXT, PONG_TEXT,
};
use telemetry_protocol::{
    DashboardTelemetry, DeviceId, ErrorCode, ErrorFrame, HubToDashboard, HubToDevice, Presence,
    PresenceReason, Snapshot,
};
use worker::js_sys;
use worker::wasm_bindgen::JsValue;
use worker::{
    Date, DurableObject, Env, Request, Response, Result, ScheduledTime, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair, WebSocketRequestResponsePair, console_log,
    durable_object,
};

use crate::access::Access;
use crate::clock::rfc3339_millis;
use crate::cursor::SeqCursor;
use crate::session::{
    DashboardOutcome, DeviceOutcome, Inbound, on_dashboard_frame, on_device_frame,
};

/// Internal header from the gateway: `device` or `dashboard`.
pub const HEADER_ROLE: &str = "X-Hub-Role";
/// Internal header from the gateway: the authenticated device id.
pub const HEADER_DEVICE_ID: &str = "X-Hub-Device-Id";
/// Internal header from the gateway: `read` or `control` (dashboards).
pub const HEADER_ACCESS: &str = "X-Hub-Access";
/// Internal header from the gateway: the dashboard token's public id.
pub const HEADER_TOKEN_ID: &str = "X-Hub-Token-Id";
/// Internal header from the gateway: present when the response must select `telemetry.v1`.
pub const HEADER_SUBPROTOCOL: &str = "X-Hub-Subprotocol";
/// Internal header from the gateway: which device token authenticated (a prefix of its hash).
pub const HEADER_KEY_ID: &str = "X-Hub-Key-Id";

const TAG_DEVICE: &str = "device";
const TAG_DASHBOARD: &str = "dashboard";
const KEY_CURSOR: &str = "cursor";
const KEY_LAST: &str = "last";
const KEY_SEEN: &str = "seen";
const KEY_ROTATION: &str = "rotation";
/// `WebSocket.readyState` of an open socket; closing ones are never counted or sent to.
const READY_STATE_OPEN: u16 = 1;

/// Who a socket belongs to; kept as the socket's attachment so it survives hibernation.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Attachment {
    role: Role,
    device_id: String,
    #[serde(default)]
    access: Option<Access>,
    #[serde(default)]
    token_id: Option<String>,
    /// Devices: which token authenticated, so a rotation can close sessions of the old one.
    #[serde(default)]
    key_id: Option<String>,
    /// Set when the hub already told dashboards why this socket went away (revoked).
    #[serde(default)]
    gone_announced: bool,
}

/// `POST /revoke` from the admin API: close the device's socket, or the sockets of one dashboard token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevokeOrder {
    /// Close the device's socket (it was disabled).
    pub device: bool,
    /// Close the dashboards that authenticated with this token id.
    pub token_id: Option<String>,
}

/// `POST /rotate` from the admin API: after `grace_until_ms`, close device sessions of any other token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RotateOrder {
    /// Key id of the new token.
    pub current_key_id: String,
    /// Unix milliseconds when the old token stops; 0 for at once.
    pub grace_until_ms: u64,
}

/// `GET /status`: what the admin API lists about a device besides its D1 row.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// Whether the device is connected now.
    pub online: bool,
    /// When the hub last heard from it.
    pub last_seen: Option<String>,
    /// Highest seq of the current epoch.
    pub last_seq: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Role {
    Device,
    Dashboard,
}

/// One per device id: the device's connection, its dashboards, its cursor and its last sample.
#[durable_object]
pub struct DeviceHub {
    state: State,
}

impl DurableObject for DeviceHub {
    fn new(state: State, _env: Env) -> Self {
        // `{"type":"ping"}` is answered by the runtime without waking the object.
        if let Ok(pair) = WebSocketRequestResponsePair::new(PING_TEXT, PONG_TEXT) {
            state.set_websocket_auto_response(&pair);
        }
        Self { state }
    }

    /// Internal requests from the gateway (`/connect`) and the admin API (`/status`, `/revoke`, `/rotate`).
    async fn fetch(&self, mut req: Request) -> Result<Response> {
        match req.path().as_str() {
            "/connect" => self.accept_connection(&req).await,
            "/status" => Response::from_json(&self.status().await),
            "/revoke" => {
                let order: RevokeOrder = req.json().await?;
                Response::from_json(&self.revoke(&order))
            }
            "/rotate" => {
                let order: RotateOrder = req.json().await?;
                self.rotate(order).await?;
                Response::from_json(&serde_json::json!({"ok": true}))
            }
            _ => Response::error("bad internal request", 400),
        }
    }

    /// Runs when a rotation's grace period ends: closes device sessions of the old token.
    async fn alarm(&self) -> Result<Response> {
        if let Some(order) = self.load_json::<RotateOrder>(KEY_ROTATION).await {
            self.close_other_keys(&order.current_key_id);
            self.state.storage().delete(KEY_ROTATION).await?;
        }
        Response::ok("done")
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let Some(attachment) = ws.deserialize_attachment::<Attachment>()? else {
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
            Role::Device => self.on_device_frame(&ws, &device_id, frame).await,
            Role::Dashboard => {
                let access = attachment.access.unwrap_or(Access::Read);
                self.on_dashboard_frame(&ws, &device_id, access, frame);
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
        self.on_socket_gone(&ws, PresenceReason::Disconnected).await;
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        self.on_socket_gone(&ws, PresenceReason::Error).await;
        Ok(())
    }
}

impl DeviceHub {
    async fn accept_connection(&self, req: &Request) -> Result<Response> {
        let headers = req.headers();
        let field = |name: &str| headers.get(name).ok().flatten();
        let Some(device_id) = field(HEADER_DEVICE_ID).and_then(|id| DeviceId::parse(&id).ok())
        else {
            return Response::error("bad internal request", 400);
        };
        let select_subprotocol = field(HEADER_SUBPROTOCOL).is_some();
        match field(HEADER_ROLE).as_deref() {
            Some("device") => {
                let key_id = field(HEADER_KEY_ID);
                self.connect_device(device_id, key_id, select_subprotocol)
                    .await
            }
            Some("dashboard") => {
                let access = match field(HEADER_ACCESS).as_deref() {
                    Some("control") => Access::Control,
                    _ => Access::Read,
                };
                let token_id = field(HEADER_TOKEN_ID);
                self.connect_dashboard(device_id, access, token_id, select_subprotocol)
                    .await
            }
            _ => Response::error("bad internal request", 400),
        }
    }

    async fn status(&self) -> DeviceStatus {
        DeviceStatus {
            online: self.device_online(),
            last_seen: self
                .state
                .storage()
                .get::<String>(KEY_SEEN)
                .await
                .ok()
                .flatten(),
            last_seq: self.load_json::<SeqCursor>(KEY_CURSOR).await.map(|c| c.seq),
        }
    }

    /// Closes revoked sockets with 4001 at once; returns how many were closed.
    fn revoke(&self, order: &RevokeOrder) -> serde_json::Value {
        let mut closed = 0;
        if order.device {
            closed += self.close_devices(|_| true);
        }
        if let Some(token_id) = &order.token_id {
            for socket in self.open_sockets(&format!("token:{token_id}")) {
                let _ = socket.close(Some(CLOSE_REVOKED), Some(CLOSE_REVOKED_REASON));
                closed += 1;
            }
        }
        serde_json::json!({ "closed": closed })
    }

    /// Closes old-token sessions now, or when the grace period ends.
    async fn rotate(&self, order: RotateOrder) -> Result<()> {
        if order.grace_until_ms <= Date::now().as_millis() {
            self.close_other_keys(&order.current_key_id);
            return Ok(());
        }
        self.state
            .storage()
            .put(KEY_ROTATION, to_json(&order))
            .await?;
        // An absolute time: `set_alarm` takes a plain integer as an offset from now.
        let when = js_sys::Date::new(&JsValue::from_f64(order.grace_until_ms as f64));
        self.state
            .storage()
            .set_alarm(ScheduledTime::new(when))
            .await
    }

    fn close_other_keys(&self, current_key_id: &str) {
        self.close_devices(|attachment| attachment.key_id.as_deref() != Some(current_key_id));
    }

    /// Closes the open device sockets that `select` picks with 4001 and tells dashboards it was revoked.
    fn close_devices(&self, select: impl Fn(&Attachment) -> bool) -> usize {
        let mut closed = 0;
        for socket in self.open_sockets(TAG_DEVICE) {
            let Ok(Some(mut attachment)) = socket.deserialize_attachment::<Attachment>() else {
                continue;
            };
            if !select(&attachment) {
                continue;
            }
            attachment.gone_announced = true;
            let _ = socket.serialize_attachment(&attachment);
            let _ = socket.close(Some(CLOSE_REVOKED), Some(CLOSE_REVOKED_REASON));
            closed += 1;
            if !self.device_online() {
                self.broadcast(&HubToDashboard::Presence(Presence {
                    device_id: attachment.device_id.clone(),
                    online: false,
                    at: now(),
                    reason: PresenceReason::Revoked,
                }));
            }
        }
        closed
    }

    /// Accepts the device's socket. A newer connection wins: older ones are closed with 4000 `replaced`.
    async fn connect_device(
        &self,
        device_id: DeviceId,
        key_id: Option<String>,
        select_subprotocol: bool,
    ) -> Result<Response> {
        let older = self.open_sockets(TAG_DEVICE);
        for socket in &older {
            let _ = socket.close(Some(CLOSE_REPLACED), Some(CLOSE_REPLACED_REASON));
        }
        let pair = WebSocketPair::new()?;
        self.state
            .accept_websocket_with_tags(&pair.server, &[TAG_DEVICE]);
        pair.server.serialize_attachment(Attachment {
            role: Role::Device,
            device_id: device_id.to_string(),
            access: None,
            token_id: None,
            key_id,
            gone_announced: false,
        })?;
        self.mark_seen().await;
        let reason = if older.is_empty() {
            PresenceReason::Connected
        } else {
            PresenceReason::Replaced
        };
        self.broadcast(&HubToDashboard::Presence(Presence {
            device_id: device_id.to_string(),
            online: true,
            at: now(),
            reason,
        }));
        upgrade_response(pair.client, select_subprotocol)
    }

    /// Accepts a dashboard's socket and sends it the snapshot at once.
    async fn connect_dashboard(
        &self,
        device_id: DeviceId,
        access: Access,
        token_id: Option<String>,
        select_subprotocol: bool,
    ) -> Result<Response> {
        let pair = WebSocketPair::new()?;
        let token_tag = token_id.as_ref().map(|id| format!("token:{id}"));
        let mut tags = vec![TAG_DASHBOARD];
        tags.extend(token_tag.as_deref());
        self.state.accept_websocket_with_tags(&pair.server, &tags);
        pair.server.serialize_attachment(Attachment {
            role: Role::Dashboard,
            device_id: device_id.to_string(),
            access: Some(access),
            token_id,
            key_id: None,
            gone_announced: false,
        })?;
        let snapshot = HubToDashboard::Snapshot(Snapshot {
            device_id: device_id.to_string(),
            online: self.device_online(),
            last: self.load_json::<DashboardTelemetry>(KEY_LAST).await,
        });
        send_json(&pair.server, &snapshot);
        upgrade_response(pair.client, select_subprotocol)
    }

    async fn on_device_frame(
        &self,
        ws: &WebSocket,
        device_id: &DeviceId,
        frame: Inbound<'_>,
    ) -> Result<()> {
        let cursor = self.load_json::<SeqCursor>(KEY_CURSOR).await;
        match on_device_frame(device_id, frame, cursor, &now()) {
            DeviceOutcome::Samples(ingested) => {
                // Without the cursor saved nothing is acked: the device keeps the samples and resends.
                if let Some(last) = ingested.accepted.last()
                    && let Err(error) = self.save_samples(&ingested.cursor, last).await
                {
                    console_log!("storage write failed for {device_id}: {error}");
                    let refusal =
                        ErrorFrame::new(ErrorCode::Internal, "storage unavailable; resend later");
                    send_json(ws, &HubToDevice::Error(refusal));
                    return Ok(());
                }
                for sample in ingested.accepted {
                    self.broadcast(&HubToDashboard::Telemetry(sample));
                }
                send_json(ws, &HubToDevice::Ack(ingested.ack));
            }
            DeviceOutcome::CommandResult(result) => {
                self.broadcast(&HubToDashboard::CommandResult(result));
            }
            DeviceOutcome::Pong => {
                let _ = ws.send_with_str(PONG_TEXT);
            }
            DeviceOutcome::Refused(error) => send_json(ws, &HubToDevice::Error(error)),
            DeviceOutcome::TooBig => {
                let _ = ws.close(Some(CLOSE_MESSAGE_TOO_BIG), Some("message too big"));
            }
        }
        Ok(())
    }

    fn on_dashboard_frame(
        &self,
        ws: &WebSocket,
        device_id: &DeviceId,
        access: Access,
        frame: Inbound<'_>,
    ) {
        match on_dashboard_frame(device_id, frame, access, self.device_online()) {
            DashboardOutcome::Forward(command) => {
                let text = to_json(&HubToDevice::Command(command));
                for device in self.open_sockets(TAG_DEVICE) {
                    let _ = device.send_with_str(&text);
                }
            }
            DashboardOutcome::Reply(reply) => send_json(ws, &reply),
            DashboardOutcome::TooBig => {
                let _ = ws.close(Some(CLOSE_MESSAGE_TOO_BIG), Some("message too big"));
            }
        }
    }

    /// After a socket closed or failed: if it was the device and no newer device socket is open, it is offline.
    async fn on_socket_gone(&self, ws: &WebSocket, reason: PresenceReason) {
        let Ok(Some(attachment)) = ws.deserialize_attachment::<Attachment>() else {
            return;
        };
        if attachment.role != Role::Device {
            return;
        }
        self.mark_seen().await;
        if attachment.gone_announced || self.device_online() {
            return;
        }
        self.broadcast(&HubToDashboard::Presence(Presence {
            device_id: attachment.device_id,
            online: false,
            at: now(),
            reason,
        }));
    }

    /// Records when the hub last heard from the device; a failed write only loses this hint.
    async fn mark_seen(&self) {
        let _ = self.state.storage().put(KEY_SEEN, now()).await;
    }

    async fn save_samples(&self, cursor: &SeqCursor, last: &DashboardTelemetry) -> Result<()> {
        // A struct becomes a plain object with one property per key; the keys are written atomically.
        #[derive(Serialize)]
        struct Entries {
            cursor: String,
            last: String,
            seen: String,
        }
        let entries = Entries {
            cursor: to_json(cursor),
            last: to_json(last),
            seen: last.received_at.clone(),
        };
        self.state.storage().put_multiple(entries).await
    }

    /// Reads a value stored as JSON text; a missing or unreadable value is `None`.
    async fn load_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let text = self
            .state
            .storage()
            .get::<String>(key)
            .await
            .ok()
            .flatten()?;
        serde_json::from_str(&text).ok()
    }

    fn device_online(&self) -> bool {
        !self.open_sockets(TAG_DEVICE).is_empty()
    }

    /// Sockets with `tag` that are open; closing ones linger in the list until the peer answers.
    fn open_sockets(&self, tag: &str) -> Vec<WebSocket> {
        self.state
            .get_websockets_with_tag(tag)
            .into_iter()
            .filter(|ws| ws.as_ref().ready_state() == READY_STATE_OPEN)
            .collect()
    }

    /// Sends one message to every open dashboard; a failing socket never disturbs the others.
    fn broadcast(&self, message: &HubToDashboard) {
        let text = to_json(message);
        for socket in self.open_sockets(TAG_DASHBOARD) {
            let _ = socket.send_with_str(&text);
        }
    }
}

fn upgrade_response(client: WebSocket, select_subprotocol: bool) -> Result<Response> {
    let response = Response::from_websocket(client)?;
    if select_subprotocol {
        let headers = worker::Headers::new();
        headers.set(
            "Sec-WebSocket-Protocol",
            telemetry_protocol::limits::SUBPROTOCOL,
        )?;
        return Ok(response.with_headers(headers));
    }
    Ok(response)
}

fn send_json<T: Serialize>(ws: &WebSocket, message: &T) {
    if ws.send_with_str(to_json(message)).is_err() {
        console_log!("send failed: socket no longer open");
    }
}

fn to_json<T: Serialize>(message: &T) -> String {
    // Serialising these plain types cannot fail; an empty object keeps the wire well-formed if it ever did.
    serde_json::to_string(message).unwrap_or_else(|_| "{}".to_owned())
}

fn now() -> String {
    rfc3339_millis(Date::now().as_millis())
}
