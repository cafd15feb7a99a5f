//! Target for the hub's handshake checks (`telemetry_hub::handshake`): upgrade, credentials in the URL, and
//! where a device's or a dashboard's bearer token comes from.
//!
//! Input: optional `upgrade:`, `authorization:` and `protocols:` lines (a missing line is a missing header) and
//! any number of `query:` lines, one query key each. Properties: a token found is never empty, never holds a
//! space when it came from `Authorization`, and is always a piece of the header it came from; the subprotocol
//! is selected exactly when `telemetry.v1` was offered; a URL with a credential key is always refused.

use telemetry_hub::error::HubError;
use telemetry_hub::handshake::{
    Credential, HandshakeHeaders, dashboard_credential, device_credential,
    reject_credentials_in_url, require_websocket_upgrade,
};
use telemetry_protocol::limits::SUBPROTOCOL;

use crate::fields::{Fields, text};

/// Query keys the hub must refuse, whatever their case.
const CREDENTIAL_KEYS: [&str; 4] = ["token", "access_token", "api_key", "key"];

/// All four handshake checks on any headers and query keys.
pub fn handshake(data: &[u8]) {
    let text = text(data);
    let fields = Fields::lines(&text);
    let headers = HandshakeHeaders {
        upgrade: fields.get("upgrade"),
        authorization: fields.get("authorization"),
        protocols: fields.get("protocols"),
    };
    let upgrade = require_websocket_upgrade(&headers);
    assert!(matches!(upgrade, Ok(()) | Err(HubError::UpgradeRequired)));
    let keys: Vec<&str> = fields.all("query").collect();
    let refused = reject_credentials_in_url(keys.iter().copied()).is_err();
    let named = keys
        .iter()
        .any(|k| CREDENTIAL_KEYS.iter().any(|c| k.eq_ignore_ascii_case(c)));
    assert_eq!(refused, named, "query keys {keys:?}");
    let offered_v1 = headers
        .protocols
        .is_some_and(|p| p.split(',').any(|o| o.trim() == SUBPROTOCOL));
    if let Ok(credential) = device_credential(&headers) {
        check_credential(&credential, &headers, offered_v1);
        let authorization = headers.authorization.unwrap_or("");
        assert!(contains_slice(authorization, credential.token));
        assert!(!credential.token.contains(' '));
    }
    if let Ok(credential) = dashboard_credential(&headers) {
        check_credential(&credential, &headers, offered_v1);
    }
}

fn check_credential(credential: &Credential<'_>, headers: &HandshakeHeaders<'_>, offered_v1: bool) {
    assert!(!credential.token.is_empty(), "an empty token was accepted");
    let from_header = headers
        .authorization
        .is_some_and(|h| contains_slice(h, credential.token));
    let from_protocol = headers
        .protocols
        .is_some_and(|p| contains_slice(p, credential.token));
    assert!(from_header || from_protocol, "the token came from nowhere");
    assert_eq!(credential.select_subprotocol, offered_v1);
}

/// Whether `part` is a subslice of `whole` (the token borrows from the header, so this is a pointer check).
fn contains_slice(whole: &str, part: &str) -> bool {
    let whole = whole.as_bytes().as_ptr_range();
    let part = part.as_bytes().as_ptr_range();
    whole.start <= part.start && part.end <= whole.end
}
