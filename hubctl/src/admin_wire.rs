//! The admin API's bodies (the types of [`telemetry_protocol::admin`]) as the client uses them: requests built
//! from validated values, and answers checked (tokens well-formed, ids and hashes as asked) before they are
//! handed back. Pure.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use telemetry_protocol::DeviceId;
use telemetry_protocol::admin::{
    CreateDashboardTokenRequest, CreatedDashboardToken, CreatedDevice, RotateDeviceRequest,
    RotatedDevice as RotationAnswer,
};
use telemetry_protocol::token::{TokenKind, check_token_of_kind};

use crate::api_error::AdminApiError;
use crate::grace::MAX_GRACE;
use crate::scope::{Access, DashboardScope, Label};
use crate::{HubctlError, ProvisionedDashboardToken, ProvisionedDevice};

/// A device's new token after a rotation.
#[derive(Clone, PartialEq, Eq)]
pub struct RotatedDevice {
    /// The new bearer token (`tdev_…`); show it once, never store or log it.
    pub token: String,
    /// Until when the old token still works (RFC 3339), or `None` when it stopped at once.
    pub previous_token_valid_until: Option<String>,
}

/// One page of `GET /admin/devices`, its rows passed through as the hub wrote them (older hubs leave fields
/// out that [`telemetry_protocol::admin::DeviceSummary`] requires).
#[derive(Deserialize)]
pub(crate) struct DevicePage {
    /// The devices on this page.
    pub devices: Vec<Value>,
    /// The last id of this page when more follow.
    pub next_after: Option<String>,
}

/// The answer to `GET /admin/dashboard-tokens`, its rows passed through like [`DevicePage`]'s.
#[derive(Deserialize)]
pub(crate) struct DashboardTokenList {
    /// Every dashboard token, without the tokens.
    pub dashboard_tokens: Vec<Value>,
}

/// `{"grace_seconds":N,"token_sha256":…}`: whole seconds, at most 30 days. The new token is made here and only
/// its hash is sent, so the hub never sees it and repeating the request after a lost answer changes nothing.
pub(crate) fn rotate_body(
    grace: Duration,
    new_token_sha256: &str,
) -> Result<RotateDeviceRequest, HubctlError> {
    if grace > MAX_GRACE {
        return Err(HubctlError::InvalidGrace(
            "it is longer than 30 days (720h)",
        ));
    }
    Ok(RotateDeviceRequest {
        grace_seconds: grace.as_secs(),
        token_sha256: Some(new_token_sha256.to_owned()),
    })
}

/// `{"devices":"*"|[ids],"access":…,"label":…}`, validated as the Worker will.
pub(crate) fn dashboard_token_body(
    scope: &DashboardScope,
    access: Access,
    label: Option<&str>,
) -> Result<CreateDashboardTokenRequest, HubctlError> {
    let devices = scope.to_wire()?;
    let label = label.map(Label::parse).transpose()?;
    let label = label.map(|l| l.as_str().to_owned());
    Ok(CreateDashboardTokenRequest {
        devices,
        access,
        label,
    })
}

/// The device asked for, with its checked token.
pub(crate) fn created_device(
    created: CreatedDevice,
    id: &DeviceId,
) -> Result<ProvisionedDevice, HubctlError> {
    if &created.device_id != id {
        return Err(unexpected("the answer names another device"));
    }
    checked(&created.token, TokenKind::Device)?;
    Ok(ProvisionedDevice {
        device_id: id.clone(),
        token: created.token,
    })
}

/// The token and its id (checked as it was decoded), with the token checked.
pub(crate) fn created_dashboard_token(
    created: CreatedDashboardToken,
) -> Result<ProvisionedDashboardToken, HubctlError> {
    checked(&created.token, TokenKind::Dashboard)?;
    Ok(ProvisionedDashboardToken {
        token_id: created.token_id.into(),
        token: created.token,
    })
}

/// The rotation to `token`, if the hub confirms it took that token's hash.
pub(crate) fn rotated_to(
    answer: RotationAnswer,
    token: String,
    sent_sha256: &str,
) -> Result<RotatedDevice, HubctlError> {
    if answer.token_sha256.as_deref() != Some(sent_sha256) {
        return Err(unexpected(
            "the hub did not confirm the new token's hash (is it older than this hubctl?)",
        ));
    }
    checked(&token, TokenKind::Device)?;
    Ok(RotatedDevice {
        token,
        previous_token_valid_until: answer.previous_token_valid_until,
    })
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

/// The `after` of the next page; it must move forward, so a confused hub cannot make the listing loop.
pub(crate) fn next_page(after: Option<&DeviceId>, next: &str) -> Result<DeviceId, HubctlError> {
    let next = DeviceId::parse(next).map_err(|_| unexpected("next_after is not a device id"))?;
    if after.is_some_and(|previous| previous.as_str() >= next.as_str()) {
        return Err(unexpected("the device list does not advance"));
    }
    Ok(next)
}

/// Fails unless `token` is a well-formed token of `kind` (the message never holds it).
fn checked(token: &str, kind: TokenKind) -> Result<(), HubctlError> {
    check_token_of_kind(token, kind)
        .map_err(|error| unexpected(&format!("the new token is malformed: {error}")))
}

/// A successful answer with the wrong content.
fn unexpected(detail: &str) -> HubctlError {
    AdminApiError::Unexpected {
        status: 200,
        detail: detail.to_owned(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use telemetry_protocol::generate_token;

    fn id(raw: &str) -> DeviceId {
        DeviceId::parse(raw).expect("valid")
    }

    fn json_of(body: &impl serde::Serialize) -> Value {
        serde_json::to_value(body).expect("JSON")
    }

    #[test]
    fn bodies_mirror_the_worker_contract() {
        let hash = "ab".repeat(32);
        let grace = json_of(&rotate_body(Duration::from_secs(600), &hash).expect("valid"));
        assert_eq!(grace, json!({"grace_seconds": 600, "token_sha256": hash}));
        assert!(rotate_body(MAX_GRACE + Duration::from_secs(1), &hash).is_err());
        let scope = DashboardScope::parse("a,b").expect("scope");
        let body = dashboard_token_body(&scope, Access::Control, Some("ops")).expect("valid");
        assert_eq!(
            json_of(&body),
            json!({"devices": ["a", "b"], "access": "control", "label": "ops"})
        );
        let all = dashboard_token_body(&DashboardScope::All, Access::Read, None).expect("valid");
        assert_eq!(
            json_of(&all),
            json!({"devices": "*", "access": "read", "label": null})
        );
        let empty = DashboardScope::Devices(Vec::new());
        assert!(dashboard_token_body(&empty, Access::Read, None).is_err());
        assert!(dashboard_token_body(&scope, Access::Read, Some("a\nb")).is_err());
    }

    #[test]
    fn answers_are_checked_before_they_are_handed_back() {
        let token = generate_token(TokenKind::Device, |b| b.fill(1));
        let created = |device_id: &str, token: &str| CreatedDevice {
            device_id: id(device_id),
            token: token.into(),
        };
        let device = created_device(created("a", &token), &id("a")).expect("valid");
        assert_eq!(device.token, token);
        assert!(created_device(created("b", &token), &id("a")).is_err());
        let shown = created_device(created("a", "tdev_short"), &id("a"))
            .expect_err("malformed")
            .to_string();
        assert!(shown.contains("the new token is malformed"), "{shown}");
        let wrong_kind = json!({"token_id": "dt_0123456789ab", "token": token,
            "devices": "*", "access": "read", "label": null});
        let wrong_kind = serde_json::from_value(wrong_kind).expect("decodes");
        assert!(created_dashboard_token(wrong_kind).is_err());
        let bad_id = json!({"token_id": "x", "token": generate_token(TokenKind::Dashboard, |b| b.fill(1)),
            "devices": "*", "access": "read", "label": null});
        assert!(serde_json::from_value::<CreatedDashboardToken>(bad_id).is_err());
    }

    #[test]
    fn pages_must_advance() {
        assert_eq!(next_page(None, "b").expect("first"), id("b"));
        assert_eq!(next_page(Some(&id("a")), "b").expect("forward"), id("b"));
        assert!(next_page(Some(&id("b")), "b").is_err());
        assert!(next_page(Some(&id("c")), "b").is_err());
        assert!(next_page(None, "not an id").is_err());
    }

    #[test]
    fn debug_output_never_shows_the_new_token() {
        let rotated = RotatedDevice {
            token: "tdev_secret".into(),
            previous_token_valid_until: None,
        };
        assert!(!format!("{rotated:?}").contains("secret"));
    }
}
