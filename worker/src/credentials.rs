//! What a device's Durable Object knows about the credentials it must enforce, and how it decides with it.
//!
//! The object keeps the newest [`DeviceRecord`] it has seen (from its own D1 lookups and from the admin API's
//! pushes), the dashboard grants it has verified, and the dashboard tokens it was told are revoked. D1 stays the
//! source of truth: a handshake that the object's copy cannot accept is looked up again, and every accepted one
//! is confirmed against D1 right after the 101 (a revoked credential found then is closed with 4001).

use serde::{Deserialize, Serialize};

use telemetry_protocol::DeviceId;

use crate::access::{
    Access, DashboardRecord, Denial, DeviceRecord, TokenHash, authorize_dashboard, authorize_device,
};
use crate::clock::parse_millis;

/// Whether a record read or pushed now replaces the one held: the newer version wins, and D1 wins a tie (it
/// may have been edited by hand without a version bump).
pub fn supersedes(held: Option<&DeviceRecord>, incoming: &DeviceRecord) -> bool {
    held.is_none_or(|held| incoming.version >= held.version)
}

/// Decides a device handshake from the object's copy alone: `Ok(key_id)` to accept, or `None` when only D1 can
/// tell (no copy, a key the copy does not know, or a copy that says no but may be stale).
pub fn accept_from_copy(
    copy: Option<&DeviceRecord>,
    presented: &TokenHash,
    now_ms: u64,
) -> Option<String> {
    let copy = copy?;
    authorize_device(presented, Some(copy), now_ms)
        .ok()
        .map(|()| presented.key_id())
}

/// Decides a device handshake after a D1 lookup: `record` is the newest known (the lookup's or the object's).
pub fn decide_device(
    record: Option<&DeviceRecord>,
    presented: &TokenHash,
    now_ms: u64,
) -> Result<String, Denial> {
    authorize_device(presented, record, now_ms).map(|()| presented.key_id())
}

/// Whether a live device session that authenticated with `key_id` may stay, under `record` at `now_ms`.
pub fn key_allowed(record: &DeviceRecord, key_id: &str, now_ms: u64) -> bool {
    if record.disabled_at.is_some() {
        return false;
    }
    let is = |hex: &str| TokenHash::from_hex(hex).is_some_and(|h| h.key_id() == key_id);
    if is(&record.token_sha256) {
        return true;
    }
    let in_grace = grace_end_ms(record).is_some_and(|until| now_ms < until);
    in_grace && record.previous_token_sha256.as_deref().is_some_and(is)
}

/// When the previous token of a rotation stops working, if a grace period was given.
pub fn grace_end_ms(record: &DeviceRecord) -> Option<u64> {
    record
        .previous_token_sha256
        .as_ref()
        .and(record.previous_valid_until.as_deref())
        .and_then(parse_millis)
}

/// A dashboard token the object has verified against D1 for this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedGrant {
    /// The token's public id.
    pub token_id: String,
    /// Its access.
    pub access: Access,
}

/// Decides a dashboard handshake from the object's copy alone: the grant to accept with, or `None` when only D1
/// can tell. A token the object was told is revoked is never accepted, whatever the copy says.
pub fn grant_from_copy(
    cached: Option<&CachedGrant>,
    revoked: impl Fn(&str) -> bool,
) -> Option<CachedGrant> {
    cached.filter(|grant| !revoked(&grant.token_id)).cloned()
}

/// Decides a dashboard handshake after a D1 lookup of the token (`record`) and of the device (`device_exists`).
pub fn decide_dashboard(
    presented: &TokenHash,
    record: Option<&DashboardRecord>,
    device_exists: bool,
    device_id: &DeviceId,
    revoked: impl Fn(&str) -> bool,
) -> Result<CachedGrant, Denial> {
    let grant = authorize_dashboard(presented, record, device_id)?;
    if !device_exists {
        return Err(Denial::Unknown);
    }
    if revoked(&grant.token_id) {
        return Err(Denial::Disabled);
    }
    Ok(CachedGrant {
        token_id: grant.token_id,
        access: grant.access,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_770_120_000_000; // 2026-02-03T12:00:00Z

    fn record(version: u64, token: &str) -> DeviceRecord {
        DeviceRecord {
            version,
            token_sha256: TokenHash::of(token).to_hex(),
            ..DeviceRecord::default()
        }
    }

    fn key(token: &str) -> String {
        TokenHash::of(token).key_id()
    }

    #[test]
    fn newer_or_equal_versions_supersede_and_older_ones_never() {
        let held = record(5, "tdev_a");
        assert!(supersedes(None, &record(0, "tdev_a")));
        assert!(supersedes(Some(&held), &record(6, "tdev_b")));
        assert!(supersedes(Some(&held), &record(5, "tdev_b")));
        assert!(!supersedes(Some(&held), &record(4, "tdev_b")));
    }

    #[test]
    fn the_copy_accepts_only_what_it_knows() {
        let copy = record(1, "tdev_a");
        assert_eq!(
            accept_from_copy(Some(&copy), &TokenHash::of("tdev_a"), NOW),
            Some(key("tdev_a"))
        );
        assert_eq!(
            accept_from_copy(Some(&copy), &TokenHash::of("tdev_b"), NOW),
            None
        );
        assert_eq!(accept_from_copy(None, &TokenHash::of("tdev_a"), NOW), None);
        let mut disabled = copy.clone();
        disabled.disabled_at = Some("2026-01-01T00:00:00Z".into());
        assert_eq!(
            accept_from_copy(Some(&disabled), &TokenHash::of("tdev_a"), NOW),
            None
        );
    }

    #[test]
    fn a_stale_lookup_cannot_reenable_a_disabled_device() {
        // The object was told (version 2) that the device is disabled while a lookup of version 1 was in flight.
        let mut disabled = record(2, "tdev_a");
        disabled.disabled_at = Some("2026-02-03T11:59:00Z".into());
        let stale = record(1, "tdev_a");
        assert!(!supersedes(Some(&disabled), &stale));
        assert_eq!(
            decide_device(Some(&disabled), &TokenHash::of("tdev_a"), NOW),
            Err(Denial::Disabled)
        );
    }

    #[test]
    fn live_sessions_follow_rotation_grace_and_disable() {
        let mut rotated = record(3, "tdev_new");
        rotated.previous_token_sha256 = Some(TokenHash::of("tdev_old").to_hex());
        rotated.previous_valid_until = Some("2026-02-03T12:00:10Z".into());
        assert!(key_allowed(&rotated, &key("tdev_new"), NOW));
        assert!(key_allowed(&rotated, &key("tdev_old"), NOW));
        assert!(!key_allowed(&rotated, &key("tdev_old"), NOW + 10_000));
        assert!(!key_allowed(&rotated, &key("tdev_other"), NOW));
        assert_eq!(grace_end_ms(&rotated), Some(NOW + 10_000));
        let mut disabled = rotated.clone();
        disabled.disabled_at = Some("2026-02-03T12:00:00Z".into());
        assert!(!key_allowed(&disabled, &key("tdev_new"), NOW));
    }

    #[test]
    fn a_newer_rotation_without_grace_drops_the_older_grace() {
        // A grace rotation (old -> mid) then a grace-0 rotation (mid -> new): only `new` may stay, and no grace
        // end remains to act on.
        let newest = record(5, "tdev_new");
        assert!(key_allowed(&newest, &key("tdev_new"), NOW));
        assert!(!key_allowed(&newest, &key("tdev_mid"), NOW));
        assert_eq!(grace_end_ms(&newest), None);
    }

    fn dashboard(token: &str, devices: &str) -> DashboardRecord {
        DashboardRecord {
            id: "dt_0123456789ab".into(),
            token_sha256: TokenHash::of(token).to_hex(),
            devices: devices.into(),
            access: "control".into(),
            revoked_at: None,
        }
    }

    #[test]
    fn a_star_token_opens_only_devices_that_exist() {
        let id = DeviceId::parse("ems_001").expect("valid");
        let token = TokenHash::of("tdash_t");
        let record = dashboard("tdash_t", "*");
        let grant = decide_dashboard(&token, Some(&record), true, &id, |_| false).expect("ok");
        assert_eq!(grant.access, Access::Control);
        assert_eq!(
            decide_dashboard(&token, Some(&record), false, &id, |_| false),
            Err(Denial::Unknown)
        );
    }

    #[test]
    fn a_lookup_that_raced_a_revocation_is_refused() {
        let id = DeviceId::parse("ems_001").expect("valid");
        let token = TokenHash::of("tdash_t");
        // D1 was read before the revocation committed, but this object already heard of it.
        assert_eq!(
            decide_dashboard(&token, Some(&dashboard("tdash_t", "*")), true, &id, |_| {
                true
            }),
            Err(Denial::Disabled)
        );
        assert_eq!(
            decide_dashboard(
                &token,
                Some(&dashboard("tdash_t", "other")),
                true,
                &id,
                |_| false
            ),
            Err(Denial::OutOfScope)
        );
        assert_eq!(
            decide_dashboard(&token, None, true, &id, |_| false),
            Err(Denial::Unknown)
        );
    }

    #[test]
    fn revoked_tokens_are_never_taken_from_the_copy() {
        let grant = CachedGrant {
            token_id: "dt_0123456789ab".into(),
            access: Access::Control,
        };
        assert_eq!(
            grant_from_copy(Some(&grant), |_| false),
            Some(grant.clone())
        );
        assert_eq!(
            grant_from_copy(Some(&grant), |id| id == "dt_0123456789ab"),
            None
        );
        assert_eq!(grant_from_copy(None, |_| false), None);
    }
}
