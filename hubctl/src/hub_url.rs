//! Where the admin API is: the hub's origin, checked once (`https://`, or `http://` on a loopback host for
//! `wrangler dev`), and the URLs below it. Pure.

use std::fmt;
use std::net::IpAddr;

use telemetry_protocol::DeviceId;
use ureq::http::Uri;

use crate::HubctlError;
use crate::scope::looks_like_token;

/// A hub's origin (`scheme://host[:port]`), safe to send the admin token to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubUrl {
    origin: String,
    loopback: bool,
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

    /// The full URL of `path` (an `/admin/…` path, with its query) on this hub.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
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
    fn urls_are_the_origin_and_a_path() {
        let hub = HubUrl::parse("HTTPS://Hub.Example.com:8443/").expect("ok");
        assert_eq!(hub.to_string(), "https://Hub.Example.com:8443");
        assert_eq!(
            hub.url("/admin/devices?after=a"),
            "https://Hub.Example.com:8443/admin/devices?after=a"
        );
        let id = DeviceId::parse("ems_001").expect("valid");
        let socket = hub.dashboard_socket(&id);
        assert_eq!(socket, "wss://Hub.Example.com:8443/ws/dashboard/ems_001");
        let local = HubUrl::parse("http://127.0.0.1:8787").expect("ok");
        let socket = local.dashboard_socket(&id);
        assert_eq!(socket, "ws://127.0.0.1:8787/ws/dashboard/ems_001");
    }
}
