//! Wire types shared by the hub, the edge agent, the CLI, the dashboard and the tests.
//!
//! Every message that crosses a socket is a type here: the WebSocket messages (JSON text frames tagged by
//! `type`), and the bodies of the HTTP APIs (`admin` under `/admin/`, `api` and `history` under `/api/`, the
//! `ErrorBody` of every refusal). `golden/` holds one committed example per message and `tests/golden.rs` fails
//! when serialisation drifts.

pub mod access;
pub mod admin;
pub mod api;
pub mod command;
pub mod dashboard;
pub mod device;
pub mod device_id;
pub mod error_body;
pub mod error_frame;
pub mod frame;
pub mod history;
pub mod limits;
pub mod storage_meter;
pub mod token;
pub mod token_id;

pub use access::{Access, UnknownAccess};
pub use api::DeviceList;
pub use command::{
    CancelCommand, Command, CommandResult, CommandState, CommandStatus, DashboardCommand,
};
pub use dashboard::{
    DashboardMessage, DashboardTelemetry, HubToDashboard, Presence, PresenceReason, Snapshot,
};
pub use device::{Ack, Batch, DeviceMessage, HubToDevice, Stored, Telemetry};
pub use device_id::{DeviceId, InvalidDeviceId, MAX_DEVICE_ID_LEN};
pub use error_body::{ErrorBody, HttpErrorCode};
pub use error_frame::{ErrorCode, ErrorFrame};
pub use frame::{DeviceFrame, parse_dashboard_frame, parse_device_frame};
pub use history::{HistoryBucket, HistoryResponse, HistorySample};
pub use storage_meter::StorageMeter;
pub use token::{
    TokenFormatError, TokenKind, check_token_format, check_token_of_kind, generate_token,
};
pub use token_id::{InvalidTokenId, TokenId};
