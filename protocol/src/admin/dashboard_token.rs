//! Admin API bodies about dashboard tokens: create, list and revoke.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Access, DeviceId, TokenId};

/// The devices a new dashboard token covers: `"*"` (every device, present and future) or a list of ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceScope {
    /// `"*"`: every device.
    All,
    /// `["a","b"]`: these devices (1 to [`crate::limits::MAX_SCOPE_DEVICES`], without repeats).
    Devices(Vec<DeviceId>),
}

impl DeviceScope {
    /// The form stored in D1 and shown in answers: `*`, or the ids joined by commas (ids never hold commas).
    pub fn stored(&self) -> String {
        match self {
            Self::All => "*".to_owned(),
            Self::Devices(ids) => {
                let names: Vec<&str> = ids.iter().map(DeviceId::as_str).collect();
                names.join(",")
            }
        }
    }
}

impl Serialize for DeviceScope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => serializer.serialize_str("*"),
            Self::Devices(ids) => ids.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for DeviceScope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            Ids(Vec<DeviceId>),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Word(word) if word == "*" => Ok(Self::All),
            Raw::Word(_) => Err(D::Error::custom(
                "devices must be \"*\" or a list of device ids",
            )),
            Raw::Ids(ids) => Ok(Self::Devices(ids)),
        }
    }
}

/// `POST /admin/dashboard-tokens`: `{"devices":"*"|[…],"access":"read"|"control","label":…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDashboardTokenRequest {
    /// The devices the token covers.
    pub devices: DeviceScope,
    /// What it may do on them.
    pub access: Access,
    /// Free text naming its holder or purpose: 1 to [`crate::limits::MAX_LABEL_CHARS`] characters without
    /// control characters, or `null`.
    #[serde(default)]
    pub label: Option<String>,
}

/// 201 answer to `POST /admin/dashboard-tokens`. The only time the hub shows the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedDashboardToken {
    /// The token's public id.
    pub token_id: TokenId,
    /// The bearer token (`tdash_…`); show it once, never store or log it.
    pub token: String,
    /// The scope in its stored form: `*` or ids joined by commas.
    pub devices: String,
    /// What it may do.
    pub access: Access,
    /// Its label, or `null`.
    pub label: Option<String>,
}

/// One row of `GET /admin/dashboard-tokens`, as stored in D1; never the token. Absent values are `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardTokenRow {
    /// The token's public id, as stored (`dt_` and 12 lowercase hex digits when made by the hub or hubctl).
    pub token_id: String,
    /// The scope in its stored form: `*` or ids joined by commas.
    pub devices: String,
    /// What it may do.
    pub access: Access,
    /// Its label, or `null`.
    pub label: Option<String>,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
    /// When it was revoked, or `null` while it is valid.
    pub revoked_at: Option<String>,
}

/// 200 answer to `GET /admin/dashboard-tokens`: every dashboard token, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardTokenList {
    /// The tokens, ordered by creation time and id.
    pub dashboard_tokens: Vec<DashboardTokenRow>,
}

/// 200 answer to `POST /admin/dashboard-tokens/{token_id}/revoke` (also when it was revoked already).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedDashboardToken {
    /// The revoked token's id.
    pub token_id: TokenId,
    /// Always `true`.
    pub revoked: bool,
    /// How many open dashboard connections with it were closed (4001 revoked).
    pub closed_sockets: u64,
    /// Device objects the revocation has not reached yet (the hub retries every minute); 0 from older hubs.
    #[serde(default)]
    pub pending_devices: u64,
}

impl fmt::Debug for CreatedDashboardToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedDashboardToken")
            .field("token_id", &self.token_id)
            .field("token", &"<redacted>")
            .field("devices", &self.devices)
            .field("access", &self.access)
            .field("label", &self.label)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> DeviceId {
        DeviceId::parse(raw).expect("valid")
    }

    #[test]
    fn scopes_are_a_star_or_a_list_and_store_joined() {
        let all: DeviceScope = serde_json::from_str("\"*\"").expect("star");
        assert_eq!(
            (all.stored(), serde_json::to_string(&all).ok()),
            ("*".into(), Some("\"*\"".into()))
        );
        let some: DeviceScope = serde_json::from_str(r#"["a","b"]"#).expect("list");
        assert_eq!(some, DeviceScope::Devices(vec![id("a"), id("b")]));
        assert_eq!(some.stored(), "a,b");
        for bad in ["\"a\"", "[\"a b\"]", "7", "[1]"] {
            assert!(serde_json::from_str::<DeviceScope>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_new_token() {
        let created = CreatedDashboardToken {
            token_id: TokenId::from_random_bytes([1; 6]),
            token: "tdash_secret".into(),
            devices: "*".into(),
            access: Access::Read,
            label: None,
        };
        assert!(!format!("{created:?}").contains("secret"));
    }
}
