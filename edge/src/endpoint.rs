//! The hub's address: `SERVER_URL` checked and normalised once, and the device URL built from it.
//!
//! `SERVER_URL` is the hub's base URL (`wss://telemetry-hub.example.workers.dev`); `https://` and `http://`
//! are accepted as spellings of `wss://` and `ws://`. Plain `ws://` is refused unless the host is loopback
//! or `allow_insecure` is set, because the bearer token would cross the network in clear. The URL may not
//! carry a user, a password, a query or a fragment: credentials go in the `Authorization` header only.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use telemetry_protocol::DeviceId;
use tokio_tungstenite::tungstenite::http::Uri;

/// A checked hub base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubEndpoint {
    base: String,
    secure: bool,
    loopback: bool,
}

impl HubEndpoint {
    /// Checks and normalises `raw`. The error says what is wrong, for the `server_url` key.
    pub fn parse(raw: &str, allow_insecure: bool) -> Result<Self, String> {
        let raw = raw.trim();
        let uri = Uri::from_str(raw).map_err(|e| format!("not a URL ({e})"))?;
        let secure = match uri.scheme_str() {
            Some("wss" | "https") => true,
            Some("ws" | "http") => false,
            _ => return Err("must start with wss:// (or ws:// for a local hub)".to_owned()),
        };
        let authority = uri.authority().ok_or("has no host")?;
        if authority.as_str().contains('@') {
            return Err(
                "must not contain a user or password; the token goes in API_TOKEN".to_owned(),
            );
        }
        if uri.query().is_some() {
            return Err("must not contain a query (`?…`); the token goes in API_TOKEN".to_owned());
        }
        let host = authority.host();
        if host.is_empty() {
            return Err("has no host".to_owned());
        }
        let loopback = is_loopback(host);
        if !secure && !loopback && !allow_insecure {
            return Err(format!(
                "ws:// to {host} would send the token in clear: use wss://, or set allow_insecure = true"
            ));
        }
        let scheme = if secure { "wss" } else { "ws" };
        let path = uri.path().trim_end_matches('/');
        Ok(Self {
            base: format!("{scheme}://{authority}{path}"),
            secure,
            loopback,
        })
    }

    /// `{base}/ws/device/{id}`.
    pub fn device_url(&self, device_id: &DeviceId) -> String {
        format!("{}/ws/device/{device_id}", self.base)
    }

    /// Whether the connection uses TLS.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Whether the host is `localhost` or a loopback address.
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// The normalised base URL, e.g. `wss://hub.example.workers.dev`.
    pub fn as_str(&self) -> &str {
        &self.base
    }
}

impl fmt::Display for HubEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> DeviceId {
        DeviceId::parse("ems_001").expect("id")
    }

    #[test]
    fn normalises_schemes_and_trailing_slashes() {
        for (raw, base) in [
            (
                "wss://hub.example.workers.dev",
                "wss://hub.example.workers.dev",
            ),
            (
                "wss://hub.example.workers.dev/",
                "wss://hub.example.workers.dev",
            ),
            (
                "https://hub.example.workers.dev",
                "wss://hub.example.workers.dev",
            ),
            (
                "wss://hub.example:8443/prefix/",
                "wss://hub.example:8443/prefix",
            ),
            ("http://127.0.0.1:8787", "ws://127.0.0.1:8787"),
            ("ws://localhost:8787", "ws://localhost:8787"),
            ("ws://[::1]:8787", "ws://[::1]:8787"),
        ] {
            let endpoint = HubEndpoint::parse(raw, false).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(endpoint.as_str(), base);
        }
        let endpoint = HubEndpoint::parse("wss://hub.example.workers.dev/", false).expect("valid");
        assert_eq!(
            endpoint.device_url(&id()),
            "wss://hub.example.workers.dev/ws/device/ems_001"
        );
        assert!(endpoint.is_secure() && !endpoint.is_loopback());
    }

    #[test]
    fn plain_ws_needs_loopback_or_an_explicit_opt_in() {
        let error = HubEndpoint::parse("ws://192.168.1.5:8787", false).expect_err("insecure");
        assert!(error.contains("allow_insecure"), "{error}");
        let endpoint = HubEndpoint::parse("ws://192.168.1.5:8787", true).expect("opted in");
        assert!(!endpoint.is_secure());
        assert!(HubEndpoint::parse("ws://127.0.0.2", false).is_ok());
    }

    #[test]
    fn credentials_and_odd_urls_are_refused() {
        for (raw, why) in [
            ("wss://user:pw@hub.example", "user or password"),
            ("wss://hub.example/?token=abc", "query"),
            ("ftp://hub.example", "wss://"),
            ("hub.example", "wss://"),
            ("", "URL"),
            ("wss://", "URL"),
        ] {
            let error = HubEndpoint::parse(raw, false).expect_err(raw);
            assert!(error.contains(why), "{raw}: {error}");
        }
    }
}
