//! The sockets a device object holds: who each one is (its attachment, which survives hibernation), which are
//! open, and sending to them.

use serde::{Deserialize, Serialize};
use telemetry_protocol::HubToDashboard;
use wasm_bindgen::prelude::*;
use worker::worker_sys::DurableObjectState;
use worker::{State, WebSocket, js_sys};

use crate::access::Access;
use crate::handoff::Role;
use crate::log_event::{LogEvent, emit};

/// Tag of the device's socket.
pub const TAG_DEVICE: &str = "device";
/// Tag of every dashboard socket.
pub const TAG_DASHBOARD: &str = "dashboard";
/// `WebSocket.readyState` of an open socket; closing ones are never counted or sent to.
const READY_STATE_OPEN: u16 = 1;
/// How stale a device socket's `last_frame_ms` may get before a frame refreshes it (saves re-serialising the
/// attachment on every frame; the presence check allows far more).
const LAST_FRAME_GRANULARITY_MS: u64 = 5_000;

/// Who a socket belongs to; kept as the socket's attachment so it survives hibernation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    /// Device or dashboard.
    pub role: Role,
    /// The device this socket is about.
    pub device_id: String,
    /// Dashboards: read or control.
    #[serde(default)]
    pub access: Option<Access>,
    /// Dashboards: the public id of the token that authenticated.
    #[serde(default)]
    pub token_id: Option<String>,
    /// Devices: which token authenticated (a prefix of its hash), so a rotation can close the old one's session.
    #[serde(default)]
    pub key_id: Option<String>,
    /// Set when the hub already told dashboards why this socket went away (revoked, timed out).
    #[serde(default)]
    pub gone_announced: bool,
    /// A random id of this socket, to keep its flood buckets apart from other sockets'.
    #[serde(default)]
    pub socket_id: u64,
    /// When the socket was accepted, Unix milliseconds.
    #[serde(default)]
    pub connected_ms: u64,
    /// Devices: when the last frame arrived (to [`LAST_FRAME_GRANULARITY_MS`]).
    #[serde(default)]
    pub last_frame_ms: u64,
    /// Devices: reported offline after falling silent; cleared by the next frame.
    #[serde(default)]
    pub timed_out: bool,
    /// Devices: asked for `stored` messages (`Telemetry-Ack: stored`).
    #[serde(default)]
    pub stored_acks: bool,
}

impl Attachment {
    /// Whether `last_frame_ms` is worth refreshing at `now_ms`.
    pub fn frame_time_is_stale(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.last_frame_ms) >= LAST_FRAME_GRANULARITY_MS
    }
}

/// A socket's attachment, if it has a readable one.
pub fn attachment(ws: &WebSocket) -> Option<Attachment> {
    ws.deserialize_attachment::<Attachment>().ok().flatten()
}

/// Sockets with `tag` that are open; closing ones linger in the list until the peer answers.
pub fn open_sockets(state: &State, tag: &str) -> Vec<WebSocket> {
    state
        .get_websockets_with_tag(tag)
        .into_iter()
        .filter(|ws| ws.as_ref().ready_state() == READY_STATE_OPEN)
        .collect()
}

/// Open device sockets that are not timed out: whether the device is online.
pub fn live_device_sockets(state: &State) -> Vec<WebSocket> {
    open_sockets(state, TAG_DEVICE)
        .into_iter()
        .filter(|ws| attachment(ws).is_none_or(|a| !a.timed_out))
        .collect()
}

/// Sends one message to every open dashboard; a failing socket never disturbs the others. The text crosses into
/// JavaScript once, not once per dashboard.
pub fn broadcast(state: &State, message: &HubToDashboard) {
    let sockets = open_sockets(state, TAG_DASHBOARD);
    if sockets.is_empty() {
        return;
    }
    let text = js_sys::JsString::from(to_json(message));
    for socket in sockets {
        let raw: &worker::worker_sys::web_sys::WebSocket = socket.as_ref();
        let _ = raw.unchecked_ref::<TextSocket>().send_text(&text);
    }
}

/// Sends `message` as JSON text; a socket that is gone is only logged.
pub fn send_json<T: Serialize>(ws: &WebSocket, message: &T) {
    if ws.send_with_str(to_json(message)).is_err() {
        emit(LogEvent::new("send_failed").reason("socket not open"));
    }
}

/// Serialises a wire message.
pub fn to_json<T: Serialize>(message: &T) -> String {
    // Serialising these plain types cannot fail; an empty object keeps the wire well-formed if it ever did.
    serde_json::to_string(message).unwrap_or_else(|_| "{}".to_owned())
}

#[wasm_bindgen]
extern "C" {
    /// A WebSocket seen through `send` with a JavaScript string, so one string serves every socket.
    #[wasm_bindgen(js_name = WebSocket)]
    type TextSocket;

    /// `send(text)`: one text frame.
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_text(this: &TextSocket, text: &js_sys::JsString) -> Result<(), JsValue>;

    /// The runtime's `DurableObjectState`, seen through the one method workers-rs 0.8.7 does not wrap.
    #[wasm_bindgen(js_name = DurableObjectState)]
    type AutoResponseState;

    /// `getWebSocketAutoResponseTimestamp(ws)`: when the runtime last auto-answered a ping on `ws` (a `Date`),
    /// or `null`.
    #[wasm_bindgen(method, catch, js_name = getWebSocketAutoResponseTimestamp)]
    fn get_websocket_auto_response_timestamp(
        this: &AutoResponseState,
        ws: &worker::worker_sys::web_sys::WebSocket,
    ) -> Result<JsValue, JsValue>;
}

/// When the runtime last answered `{"type":"ping"}` on `ws` without waking the object, Unix milliseconds.
pub fn auto_pong_ms(state: &State, ws: &WebSocket) -> Option<u64> {
    let raw: &DurableObjectState = state.as_raw();
    let value = raw
        .unchecked_ref::<AutoResponseState>()
        .get_websocket_auto_response_timestamp(ws.as_ref())
        .ok()?;
    let date = value.dyn_into::<js_sys::Date>().ok()?;
    let millis = date.get_time();
    (millis.is_finite() && millis > 0.0).then_some(millis as u64)
}
