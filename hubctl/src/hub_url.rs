//! Where the admin API is: the hub's origin, checked once (`https://`, or `http://` on a loopback host for
//! `wrangler dev`), and the URL of each admin operation. Pure.

use std::fmt;
use std::net::IpAddr;

use telemetry_protocol::DeviceId;
use ureq::http::Uri;

use crate::HubctlError;
use crate::credential::TokenId;
use crate::scope::looks_like_token;

/// A hub's origin (`scheme://host[:port]`), safe to send the admin token to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubUrl {
    origin: String,
    loopback: bool,
}

/// A device operation with its own path below `/admin/devices/{id}/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceAction {
    /// `rotate`: a new token, optionally with a grace period for the old one.
    Rotate,
    /// `disable`: refuse the device's token and close its connection.
    Disable,
    /// `enable`: accept the token again.
    Enable,
}

/// One admin API endpoint. Device ids and token ids are validated types whose characters need no escaping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiPath<'a> {
    /// `GET` (one page, after an id) or `POST` `/admin/devices`.
    Devices {
        /// The last id of the previous page.
        after: Option<&'a DeviceId>,
    },
    /// `GET /admin/devices/{id}`.
    Device(&'a DeviceId),
    /// `POST /admin/devices/{id}/{action}`.
    DeviceAction(&'a DeviceId, DeviceAction),
    /// `GET` or `POST` `/admin/dashboard-tokens`.
    DashboardTokens,
    /// `POST /admin/dashboard-tokens/{token_id}/revoke`.
    RevokeDashboardToken(&'a TokenId),
}

impl HubUrl {
    /// Checks a hub URL: `https://host[:port]`, or `http://` when the host is `localhost` or a loopback
    /// address. No user name or password, path, query or fragment. Errors never repeat the URL.
    pub fn parse(raw: &str) -> Result<Self, HubctlError> {
        let raw = raw.trim();
        if looks_like_token(raw) {
            return Err(HubctlError::ArgumentLooksLikeToken("hub URL"));
        }
        let uri: Uri = raw.parse().map_err(|_| {
            HubctlError::InvalidHubUrl("not a URL; expected e.g. https://hub.example.com")
        })?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(HubctlError::InvalidHubUrl(
                "expected https://host (with the scheme)",
            ));
        };
        check_parts(&uri, authority.as_str())?;
        let loopback = is_loopback_host(authority.host());
        check_scheme(&scheme.to_ascii_lowercase(), loopback)?;
        Ok(Self {
            origin: format!("{}://{authority}", scheme.to_ascii_lowercase()),
            loopback,
        })
    }

    /// Whether the host is `localhost` or a loopback address (plain `http://` is allowed, proxies are not used).
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// The dashboard socket of `device` on this hub: `wss://…` (`ws://` for a loopback `http://` hub).
    pub fn dashboard_socket(&self, device: &DeviceId) -> String {
        let origin = self.origin.replacen("http", "ws", 1);
        format!("{origin}/ws/dashboard/{device}")
    }

    /// The full URL of `path` on this hub.
    pub fn url(&self, path: &ApiPath<'_>) -> String {
        format!("{}{}", self.origin, path.path_and_query())
    }
}

impl fmt::Display for HubUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)
    }
}

/// Refuses credentials, paths and queries: the admin API lives at the origin's `/admin/`.
fn check_parts(uri: &Uri, authority: &str) -> Result<(), HubctlError> {
    if authority.contains('@') {
        return Err(HubctlError::InvalidHubUrl(
            "it holds a user name or password; give the admin token through HUB_ADMIN_TOKEN or \
             --admin-token-file",
        ));
    }
    if uri.query().is_some() || !matches!(uri.path(), "" | "/") {
        return Err(HubctlError::InvalidHubUrl(
            "give only the Worker's origin, e.g. https://hub.example.com, without a path or query",
        ));
    }
    Ok(())
}

/// `https` always; `http` only for loopback hosts, where nothing crosses a network.
fn check_scheme(scheme: &str, loopback: bool) -> Result<(), HubctlError> {
    match scheme {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(HubctlError::InvalidHubUrl(
            "http:// would send the admin token in clear; use https:// (http:// is only for localhost, \
             127.0.0.1 and [::1])",
        )),
        _ => Err(HubctlError::InvalidHubUrl(
            "the scheme must be https:// (or http:// on a loopback host)",
        )),
    }
}

/// `localhost`, `127.0.0.0/8` or `[::1]`.
fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl ApiPath<'_> {
    /// The path, and for a later page of devices the `after` query.
    pub fn path_and_query(&self) -> String {
        match self {
            Self::Devices { after: None } => "/admin/devices".into(),
            Self::Devices { after: Some(id) } => format!("/admin/devices?after={id}"),
            Self::Device(id) => format!("/admin/devices/{id}"),
            Self::DeviceAction(id, action) => format!("/admin/devices/{id}/{}", action.as_str()),
            Self::DashboardTokens => "/admin/dashboard-tokens".into(),
            Self::RevokeDashboardToken(token_id) => {
                format!("/admin/dashboard-tokens/{}/revoke", token_id.as_str())
            }
        }
    }
}

impl DeviceAction {
    /// The last path segment.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rotate => "rotate",
            Self::Disable => "disable",
            Self::Enable => "enable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(raw: &str) -> String {
        HubUrl::parse(raw).expect_err("refused").to_string()
    }

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        for ok in [
            "https://hub.example.com",
            "https://hub.example.com/",
            "HTTPS://hub.example.com:8443",
            "http://127.0.0.1:8787",
            "http://localhost:8787/",
            "http://[::1]:8787",
            "http://127.1.2.3",
        ] {
            assert!(HubUrl::parse(ok).is_ok(), "{ok}");
        }
        assert!(
            !HubUrl::parse("https://hub.example.com")
                .expect("ok")
                .is_loopback()
        );
        assert!(
            HubUrl::parse("http://[::1]:8787")
                .expect("ok")
                .is_loopback()
        );
        for clear in [
            "http://hub.example.com",
            "http://10.0.0.1:8787",
            "http://127.0.0.1.example.com",
            "http://localhost.example.com",
        ] {
            assert!(reason(clear).contains("in clear"), "{clear}");
        }
        assert!(reason("ftp://hub.example.com").contains("scheme"));
        assert!(reason("hub.example.com").contains("with the scheme"));
    }

    #[test]
    fn credentials_paths_and_queries_are_refused_without_being_repeated() {
        let with_password = "https://admin:s3cret@hub.example.com";
        let shown = reason(with_password);
        assert!(shown.contains("user name or password") && !shown.contains("s3cret"));
        assert!(reason("https://hub.example.com/admin").contains("without a path"));
        assert!(reason("https://hub.example.com/?x=1").contains("without a path or query"));
        assert!(reason("not a url at all").contains("not a URL"));
        let token =
            telemetry_protocol::generate_token(telemetry_protocol::TokenKind::Admin, |b| b.fill(4));
        let pasted = HubUrl::parse(&token).expect_err("a token").to_string();
        assert!(pasted.contains("bearer token") && !pasted.contains(&token[5..]));
    }

    #[test]
    fn urls_are_the_origin_and_the_admin_path() {
        let hub = HubUrl::parse("HTTPS://Hub.Example.com:8443/").expect("ok");
        assert_eq!(hub.to_string(), "https://Hub.Example.com:8443");
        let id = DeviceId::parse("ems_001").expect("valid");
        let token_id = crate::credential::parse_token_id("dt_0123456789ab").expect("valid");
        let cases = [
            (ApiPath::Devices { after: None }, "/admin/devices"),
            (
                ApiPath::Devices { after: Some(&id) },
                "/admin/devices?after=ems_001",
            ),
            (ApiPath::Device(&id), "/admin/devices/ems_001"),
            (
                ApiPath::DeviceAction(&id, DeviceAction::Rotate),
                "/admin/devices/ems_001/rotate",
            ),
            (
                ApiPath::DeviceAction(&id, DeviceAction::Disable),
                "/admin/devices/ems_001/disable",
            ),
            (
                ApiPath::DeviceAction(&id, DeviceAction::Enable),
                "/admin/devices/ems_001/enable",
            ),
            (ApiPath::DashboardTokens, "/admin/dashboard-tokens"),
            (
                ApiPath::RevokeDashboardToken(&token_id),
                "/admin/dashboard-tokens/dt_0123456789ab/revoke",
            ),
        ];
        let socket = hub.dashboard_socket(&id);
        assert_eq!(socket, "wss://Hub.Example.com:8443/ws/dashboard/ems_001");
        for (path, expected) in cases {
            assert_eq!(
                hub.url(&path),
                format!("https://Hub.Example.com:8443{expected}")
            );
        }
    }
}
