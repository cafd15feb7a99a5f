//! Messages between a device (the edge agent or any Pi script) and the hub.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::command::{Command, CommandResult};
use crate::error_frame::ErrorFrame;

/// One measurement as the device sends it.
///
/// `seq` counts up within `epoch`; `epoch` is a string the agent picks when its sample store is created, so a
/// wiped device that starts again at 1 is not mistaken for a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Telemetry {
    /// Names the device's sample store generation; `seq` restarts with a new epoch.
    pub epoch: String,
    /// Position of the sample within `epoch`, starting at 1.
    pub seq: u64,
    /// When the sample was taken, RFC 3339.
    pub ts: String,
    /// The measured values: any JSON object, e.g. `{"battery":{"voltage":53.2,"soc":85}}`.
    pub data: Map<String, Value>,
    /// Optional; if present it must equal the authenticated device id, or the message is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

/// A typed message from a device to the hub, tagged by `type`.
///
/// A JSON object *without* `type` is also accepted as telemetry (the legacy flat payload); see
/// [`crate::frame::parse_device_frame`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeviceMessage {
    /// One sample.
    Telemetry(Telemetry),
    /// Samples buffered while offline, oldest first, at most [`crate::limits::MAX_BATCH_ITEMS`].
    Batch(Batch),
    /// The outcome of a command the hub relayed to the device.
    CommandResult(CommandResult),
}

/// `{"type":"batch","items":[..]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The samples, oldest first. Each item may also carry `"type":"telemetry"`, which is ignored.
    pub items: Vec<Telemetry>,
}

/// A message from the hub to a device, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubToDevice {
    /// Sent after each accepted telemetry or batch message.
    Ack(Ack),
    /// A command from a dashboard, relayed as sent.
    Command(Command),
    /// The device's last message was refused.
    Error(ErrorFrame),
    /// Extension: the answer to `{"type":"ping"}` ([`crate::limits::PONG_TEXT`]).
    Pong,
    /// Extension, only to a device that asked for it (see [`crate::history::STORED_ACK_HEADER`]): these samples
    /// are in the hub's history, so the device may delete them.
    Stored(Stored),
}

/// `{"type":"ack","seq":N,"epoch":".."}`: every sample of `epoch` up to `seq` is safe at the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Highest seq the hub holds for the current epoch.
    pub seq: u64,
    /// Extension: the epoch `seq` belongs to, so an agent can ignore an ack for a previous epoch.
    /// Absent only when the hub has no epoch yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
}

/// `{"type":"stored","epoch":"..","from":A,"to":B}`: every sample of `epoch` with `from <= seq <= to` is written to
/// the hub's history. Sent after each group the hub writes (one message per contiguous run of seqs), and at once
/// when the device resends a sample the hub already stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// The epoch the seqs belong to.
    pub epoch: String,
    /// First stored seq of the run.
    pub from: u64,
    /// Last stored seq of the run (inclusive).
    pub to: u64,
}
