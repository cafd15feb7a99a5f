//! Admin API bodies about devices: create, list, show, rotate, disable and enable.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DeviceId;
use crate::device_counters::DeviceCounters;
use crate::storage_meter::StorageMeter;

/// `POST /admin/devices`: `{"device_id":…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDeviceRequest {
    /// The new device's id.
    pub device_id: DeviceId,
}

/// 201 answer to `POST /admin/devices`: `{"device_id":…,"token":…}`. The only time the hub shows the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedDevice {
    /// The id asked for.
    pub device_id: DeviceId,
    /// The device's bearer token (`tdev_…`); show it once, never store or log it.
    pub token: String,
}

/// One device as `GET /admin/devices`, `GET /admin/devices/{id}`, `…/disable` and `…/enable` answer it: its D1 row
/// merged with what its Durable Object knows (an unreachable object reads as offline). Absent values are `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSummary {
    /// The device id, as stored.
    pub device_id: String,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
    /// When it was disabled, or `null` while it may connect.
    pub disabled_at: Option<String>,
    /// Until when the previous token still works after a rotation, or `null` when no grace period is open.
    pub previous_token_valid_until: Option<String>,
    /// Whether the device is connected now.
    pub online: bool,
    /// When the hub last heard from it (connect, sample or disconnect), or `null`.
    pub last_seen: Option<String>,
    /// Highest seq accepted in the current epoch, or `null`.
    pub last_seq: Option<u64>,
    /// Extension: a credential change (rotate, disable, enable) committed in D1 that the device's Durable Object
    /// has not confirmed yet; the hub retries every minute until it has.
    pub sync_pending: bool,
    /// Extension: what the device's Durable Object wrote and read since it last started (rows as billed, history
    /// groups and samples written, alarms set, database size). Omitted by hubs without history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageMeter>,
    /// Extension: what the device's Durable Object counted since `counters.since` (connections, frames, bytes,
    /// samples, refusals by code, dashboards, commands, closes by code, storage rows); totals that survive the
    /// object's restarts. Omitted by hubs that do not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counters: Option<DeviceCounters>,
}

/// 200 answer to `GET /admin/devices?after=<id>`: a page of devices ordered by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePage {
    /// At most [`crate::limits::ADMIN_DEVICE_PAGE_SIZE`] devices with ids after `after`.
    pub devices: Vec<DeviceSummary>,
    /// The last id of this page when the page is full (more may follow: ask again with `after=<it>`), else `null`.
    pub next_after: Option<String>,
}

/// `POST /admin/devices/{id}/rotate`: `{"grace_seconds":N,"token_sha256":…}`; an empty body or `{}` rotates at
/// once to a token the hub makes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotateDeviceRequest {
    /// How long the old token keeps working, in whole seconds, at most
    /// [`crate::limits::MAX_GRACE_SECONDS`]; absent is 0 (the hub reads `null` as 0 too).
    #[serde(default)]
    pub grace_seconds: u64,
    /// Extension: the lowercase hex SHA-256 of a new token the client generated itself. The hub then never sees
    /// the token, and repeating the request is safe: a rotation to the hash the device already has changes
    /// nothing. Omitted: the hub makes the token and answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_sha256: Option<String>,
}

/// 200 answer to a rotation: `{"device_id":…,"previous_token_valid_until":…,"sync_pending":…}` and either
/// `"token"` (the hub made it) or `"token_sha256"` (the client sent it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotatedDevice {
    /// The rotated device.
    pub device_id: DeviceId,
    /// Until when the old token still works (RFC 3339), or `null` when it stopped at once.
    pub previous_token_valid_until: Option<String>,
    /// The device's Durable Object has not confirmed the change yet; the hub retries every minute.
    pub sync_pending: bool,
    /// The new bearer token (`tdev_…`) when the hub made it; show it once. Omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The hash the device now has, when the request sent one. Omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_sha256: Option<String>,
}

impl fmt::Debug for CreatedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedDevice")
            .field("device_id", &self.device_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl fmt::Debug for RotatedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatedDevice")
            .field("device_id", &self.device_id)
            .field(
                "previous_token_valid_until",
                &self.previous_token_valid_until,
            )
            .field("sync_pending", &self.sync_pending)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_sha256", &self.token_sha256)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_body_may_be_empty_and_omits_what_it_lacks() {
        let empty: RotateDeviceRequest = serde_json::from_str("{}").expect("json");
        assert_eq!(empty, RotateDeviceRequest::default());
        let text = serde_json::to_string(&RotateDeviceRequest {
            grace_seconds: 600,
            token_sha256: None,
        })
        .expect("json");
        assert_eq!(text, r#"{"grace_seconds":600}"#);
    }

    #[test]
    fn debug_output_never_shows_a_new_token() {
        let created = CreatedDevice {
            device_id: DeviceId::parse("a").expect("valid"),
            token: "tdev_secret".into(),
        };
        let rotated = RotatedDevice {
            device_id: created.device_id.clone(),
            previous_token_valid_until: None,
            sync_pending: false,
            token: Some("tdev_secret".into()),
            token_sha256: None,
        };
        assert!(!format!("{created:?}{rotated:?}").contains("secret"));
    }
}
