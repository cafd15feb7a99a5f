//! Bodies of the dashboard's HTTP API under `/api/` (authenticated with a dashboard token). The history answer
//! is [`crate::HistoryResponse`]; a refusal carries an [`crate::ErrorBody`].

use serde::{Deserialize, Serialize};

use crate::Access;

/// 200 answer to `GET /api/devices`: `{"devices":[…],"access":…}`, the device ids the presented dashboard token
/// can watch, for the dashboard's device picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    /// The covered device ids: the token's list as stored, or for a `*` token every device (ordered by id, at
    /// most [`crate::limits::MAX_API_DEVICE_LIST`]).
    pub devices: Vec<String>,
    /// What the token may do on them.
    pub access: Access,
}
