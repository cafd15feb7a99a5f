//! Authorization decisions: token hashes compared in constant time, disabled and revoked credentials, scopes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use telemetry_protocol::DeviceId;

use crate::clock::parse_millis;
use crate::error::HubError;

/// Read or control access of a dashboard token: the wire type of the protocol crate.
pub use telemetry_protocol::Access;

/// SHA-256 of a presented token. Only this, never the token, is compared or stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Hashes a presented token.
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Parses a stored lowercase or uppercase hex hash; `None` if it is not 64 hex digits.
    pub fn from_hex(hex_text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_text, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    /// A short public name of the token (16 hex digits of its hash), to tell sessions of two tokens apart.
    pub fn key_id(self) -> String {
        hex::encode(&self.0[..8])
    }

    /// Lowercase hex, as stored in D1.
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    /// Constant-time equality with a stored hex hash; a malformed stored hash never matches.
    pub fn matches_hex(&self, stored_hex: &str) -> bool {
        // Compare against a fixed value when the stored text is malformed, so the work done is the same.
        let stored = Self::from_hex(stored_hex);
        let other = stored.map_or([0u8; 32], |h| h.0);
        bool::from(self.0.ct_eq(&other)) && stored.is_some()
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

/// A row of `devices` with the version of its credentials, as read for a handshake or pushed by the admin API
/// to the device's Durable Object, which keeps the newest version it has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// Bumped by every rotation, disable and enable through the admin API (`hub_sync.version` in D1); orders
    /// what the Durable Object learns, so a stale read can never undo a newer change.
    #[serde(default)]
    pub version: u64,
    /// Stored hex SHA-256 of the device token.
    pub token_sha256: String,
    /// Set when the device was disabled.
    pub disabled_at: Option<String>,
    /// Hash of the token a rotation replaced, still accepted until `previous_valid_until`.
    #[serde(default)]
    pub previous_token_sha256: Option<String>,
    /// End of the rotation's grace period, RFC 3339.
    #[serde(default)]
    pub previous_valid_until: Option<String>,
}

/// A row of `dashboard_tokens`, as read for a handshake.
#[derive(Debug, Clone, Deserialize)]
pub struct DashboardRecord {
    /// Public id of the token.
    pub id: String,
    /// Stored hex SHA-256 of the token.
    pub token_sha256: String,
    /// `*` or a comma-separated list of device ids.
    pub devices: String,
    /// `read` or `control`.
    pub access: String,
    /// Set when the token was revoked.
    pub revoked_at: Option<String>,
}

/// What a dashboard token grants on one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardGrant {
    /// The token's public id (for logs and revocation).
    pub token_id: String,
    /// Its access.
    pub access: Access,
}

/// Why a credential was refused; for the log only, since the client always gets the same 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Denial {
    /// No such device or token.
    Unknown,
    /// The hash does not match.
    WrongToken,
    /// The device is disabled or the token revoked.
    Disabled,
    /// The dashboard token does not cover this device.
    OutOfScope,
}

impl Denial {
    /// Short reason for log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::WrongToken => "wrong token",
            Self::Disabled => "disabled",
            Self::OutOfScope => "out of scope",
        }
    }
}

impl From<Denial> for HubError {
    fn from(_: Denial) -> Self {
        HubError::Forbidden
    }
}

/// Decides a device handshake at `now_ms`: the current token, or the previous one within its grace period.
/// Both hashes are always compared, and an unknown device costs the same comparisons.
pub fn authorize_device(
    presented: &TokenHash,
    record: Option<&DeviceRecord>,
    now_ms: u64,
) -> Result<(), Denial> {
    let current = presented.matches_hex(record.map_or("", |r| r.token_sha256.as_str()));
    let previous_hash = record.and_then(|r| r.previous_token_sha256.as_deref());
    let previous = presented.matches_hex(previous_hash.unwrap_or(""));
    let in_grace = record
        .and_then(|r| r.previous_valid_until.as_deref())
        .and_then(parse_millis)
        .is_some_and(|until| now_ms < until);
    match record {
        None => Err(Denial::Unknown),
        Some(_) if !(current || (previous && in_grace)) => Err(Denial::WrongToken),
        Some(r) if r.disabled_at.is_some() => Err(Denial::Disabled),
        Some(_) => Ok(()),
    }
}

/// Decides a dashboard handshake for `device_id`. The record was looked up by hash; it is compared again in
/// constant time so a lookup quirk can never grant access.
pub fn authorize_dashboard(
    presented: &TokenHash,
    record: Option<&DashboardRecord>,
    device_id: &DeviceId,
) -> Result<DashboardGrant, Denial> {
    let grant = authorize_dashboard_token(presented, record)?;
    match record {
        Some(r) if scope_covers(&r.devices, device_id) => Ok(grant),
        _ => Err(Denial::OutOfScope),
    }
}

/// Decides whether a dashboard token is valid at all, whatever device it is for.
pub fn authorize_dashboard_token(
    presented: &TokenHash,
    record: Option<&DashboardRecord>,
) -> Result<DashboardGrant, Denial> {
    let record = record.ok_or(Denial::Unknown)?;
    if !presented.matches_hex(&record.token_sha256) {
        return Err(Denial::WrongToken);
    }
    if record.revoked_at.is_some() {
        return Err(Denial::Disabled);
    }
    let access = match record.access.as_str() {
        "control" => Access::Control,
        _ => Access::Read,
    };
    Ok(DashboardGrant {
        token_id: record.id.clone(),
        access,
    })
}

/// Whether a stored scope (`*` or `a,b,c`) covers `device_id`.
pub fn scope_covers(scope: &str, device_id: &DeviceId) -> bool {
    scope.trim() == "*" || scope.split(',').any(|id| id.trim() == device_id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(token: &str, disabled: bool) -> DeviceRecord {
        DeviceRecord {
            token_sha256: TokenHash::of(token).to_hex(),
            disabled_at: disabled.then(|| "2026-01-01T00:00:00Z".to_owned()),
            ..DeviceRecord::default()
        }
    }

    fn dashboard(token: &str, devices: &str, access: &str) -> DashboardRecord {
        DashboardRecord {
            id: "dt_0123456789ab".into(),
            token_sha256: TokenHash::of(token).to_hex(),
            devices: devices.into(),
            access: access.into(),
            revoked_at: None,
        }
    }

    const NOW: u64 = 1_770_120_000_000;

    fn id(raw: &str) -> DeviceId {
        DeviceId::parse(raw).expect("valid id")
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            TokenHash::of("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn device_decisions() {
        let good = TokenHash::of("tdev_right");
        assert_eq!(
            authorize_device(&good, Some(&device("tdev_right", false)), NOW),
            Ok(())
        );
        assert_eq!(
            authorize_device(&good, Some(&device("tdev_other", false)), NOW),
            Err(Denial::WrongToken)
        );
        assert_eq!(authorize_device(&good, None, NOW), Err(Denial::Unknown));
        assert_eq!(
            authorize_device(&good, Some(&device("tdev_right", true)), NOW),
            Err(Denial::Disabled)
        );
        // Disabled with a wrong token reports the wrong token, not the state of the device.
        assert_eq!(
            authorize_device(&good, Some(&device("tdev_other", true)), NOW),
            Err(Denial::WrongToken)
        );
    }

    #[test]
    fn the_previous_token_works_only_within_its_grace_period() {
        let record = DeviceRecord {
            token_sha256: TokenHash::of("tdev_new").to_hex(),
            previous_token_sha256: Some(TokenHash::of("tdev_old").to_hex()),
            previous_valid_until: Some("2026-02-03T12:00:00Z".into()),
            ..DeviceRecord::default()
        };
        let before = 1_770_119_999_000; // 11:59:59
        let after = 1_770_120_000_000; // 12:00:00
        let old = TokenHash::of("tdev_old");
        assert_eq!(authorize_device(&old, Some(&record), before), Ok(()));
        assert_eq!(
            authorize_device(&old, Some(&record), after),
            Err(Denial::WrongToken)
        );
        let new = TokenHash::of("tdev_new");
        assert_eq!(authorize_device(&new, Some(&record), after), Ok(()));
        let mut no_grace = record.clone();
        no_grace.previous_valid_until = None;
        assert_eq!(
            authorize_device(&old, Some(&no_grace), before),
            Err(Denial::WrongToken)
        );
    }

    #[test]
    fn every_denial_is_the_same_403() {
        for denial in [
            Denial::Unknown,
            Denial::WrongToken,
            Denial::Disabled,
            Denial::OutOfScope,
        ] {
            assert_eq!(HubError::from(denial), HubError::Forbidden);
        }
    }

    #[test]
    fn malformed_stored_hash_never_matches() {
        let record = DeviceRecord {
            token_sha256: "not hex".into(),
            ..DeviceRecord::default()
        };
        assert_eq!(
            authorize_device(&TokenHash::of("x"), Some(&record), NOW),
            Err(Denial::WrongToken)
        );
        assert!(TokenHash::from_hex(&"0".repeat(63)).is_none());
    }

    #[test]
    fn dashboard_scope_and_access() {
        let token = TokenHash::of("tdash_t");
        let grant = authorize_dashboard(
            &token,
            Some(&dashboard("tdash_t", "a,b", "control")),
            &id("b"),
        )
        .expect("in scope");
        assert_eq!(grant.access, Access::Control);
        assert_eq!(
            authorize_dashboard(&token, Some(&dashboard("tdash_t", "a,b", "read")), &id("c")),
            Err(Denial::OutOfScope)
        );
        let wildcard =
            authorize_dashboard(&token, Some(&dashboard("tdash_t", "*", "read")), &id("z"))
                .expect("wildcard");
        assert_eq!(wildcard.access, Access::Read);
        let mut revoked = dashboard("tdash_t", "*", "read");
        revoked.revoked_at = Some("2026-01-01T00:00:00Z".into());
        assert_eq!(
            authorize_dashboard(&token, Some(&revoked), &id("z")),
            Err(Denial::Disabled)
        );
        assert_eq!(
            authorize_dashboard(&token, None, &id("z")),
            Err(Denial::Unknown)
        );
    }

    #[test]
    fn scope_matches_whole_ids_only() {
        assert!(!scope_covers("ab,cd", &id("a")));
        assert!(!scope_covers("abc", &id("ab")));
        assert!(scope_covers("ab, cd", &id("cd")));
    }

    #[test]
    fn debug_output_hides_the_hash() {
        assert_eq!(format!("{:?}", TokenHash::of("secret")), "TokenHash(..)");
    }
}
