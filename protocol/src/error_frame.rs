//! The `error` frame the hub sends to a client whose message it refused.

use serde::{Deserialize, Serialize};

/// Why a message was refused. Serialised in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The text frame is not valid JSON.
    InvalidJson,
    /// The JSON is valid but not an object.
    NotAnObject,
    /// Binary frames are not part of the protocol.
    BinaryNotSupported,
    /// The `type` field names no message this endpoint knows.
    UnknownType,
    /// A known message with missing or ill-typed fields.
    InvalidMessage,
    /// A message the sender's role may not send (telemetry from a dashboard, a command from a device).
    WrongDirection,
    /// A `batch` with more than [`crate::limits::MAX_BATCH_ITEMS`] items.
    BatchTooLarge,
    /// A payload names a `device_id` other than the authenticated one.
    DeviceIdMismatch,
    /// A command from a dashboard whose token only has read access.
    ReadOnly,
    /// The hub failed to handle a valid message; the client may retry.
    Internal,
    /// Extension: the sender went past one of the hub's flood limits (frames or bytes per second, commands per
    /// minute); the hub closes the socket with [`crate::limits::CLOSE_POLICY_VIOLATION`] right after this frame.
    RateLimited,
    /// Extension: the device already has as many dashboards as the hub allows; the new dashboard's socket is
    /// closed with [`crate::limits::CLOSE_POLICY_VIOLATION`] right after this frame.
    TooManyDashboards,
    /// Extension: a `cancel_command` names no command that is queued (unknown, already sent, or finished);
    /// nothing changed.
    NotQueued,
}

/// `{"type":"error","code":..,"message":..}`: sent to the one client whose message was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorFrame {
    /// Machine-readable reason.
    pub code: ErrorCode,
    /// Human-readable detail. Never echoes a credential.
    pub message: String,
}

impl ErrorFrame {
    /// Builds an error frame.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
