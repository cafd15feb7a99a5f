//! Opening the device socket: the handshake request with the bearer header and the offer of stored
//! acknowledgements, TLS, the connect timeout, the [`AckMode`] the hub's answer chose, and the mapping of every
//! failure to a [`DisconnectReason`] (with the `Retry-After` of a refused upgrade).

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use telemetry_protocol::history::{
    STORED_ACK_HEADER, STORED_ACK_REQUEST, parse_stored_ack_response,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::{HeaderMap, HeaderValue, header};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self};
use tokio_tungstenite::{
    Connector, MaybeTlsStream, WebSocketStream, connect_async_tls_with_config,
};

use crate::delivery::AckMode;
use crate::session::DisconnectReason;
use crate::token::ApiToken;

/// The device socket.
pub type DeviceSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Largest message accepted from the hub (commands and acks are tiny).
const MAX_INCOMING_BYTES: usize = 256 * 1024;

/// What the agent needs to open its socket.
#[derive(Clone)]
pub struct Dialer {
    url: String,
    token: ApiToken,
    tls: Arc<ClientConfig>,
    timeout: Duration,
}

impl Dialer {
    /// Dials `url` (`…/ws/device/{id}`) with `token` in the `Authorization` header, giving up after `timeout`.
    pub fn new(url: String, token: ApiToken, tls: Arc<ClientConfig>, timeout: Duration) -> Self {
        Self {
            url,
            token,
            tls,
            timeout,
        }
    }

    /// The URL dialled (it never contains the token).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connects once: TCP, TLS for `wss://`, and the upgrade, all within the timeout; returns the socket and
    /// what the hub's acknowledgements mean on it.
    pub async fn connect(&self) -> Result<(DeviceSocket, AckMode), DisconnectReason> {
        let request = self.request()?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_INCOMING_BYTES))
            .max_frame_size(Some(MAX_INCOMING_BYTES));
        let connector = Connector::Rustls(Arc::clone(&self.tls));
        let attempt = connect_async_tls_with_config(request, Some(config), true, Some(connector));
        match tokio::time::timeout(self.timeout, attempt).await {
            Err(_) => Err(DisconnectReason::ConnectTimeout),
            Ok(Ok((socket, response))) => Ok((socket, ack_mode(response.headers()))),
            Ok(Err(error)) => Err(refusal(error)),
        }
    }

    /// The upgrade request with `Authorization: Bearer …` (marked sensitive), a `User-Agent` and
    /// `Telemetry-Ack: stored`.
    fn request(&self) -> Result<Request, DisconnectReason> {
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| DisconnectReason::ConnectFailed(e.to_string()))?;
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", self.token.expose()))
            .map_err(|_| {
                DisconnectReason::ConnectFailed("API_TOKEN is not a valid header value".into())
            })?;
        bearer.set_sensitive(true);
        let headers = request.headers_mut();
        headers.insert(header::AUTHORIZATION, bearer);
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static(concat!("edge-agent/", env!("CARGO_PKG_VERSION"))),
        );
        headers.insert(
            STORED_ACK_HEADER,
            HeaderValue::from_static(STORED_ACK_REQUEST),
        );
        Ok(request)
    }
}

/// What the hub's 101 says about its acknowledgements: `Telemetry-Ack: stored; within=…` turns on stored
/// acknowledgements; no such header (an older hub) or any other value keeps the plain acks.
fn ack_mode(headers: &HeaderMap) -> AckMode {
    let answer = headers
        .get(STORED_ACK_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_stored_ack_response);
    match answer {
        Some(within_secs) => AckMode::OnStored {
            within: Duration::from_secs(within_secs),
        },
        None => AckMode::OnAck,
    }
}

/// Maps a failed handshake to why it failed; 401 and 403 mean the credential was refused, any other status
/// keeps the response's `Retry-After`.
fn refusal(error: tungstenite::Error) -> DisconnectReason {
    match error {
        tungstenite::Error::Http(response) => match response.status().as_u16() {
            status @ (401 | 403) => DisconnectReason::AuthRejected(status),
            status => DisconnectReason::HandshakeRejected {
                status,
                retry_after: retry_after(response.headers()),
            },
        },
        other => DisconnectReason::ConnectFailed(other.to_string()),
    }
}

/// The `Retry-After` header as delay-seconds (RFC 9110 §10.2.3), the only form the hub sends. An HTTP-date or
/// anything else unreadable counts as absent (the backoff alone decides); an absurdly large number saturates.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Duration::from_secs(text.parse().unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use telemetry_protocol::{TokenKind, generate_token};
    use tokio_tungstenite::tungstenite::http::Response;

    fn dialer(url: &str) -> (Dialer, String) {
        let raw = generate_token(TokenKind::Device, |b| b.fill(9));
        let token = ApiToken::parse(&raw).expect("token");
        let tls = crate::tls::client_config(None).expect("tls");
        (
            Dialer::new(url.into(), token, tls, Duration::from_secs(1)),
            raw,
        )
    }

    #[test]
    fn the_request_carries_the_token_only_in_a_sensitive_header() {
        let (dialer, raw) = dialer("ws://127.0.0.1:9/ws/device/ems_001");
        let request = dialer.request().expect("request");
        let auth = request
            .headers()
            .get(header::AUTHORIZATION)
            .expect("authorization");
        assert_eq!(auth.to_str().expect("ascii"), format!("Bearer {raw}"));
        assert!(auth.is_sensitive());
        assert!(!request.uri().to_string().contains(&raw[5..]));
        assert!(
            !format!("{auth:?}").contains(&raw[5..]),
            "Debug of a sensitive header hides it"
        );
    }

    #[test]
    fn the_request_offers_stored_acknowledgements() {
        let (dialer, _) = dialer("ws://127.0.0.1:9/ws/device/ems_001");
        let request = dialer.request().expect("request");
        let offer = request.headers().get("telemetry-ack").expect("offered");
        assert_eq!(offer, "stored");
    }

    #[test]
    fn the_hubs_answer_chooses_the_ack_mode() {
        let mode = |value: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(value) = value {
                headers.insert(
                    STORED_ACK_HEADER,
                    HeaderValue::from_str(value).expect("ascii"),
                );
            }
            ack_mode(&headers)
        };
        let within = |secs| AckMode::OnStored {
            within: Duration::from_secs(secs),
        };
        assert_eq!(mode(None), AckMode::OnAck);
        assert_eq!(mode(Some("stored; within=600")), within(600));
        assert_eq!(mode(Some("Stored;within=1")), within(1));
        assert_eq!(mode(Some("stored")), within(0));
        assert_eq!(mode(Some("acked")), AckMode::OnAck);
        assert_eq!(mode(Some("")), AckMode::OnAck);
    }

    fn http_refusal(status: u16, retry_after: Option<&str>) -> DisconnectReason {
        let mut response = Response::builder().status(status);
        if let Some(value) = retry_after {
            response = response.header(header::RETRY_AFTER, value);
        }
        let response = response.body(None).expect("response");
        refusal(tungstenite::Error::Http(Box::new(response)))
    }

    #[test]
    fn refusals_map_to_reasons() {
        assert_eq!(http_refusal(401, None), DisconnectReason::AuthRejected(401));
        assert_eq!(http_refusal(403, None), DisconnectReason::AuthRejected(403));
        assert_eq!(
            http_refusal(404, None),
            DisconnectReason::HandshakeRejected {
                status: 404,
                retry_after: None
            }
        );
        assert!(matches!(
            refusal(tungstenite::Error::ConnectionClosed),
            DisconnectReason::ConnectFailed(_)
        ));
    }

    #[test]
    fn a_429_keeps_its_retry_after_in_seconds() {
        let wait = |value| http_refusal(429, Some(value)).retry_after();
        assert_eq!(wait("2"), Some(Duration::from_secs(2)));
        assert_eq!(wait(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(wait("0"), Some(Duration::ZERO));
        assert_eq!(
            wait("99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(http_refusal(429, None).retry_after(), None);
        assert_eq!(
            http_refusal(503, Some("30")).retry_after(),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn an_unreadable_retry_after_is_ignored() {
        for value in [
            "",
            "-5",
            "1.5",
            "soon",
            "Wed, 21 Oct 2026 07:28:00 GMT",
            "0x10",
        ] {
            assert_eq!(
                http_refusal(429, Some(value)).retry_after(),
                None,
                "{value:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_closed_port_fails_fast_without_panicking() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        for scheme in ["ws", "wss"] {
            let (dialer, _) = dialer(&format!("{scheme}://127.0.0.1:{port}/ws/device/x"));
            let error = dialer.connect().await.expect_err("nothing listens");
            assert!(
                matches!(error, DisconnectReason::ConnectFailed(_)),
                "{error:?}"
            );
        }
    }
}
