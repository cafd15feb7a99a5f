//! Wire types shared by the hub, the edge agent, the CLI and the tests.
//!
//! Every message that crosses a socket is a type here. Messages are JSON text frames tagged by `type`;
//! `golden/` holds one committed example per message and `tests/golden.rs` fails when serialisation drifts.

pub mod command;
pub mod dashboard;
pub mod device;
pub mod device_id;
pub mod error_frame;
pub mod frame;
pub mod history;
pub mod limits;
pub mod token;

pub use command::{Command, CommandResult};
pub use dashboard::{
    DashboardMessage, DashboardTelemetry, HubToDashboard, Presence, PresenceReason, Snapshot,
};
pub use device::{Ack, Batch, DeviceMessage, HubToDevice, Stored, Telemetry};
pub use device_id::{DeviceId, InvalidDeviceId, MAX_DEVICE_ID_LEN};
pub use error_frame::{ErrorCode, ErrorFrame};
pub use frame::{DeviceFrame, parse_dashboard_frame, parse_device_frame};
pub use history::{HistoryBucket, HistoryResponse, HistorySample};
pub use token::{
    TokenFormatError, TokenKind, check_token_format, check_token_of_kind, generate_token,
};
