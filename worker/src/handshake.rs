//! Handshake checks that need no lookup: upgrade, credentials in the URL, and where the bearer token comes from.

use telemetry_protocol::limits::{BEARER_SUBPROTOCOL_PREFIX, SUBPROTOCOL};

use crate::error::HubError;

/// Query keys that would carry a credential in the URL; their presence alone refuses the request.
const CREDENTIAL_QUERY_KEYS: [&str; 4] = ["token", "access_token", "api_key", "key"];

/// The handshake headers the hub looks at.
#[derive(Debug, Default, Clone, Copy)]
pub struct HandshakeHeaders<'a> {
    /// `Upgrade`.
    pub upgrade: Option<&'a str>,
    /// `Authorization`.
    pub authorization: Option<&'a str>,
    /// `Sec-WebSocket-Protocol`.
    pub protocols: Option<&'a str>,
}

/// A bearer token found in the handshake, and whether the response must select [`SUBPROTOCOL`].
#[derive(Debug, PartialEq, Eq)]
pub struct Credential<'a> {
    /// The token as presented.
    pub token: &'a str,
    /// Whether the client offered `telemetry.v1`, which the response then selects.
    pub select_subprotocol: bool,
}

/// Refuses a request whose query names a credential key. Only keys are looked at, never values.
pub fn reject_credentials_in_url<'k>(
    query_keys: impl IntoIterator<Item = &'k str>,
) -> Result<(), HubError> {
    let carries_credential = query_keys.into_iter().any(|key| {
        CREDENTIAL_QUERY_KEYS
            .iter()
            .any(|banned| key.eq_ignore_ascii_case(banned))
    });
    if carries_credential {
        return Err(HubError::BadRequest(
            "credentials are never accepted in the URL; send Authorization: Bearer",
        ));
    }
    Ok(())
}

/// Refuses a request that is not a WebSocket upgrade with 426.
pub fn require_websocket_upgrade(headers: &HandshakeHeaders<'_>) -> Result<(), HubError> {
    match headers.upgrade {
        Some(value) if value.trim().eq_ignore_ascii_case("websocket") => Ok(()),
        _ => Err(HubError::UpgradeRequired),
    }
}

/// The device credential: `Authorization: Bearer <token>` only.
pub fn device_credential<'a>(headers: &HandshakeHeaders<'a>) -> Result<Credential<'a>, HubError> {
    let token = headers
        .authorization
        .and_then(bearer_token)
        .ok_or(HubError::Unauthorized)?;
    Ok(Credential {
        token,
        select_subprotocol: offered_protocols(headers.protocols).any(|p| p == SUBPROTOCOL),
    })
}

/// The dashboard credential: `Authorization: Bearer <token>`, or the `bearer.<token>` subprotocol offered
/// beside `telemetry.v1` (browsers cannot set headers on a WebSocket).
pub fn dashboard_credential<'a>(
    headers: &HandshakeHeaders<'a>,
) -> Result<Credential<'a>, HubError> {
    let offers_v1 = offered_protocols(headers.protocols).any(|p| p == SUBPROTOCOL);
    let mut bearers = offered_protocols(headers.protocols)
        .filter_map(|p| p.strip_prefix(BEARER_SUBPROTOCOL_PREFIX));
    let from_protocol = bearers.next();
    if bearers.next().is_some() {
        return Err(HubError::BadRequest(
            "offer at most one bearer.<token> subprotocol",
        ));
    }
    if from_protocol.is_some() && !offers_v1 {
        return Err(HubError::BadRequest(
            "offer the telemetry.v1 subprotocol beside bearer.<token>",
        ));
    }
    let from_header = headers.authorization.and_then(bearer_token);
    let token = from_header
        .or(from_protocol.filter(|t| !t.is_empty()))
        .ok_or(HubError::Unauthorized)?;
    Ok(Credential {
        token,
        select_subprotocol: offers_v1,
    })
}

/// The token of an `Authorization: Bearer <token>` value; the scheme is case-insensitive.
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

fn offered_protocols(header: Option<&str>) -> impl Iterator<Item = &str> {
    header
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers<'a>(
        authorization: Option<&'a str>,
        protocols: Option<&'a str>,
    ) -> HandshakeHeaders<'a> {
        HandshakeHeaders {
            upgrade: Some("websocket"),
            authorization,
            protocols,
        }
    }

    #[test]
    fn credential_keys_in_the_query_are_refused_whatever_the_case() {
        assert!(reject_credentials_in_url(["foo", "bar"]).is_ok());
        for key in ["token", "access_token", "API_KEY", "Key"] {
            assert_eq!(
                reject_credentials_in_url(["x", key]).map_err(|e| e.status()),
                Err(400),
                "{key}"
            );
        }
    }

    #[test]
    fn upgrade_is_required() {
        assert!(require_websocket_upgrade(&headers(None, None)).is_ok());
        let mut h = headers(None, None);
        h.upgrade = Some("WebSocket");
        assert!(require_websocket_upgrade(&h).is_ok());
        h.upgrade = None;
        assert_eq!(
            require_websocket_upgrade(&h),
            Err(HubError::UpgradeRequired)
        );
        h.upgrade = Some("h2c");
        assert_eq!(
            require_websocket_upgrade(&h),
            Err(HubError::UpgradeRequired)
        );
    }

    #[test]
    fn device_needs_a_bearer_header() {
        let ok = device_credential(&headers(Some("Bearer tdev_abc"), None)).expect("bearer");
        assert_eq!(ok.token, "tdev_abc");
        assert_eq!(
            device_credential(&headers(Some("bearer  tdev_abc "), None)).map(|c| c.token),
            Ok("tdev_abc")
        );
        for bad in [
            None,
            Some("Basic dXNlcjpwYXNz"),
            Some("Bearer"),
            Some("Bearer "),
            Some("tdev_abc"),
        ] {
            assert_eq!(
                device_credential(&headers(bad, None)),
                Err(HubError::Unauthorized),
                "{bad:?}"
            );
        }
        // A device cannot authenticate with the browser subprotocol.
        assert_eq!(
            device_credential(&headers(None, Some("telemetry.v1, bearer.tdev_abc"))),
            Err(HubError::Unauthorized)
        );
    }

    #[test]
    fn dashboard_accepts_header_or_subprotocol() {
        let from_header = dashboard_credential(&headers(Some("Bearer tdash_x"), None)).expect("ok");
        assert_eq!(
            from_header,
            Credential {
                token: "tdash_x",
                select_subprotocol: false
            }
        );
        let from_protocol =
            dashboard_credential(&headers(None, Some("telemetry.v1, bearer.tdash_y"))).expect("ok");
        assert_eq!(
            from_protocol,
            Credential {
                token: "tdash_y",
                select_subprotocol: true
            }
        );
    }

    #[test]
    fn dashboard_subprotocol_rules() {
        assert_eq!(
            dashboard_credential(&headers(None, Some("bearer.tdash_y"))).map_err(|e| e.status()),
            Err(400)
        );
        assert_eq!(
            dashboard_credential(&headers(None, Some("telemetry.v1, bearer.a, bearer.b")))
                .map_err(|e| e.status()),
            Err(400)
        );
        assert_eq!(
            dashboard_credential(&headers(None, Some("telemetry.v1"))),
            Err(HubError::Unauthorized)
        );
        assert_eq!(
            dashboard_credential(&headers(None, Some("telemetry.v1, bearer."))),
            Err(HubError::Unauthorized)
        );
    }
}
