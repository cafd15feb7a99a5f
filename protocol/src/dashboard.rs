//! Messages between a dashboard (a browser or any watcher) and the hub.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::command::{CancelCommand, CommandResult, CommandStatus, DashboardCommand};
use crate::error_frame::ErrorFrame;

/// A sample as dashboards see it: the device's sample plus the authenticated id and the hub's receive time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardTelemetry {
    /// The authenticated device id (never taken from the payload).
    pub device_id: String,
    /// Extension: the device's epoch; `seq` restarts when it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    /// The sample's position within its epoch.
    pub seq: u64,
    /// When the device took the sample, RFC 3339.
    pub ts: String,
    /// When the hub accepted it, RFC 3339 with milliseconds, UTC.
    pub received_at: String,
    /// The measured values.
    pub data: Map<String, Value>,
}

/// Why a device's presence changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceReason {
    /// The device connected while none was connected.
    Connected,
    /// A new connection of the device replaced an older one (it stays online).
    Replaced,
    /// The device's socket closed.
    Disconnected,
    /// The device's socket failed.
    Error,
    /// The device's credential was revoked and its socket closed.
    Revoked,
    /// Extension: the device's socket stayed open but the device fell silent (no frame and no ping) for longer
    /// than the hub's silence limit; commands to it fail at once until it is heard from again.
    Timeout,
}

/// A message from the hub to a dashboard, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubToDashboard {
    /// Sent at once on connect: presence and the last sample (kept in Durable Object storage).
    Snapshot(Snapshot),
    /// Every accepted sample, as it is accepted.
    Telemetry(DashboardTelemetry),
    /// The device came online or went offline.
    Presence(Presence),
    /// The outcome of a command (from the device, or `device offline`, `expired`, `cancelled`, `queue full`,
    /// `duplicate id` from the hub).
    CommandResult(CommandResult),
    /// Extension: a queued command changed state.
    CommandStatus(CommandStatus),
    /// Answer to `{"type":"ping"}`.
    Pong,
    /// The dashboard's last message was refused.
    Error(ErrorFrame),
}

/// `{"type":"snapshot","device_id":..,"online":bool,"last":<sample or null>}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The device this dashboard watches.
    pub device_id: String,
    /// Whether the device is connected now.
    pub online: bool,
    /// The last accepted sample, or `null` if the device never sent one.
    pub last: Option<DashboardTelemetry>,
    /// Extension: the device's queued and sent commands, oldest first, then the finished ones the hub keeps;
    /// omitted when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<CommandStatus>,
}

/// `{"type":"presence","device_id":..,"online":bool,"at":<RFC 3339>,"reason":..}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    /// The device whose presence changed.
    pub device_id: String,
    /// Whether it is connected now.
    pub online: bool,
    /// When the hub saw the change, RFC 3339.
    pub at: String,
    /// What happened.
    pub reason: PresenceReason,
}

/// A message from a dashboard to the hub, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DashboardMessage {
    /// A command for the device (control-scoped tokens only); with `ttl_s` (extension) it is queued.
    Command(DashboardCommand),
    /// Extension: cancels a queued command (control-scoped tokens only).
    CancelCommand(CancelCommand),
    /// Keep-alive; answered with `{"type":"pong"}`.
    Ping,
}

/// Builds a JSON object from `(key, value)` pairs; handy for `data` and `args`.
pub fn object<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
