//! Bodies of the admin API under `/admin/` (authenticated with an admin token): devices and dashboard tokens.
//!
//! Requests are what hubctl (or any client) sends; answers are what the Worker serialises. A refusal carries an
//! [`crate::ErrorBody`] instead. Answers that hold a new token redact it from `Debug`.

pub mod dashboard_token;
pub mod device;

pub use dashboard_token::{
    CreateDashboardTokenRequest, CreatedDashboardToken, DashboardTokenList, DashboardTokenRow,
    DeviceScope, RevokedDashboardToken,
};
pub use device::{
    CreateDeviceRequest, CreatedDevice, DevicePage, DeviceSummary, RotateDeviceRequest,
    RotatedDevice,
};
