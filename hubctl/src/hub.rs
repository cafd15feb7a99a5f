//! The one transport abstraction: a [`Hub`] is either the admin API ([`crate::AdminClient`]) or the D1 database
//! through wrangler ([`crate::Wrangler`]). Commands are written once against it; what wrangler cannot do says
//! that it needs the admin API.

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use serde_json::Value;
use telemetry_protocol::DeviceId;

use crate::HubctlError;
use crate::scope::{Access, DashboardScope};

pub use telemetry_protocol::admin::RevokedDashboardToken;

/// Most devices one `device create` may insert (one statement, well under D1's statement size limit).
pub const MAX_DEVICES_PER_BATCH: usize = 100;

/// A device's new token after a rotation.
#[derive(Clone, PartialEq, Eq)]
pub struct RotatedDevice {
    /// The new bearer token (`tdev_…`); show it once, never store or log it.
    pub token: String,
    /// Until when the old token still works (RFC 3339), or `None` when it stopped at once.
    pub previous_token_valid_until: Option<String>,
}

/// Checks a batch of ids for `device create`: not empty, not too many, no repeats.
pub fn check_device_batch(ids: &[DeviceId]) -> Result<(), HubctlError> {
    if ids.is_empty() {
        return Err(HubctlError::NoDevices);
    }
    if ids.len() > MAX_DEVICES_PER_BATCH {
        return Err(HubctlError::TooManyDevices {
            max: MAX_DEVICES_PER_BATCH,
            given: ids.len(),
        });
    }
    let mut seen = HashSet::new();
    match ids.iter().find(|id| !seen.insert(*id)) {
        Some(repeated) => Err(HubctlError::DuplicateDeviceId(repeated.clone())),
        None => Ok(()),
    }
}

impl fmt::Debug for RotatedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let until = &self.previous_token_valid_until;
        write!(
            f,
            "RotatedDevice {{ token: <redacted>, previous_token_valid_until: {until:?} }}"
        )
    }
}

/// A device that was just created, with its token: the only time the token exists outside the device.
#[derive(Clone, PartialEq, Eq)]
pub struct ProvisionedDevice {
    /// The new device's id.
    pub device_id: DeviceId,
    /// Its bearer token (`tdev_…`); show it once, never store or log it.
    pub token: String,
}

/// A dashboard token that was just created.
#[derive(Clone, PartialEq, Eq)]
pub struct ProvisionedDashboardToken {
    /// Public id (`dt_…`) that names the token without revealing it.
    pub token_id: String,
    /// The bearer token (`tdash_…`); show it once, never store or log it.
    pub token: String,
}

/// The devices a batch created, each with its token, and why it stopped early if it did.
pub struct CreatedDevices {
    /// Every device created (all of them unless `stopped`).
    pub devices: Vec<ProvisionedDevice>,
    /// Why the batch stopped after `devices` (never holds a token): the rest were not created.
    pub stopped: Option<HubctlError>,
}

/// What hubctl asks of a hub. Operations only the admin API offers fail elsewhere with
/// [`Hub::admin_api_only`].
pub trait Hub {
    /// The error for an operation only the admin API offers.
    fn admin_api_only(&self) -> HubctlError {
        HubctlError::NeedsHub("this command")
    }

    /// Creates every device in `ids`, each with a new token.
    fn create_devices(&self, ids: &[DeviceId]) -> Result<CreatedDevices, HubctlError>;

    /// Creates a dashboard token for `scope` with `access` and an optional `label`.
    fn create_dashboard_token(
        &self,
        scope: &DashboardScope,
        access: Access,
        label: Option<&str>,
    ) -> Result<ProvisionedDashboardToken, HubctlError>;

    /// Every device, in id order (`{device_id, created_at, online, last_seen, …}`).
    fn list_devices(&self) -> Result<Vec<Value>, HubctlError> {
        Err(self.admin_api_only())
    }

    /// One device, as [`Hub::list_devices`] lists it and more.
    fn show_device(&self, _id: &DeviceId) -> Result<Value, HubctlError> {
        Err(self.admin_api_only())
    }

    /// Gives device `id` a new token; the old one keeps working for `grace` (at most 30 days).
    fn rotate_device(
        &self,
        _id: &DeviceId,
        _grace: Duration,
    ) -> Result<RotatedDevice, HubctlError> {
        Err(self.admin_api_only())
    }

    /// Disables device `id` (its token is refused, a live connection closed) or enables it again.
    fn set_disabled(&self, _id: &DeviceId, _disabled: bool) -> Result<Value, HubctlError> {
        Err(self.admin_api_only())
    }

    /// Every dashboard token (`{token_id, devices, access, label, created_at, revoked_at}`; never the token).
    fn list_dashboard_tokens(&self) -> Result<Vec<Value>, HubctlError> {
        Err(self.admin_api_only())
    }

    /// Revokes dashboard token `token_id` and closes the dashboards connected with it (idempotent).
    fn revoke_dashboard_token(
        &self,
        _token_id: &str,
    ) -> Result<RevokedDashboardToken, HubctlError> {
        Err(self.admin_api_only())
    }
}

impl fmt::Debug for ProvisionedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let device_id = &self.device_id;
        write!(
            f,
            "ProvisionedDevice {{ device_id: {device_id}, token: <redacted> }}"
        )
    }
}

impl fmt::Debug for ProvisionedDashboardToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token_id = &self.token_id;
        write!(
            f,
            "ProvisionedDashboardToken {{ token_id: {token_id}, token: <redacted> }}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(raw: &str) -> DeviceId {
        DeviceId::parse(raw).expect("valid id")
    }

    #[test]
    fn batches_must_be_non_empty_bounded_and_without_repeats() {
        assert!(matches!(
            check_device_batch(&[]),
            Err(HubctlError::NoDevices)
        ));
        assert!(matches!(
            check_device_batch(&[device("a"), device("b"), device("a")]),
            Err(HubctlError::DuplicateDeviceId(d)) if d.as_str() == "a"
        ));
        let many: Vec<DeviceId> = (0..=MAX_DEVICES_PER_BATCH)
            .map(|i| device(&format!("d{i}")))
            .collect();
        assert!(matches!(
            check_device_batch(&many),
            Err(HubctlError::TooManyDevices { given: 101, .. })
        ));
        assert!(check_device_batch(&many[..MAX_DEVICES_PER_BATCH]).is_ok());
    }

    #[test]
    fn debug_output_never_shows_tokens() {
        let device = ProvisionedDevice {
            device_id: DeviceId::parse("ems_001").expect("valid"),
            token: "tdev_secret".into(),
        };
        let dashboard = ProvisionedDashboardToken {
            token_id: "dt_0123456789ab".into(),
            token: "tdash_secret".into(),
        };
        assert_eq!(
            format!("{device:?} {dashboard:?}"),
            "ProvisionedDevice { device_id: ems_001, token: <redacted> } \
             ProvisionedDashboardToken { token_id: dt_0123456789ab, token: <redacted> }"
        );
    }
}
