//! Commands from dashboards to devices, and their results.

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
