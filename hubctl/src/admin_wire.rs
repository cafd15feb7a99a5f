//! The admin API's request and answer bodies as the client sees them: bodies built from validated values, and
//! answers decoded and checked (tokens well-formed, ids as asked) before they are handed back. Pure.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use telemetry_protocol::DeviceId;
use telemetry_protocol::token::{TokenKind, check_token_of_kind};

use crate::api_error::AdminApiError;
use crate::credential::TokenId;
use crate::grace::MAX_GRACE;
use crate::scope::{Access, DashboardScope, Label};
use crate::{HubctlError, ProvisionedDashboardToken, ProvisionedDevice};

/// A device's new token after a rotation.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct RotatedDevice {
    /// The new bearer token (`tdev_…`); show it once, never store or log it.
    pub token: String,
    /// Until when the old token still works (RFC 3339), or `None` when it stopped at once.
    pub previous_token_valid_until: Option<String>,
}

/// The outcome of revoking a dashboard token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RevokedDashboardToken {
    /// The token's public id.
    pub token_id: String,
    /// How many open dashboard connections with it were closed.
    pub closed_sockets: u64,
    /// Device connections the hub has not reached yet (it retries every minute); 0 from older hubs.
    #[serde(default)]
    pub pending_devices: u64,
}

/// The answer to `POST /admin/devices`.
#[derive(Deserialize)]
pub(crate) struct CreatedDevice {
    device_id: String,
    token: String,
}

/// The answer to `POST /admin/dashboard-tokens`.
#[derive(Deserialize)]
pub(crate) struct CreatedDashboardToken {
    token_id: String,
    token: String,
}

/// One page of `GET /admin/devices`.
#[derive(Deserialize)]
pub(crate) struct DevicePage {
    /// The devices on this page.
    pub devices: Vec<Value>,
    /// The last id of this page when more follow.
    pub next_after: Option<String>,
}

/// The answer to `GET /admin/dashboard-tokens`.
#[derive(Deserialize)]
pub(crate) struct DashboardTokenList {
    /// Every dashboard token, without the tokens.
    pub dashboard_tokens: Vec<Value>,
}

/// `{"device_id":…}`.
pub(crate) fn create_device_body(id: &DeviceId) -> Value {
    json!({ "device_id": id })
}

/// `{"grace_seconds":N}`: whole seconds, at most 30 days.
/// `{"grace_seconds":N,"token_sha256":…}`: the new token is made here and only its hash is sent, so the hub
/// never sees it and repeating the request after a lost answer changes nothing.
pub(crate) fn rotate_body(grace: Duration, new_token_sha256: &str) -> Result<Value, HubctlError> {
    if grace > MAX_GRACE {
        return Err(HubctlError::InvalidGrace(
            "it is longer than 30 days (720h)",
        ));
    }
    Ok(json!({ "grace_seconds": grace.as_secs(), "token_sha256": new_token_sha256 }))
}

/// The answer to a rotation with `token_sha256`.
#[derive(Deserialize)]
pub(crate) struct RotationAnswer {
    /// The hash the device now has; must be the one sent.
    pub(crate) token_sha256: Option<String>,
    /// Until when the old token still works.
    pub(crate) previous_token_valid_until: Option<String>,
}

/// `{"devices":"*"|[ids],"access":…,"label":…}`, validated as the Worker will.
pub(crate) fn dashboard_token_body(
    scope: &DashboardScope,
    access: Access,
    label: Option<&str>,
) -> Result<Value, HubctlError> {
    let devices = match scope {
        DashboardScope::All => json!("*"),
        DashboardScope::Devices(ids) if ids.is_empty() => {
            return Err(HubctlError::InvalidScope("the device list is empty".into()));
        }
        DashboardScope::Devices(ids) => json!(ids),
    };
    let label = label.map(Label::parse).transpose()?;
    Ok(json!({
        "devices": devices,
        "access": access.as_str(),
        "label": label.as_ref().map(Label::as_str),
    }))
}

impl CreatedDevice {
    /// The device asked for, with its checked token.
    pub(crate) fn into_device(self, id: &DeviceId) -> Result<ProvisionedDevice, HubctlError> {
        if self.device_id != id.as_str() {
            return Err(unexpected("the answer names another device"));
        }
        checked(&self.token, TokenKind::Device)?;
        Ok(ProvisionedDevice {
            device_id: id.clone(),
            token: self.token,
        })
    }
}

impl CreatedDashboardToken {
    /// The token and its id, both checked.
    pub(crate) fn into_token(self) -> Result<ProvisionedDashboardToken, HubctlError> {
        TokenId::parse(&self.token_id).map_err(|_| unexpected("the token id is malformed"))?;
        checked(&self.token, TokenKind::Dashboard)?;
        Ok(ProvisionedDashboardToken {
            token_id: self.token_id,
            token: self.token,
        })
    }
}

impl RotationAnswer {
    /// The rotation to `token`, if the hub confirms it took that token's hash.
    pub(crate) fn rotated_to(
        self,
        token: String,
        sent_sha256: &str,
    ) -> Result<RotatedDevice, HubctlError> {
        if self.token_sha256.as_deref() != Some(sent_sha256) {
            return Err(unexpected(
                "the hub did not confirm the new token's hash (is it older than this hubctl?)",
            ));
        }
        checked(&token, TokenKind::Device)?;
        Ok(RotatedDevice {
            token,
            previous_token_valid_until: self.previous_token_valid_until,
        })
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
    use telemetry_protocol::generate_token;

    fn id(raw: &str) -> DeviceId {
        DeviceId::parse(raw).expect("valid")
    }

    #[test]
    fn bodies_mirror_the_worker_contract() {
        assert_eq!(create_device_body(&id("a")), json!({"device_id": "a"}));
        let hash = "ab".repeat(32);
        let grace = rotate_body(Duration::from_secs(600), &hash).expect("valid");
        assert_eq!(grace, json!({"grace_seconds": 600, "token_sha256": hash}));
        assert!(rotate_body(MAX_GRACE + Duration::from_secs(1), &hash).is_err());
        let scope = DashboardScope::parse("a,b").expect("scope");
        let body = dashboard_token_body(&scope, Access::Control, Some("ops")).expect("valid");
        assert_eq!(
            body,
            json!({"devices": ["a", "b"], "access": "control", "label": "ops"})
        );
        let all = dashboard_token_body(&DashboardScope::All, Access::Read, None).expect("valid");
        assert_eq!(
            all,
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
            device_id: device_id.into(),
            token: token.into(),
        };
        let device = created("a", &token).into_device(&id("a")).expect("valid");
        assert_eq!(device.token, token);
        assert!(created("b", &token).into_device(&id("a")).is_err());
        let shown = created("a", "tdev_short")
            .into_device(&id("a"))
            .expect_err("malformed")
            .to_string();
        assert!(shown.contains("the new token is malformed"), "{shown}");
        let dashboard = generate_token(TokenKind::Dashboard, |b| b.fill(1));
        let wrong_kind = CreatedDashboardToken {
            token_id: "dt_0123456789ab".into(),
            token: token.clone(),
        };
        assert!(wrong_kind.into_token().is_err());
        let bad_id = CreatedDashboardToken {
            token_id: "x".into(),
            token: dashboard,
        };
        assert!(bad_id.into_token().is_err());
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
