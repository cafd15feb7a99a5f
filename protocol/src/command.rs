//! Commands from dashboards to devices, their results, and (extension) the states of queued commands.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `{"type":"command","id":..,"name":..,"args":{..}}`: sent by a control-scoped dashboard, relayed to the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// Chosen by the dashboard to match the result; 1 to 128 characters.
    pub id: String,
    /// What to do, e.g. `set_interval`; the device decides what it allows.
    pub name: String,
    /// Arguments of the command; `{}` when absent.
    #[serde(default)]
    pub args: Map<String, Value>,
}

/// A command as a dashboard sends it: the [`Command`] the device gets, and (extension) a time to live.
///
/// With `ttl_s` the hub queues the command for the device (see [`CommandStatus`]) instead of answering
/// `device offline`; without it the command behaves as it always did. The device never sees `ttl_s`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardCommand {
    /// The command itself: `id`, `name`, `args`.
    #[serde(flatten)]
    pub command: Command,
    /// Extension: seconds the command may wait in the device's queue, 1 to
    /// [`crate::limits::MAX_COMMAND_TTL_SECS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_s: Option<u32>,
}

impl From<Command> for DashboardCommand {
    fn from(command: Command) -> Self {
        Self {
            command,
            ttl_s: None,
        }
    }
}

/// Extension: `{"type":"cancel_command","id":..}`: a control-scoped dashboard withdraws a queued command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelCommand {
    /// The `id` of the queued command.
    pub id: String,
}

/// Extension: where a queued command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
    /// Stored, waiting for the device.
    Queued,
    /// Relayed to the device, no result yet.
    Sent,
    /// The device answered; its `command_result` was relayed.
    Done,
    /// Its time to live passed before a result came.
    Expired,
    /// A dashboard cancelled it while it was queued.
    Cancelled,
}

impl CommandState {
    /// Whether the command waits for the device or its answer (`queued` or `sent`).
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Queued | Self::Sent)
    }

    /// The state as the wire spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Done => "done",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// The state the wire spelling names.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Sent,
            Self::Done,
            Self::Expired,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// Extension: `{"type":"command_status","device_id":..,"id":..,"name":..,"state":..,"queued_at":..,
/// "expires_at":..}`: a queued command changed state; also the items of a snapshot's `commands`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandStatus {
    /// The device the command is for.
    pub device_id: String,
    /// The command's `id`.
    pub id: String,
    /// The command's `name`.
    pub name: String,
    /// Where it is now.
    pub state: CommandState,
    /// When the hub queued it, RFC 3339 with milliseconds, UTC.
    pub queued_at: String,
    /// When its time to live ends, RFC 3339 with milliseconds, UTC.
    pub expires_at: String,
}

/// `{"type":"command_result","id":..,"ok":bool,"detail":..}`: the outcome of a command.
///
/// The device sends it to the hub; the hub forwards it to every dashboard of the device, adding `device_id`.
/// The hub itself answers `ok: false` with detail `device offline` when no device is connected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandResult {
    /// The `id` of the command this answers.
    pub id: String,
    /// Whether the command was carried out.
    pub ok: bool,
    /// A reason or a result: any JSON value, usually a string.
    #[serde(default)]
    pub detail: Value,
    /// Set by the hub on the way to dashboards; ignored from devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}
