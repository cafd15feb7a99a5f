//! A WebSocket test client over tokio-tungstenite: custom handshake headers, JSON in and out, close frames.
//!
//! A received Close frame ends the session. workerd may keep the TCP connection of a hibernatable socket open
//! after the closing handshake, so the client answers the Close and stops reading instead of waiting for EOF.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, client_async};

/// How long a handshake may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Close code reported when the connection ended without a Close frame (as browsers do).
pub const ABNORMAL_CLOSURE: u16 = 1006;

/// A handshake the server answered with something other than `101 Switching Protocols`: its status, headers
/// and body, read like any other HTTP response.
pub type Refusal = crate::http::HttpResponse;

/// Why [`WsClient::connect`] did not produce a session.
#[derive(Debug)]
pub enum ConnectError {
    /// The server answered the handshake with an HTTP error.
    Refused(Refusal),
    /// Anything else: connection refused, a protocol error, a timeout.
    Failed(String),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(r) => write!(f, "handshake refused with {}: {}", r.status, r.body),
            Self::Failed(why) => write!(f, "handshake failed: {why}"),
        }
    }
}

impl std::error::Error for ConnectError {}

/// One message from the server (pings and pongs are skipped, tungstenite answers pings itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// A Close frame (code 1005 if it had no code); the session is over.
    Close(u16, String),
    /// The connection ended without a Close frame; the session is over.
    Dropped,
}

/// A connected WebSocket session. Test support: the `recv_*`/`expect_*`/`send_*` methods panic with a clear
/// message instead of returning errors.
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    handshake_headers: Vec<(String, String)>,
    ended: bool,
}

impl WsClient {
    /// Opens `url` (`ws://…`) sending the extra `headers` (e.g. `Authorization`, `Sec-WebSocket-Protocol`).
    pub async fn connect(url: &str, headers: &[(&str, &str)]) -> Result<Self, ConnectError> {
        Self::connect_from(None, url, headers).await
    }

    /// Like [`WsClient::connect`], from the local address `source` (e.g. `127.0.0.2`, which workerd reports as
    /// a second client's `CF-Connecting-IP`); `None` lets the system choose.
    pub async fn connect_from(
        source: Option<IpAddr>,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Self, ConnectError> {
        let mut request = url
            .into_client_request()
            .map_err(|e| ConnectError::Failed(format!("bad request for {url}: {e}")))?;
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| ConnectError::Failed(format!("header name {name:?}: {e}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|e| ConnectError::Failed(format!("header value for {name}: {e}")))?;
            request.headers_mut().append(name, value);
        }
        let target = server_address(url)?;
        let handshake = async {
            let stream = tcp_from(source, target)
                .await
                .map_err(tungstenite::Error::Io)?;
            client_async(request, MaybeTlsStream::Plain(stream)).await
        };
        let outcome = timeout(CONNECT_TIMEOUT, handshake).await.map_err(|_| {
            ConnectError::Failed(format!("no handshake within {CONNECT_TIMEOUT:?}"))
        })?;
        match outcome {
            Ok((stream, response)) => Ok(Self {
                stream,
                handshake_headers: header_pairs(&response),
                ended: false,
            }),
            Err(tungstenite::Error::Http(response)) => Err(ConnectError::Refused(Refusal {
                status: response.status().as_u16(),
                headers: header_pairs(&response),
                body: String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                    .into_owned(),
            })),
            Err(other) => Err(ConnectError::Failed(other.to_string())),
        }
    }

    /// Opens `url` with `Authorization: Bearer <token>`; panics if the handshake fails.
    pub async fn connect_bearer(url: &str, token: &str) -> Self {
        let auth = format!("Bearer {token}");
        Self::connect(url, &[("Authorization", &auth)])
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"))
    }

    /// Expects the handshake to `url` to be refused and returns the refusal; panics if it is accepted.
    pub async fn expect_refused(url: &str, headers: &[(&str, &str)]) -> Refusal {
        Self::expect_refused_from(None, url, headers).await
    }

    /// Like [`WsClient::expect_refused`], from the local address `source`.
    pub async fn expect_refused_from(
        source: Option<IpAddr>,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Refusal {
        match Self::connect_from(source, url, headers).await {
            Err(ConnectError::Refused(refusal)) => refusal,
            Err(ConnectError::Failed(why)) => panic!("{url}: expected an HTTP refusal, got {why}"),
            Ok(_) => panic!("{url}: expected the handshake to be refused, but it was accepted"),
        }
    }

    /// A header of the `101` response (any case), e.g. `Sec-WebSocket-Protocol`.
    pub fn handshake_header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.handshake_headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sends `value` as one JSON text frame.
    pub async fn send_json(&mut self, value: &Value) {
        self.send(Message::text(value.to_string())).await;
    }

    /// Sends a text frame as is (e.g. invalid JSON).
    pub async fn send_text(&mut self, text: &str) {
        self.send(Message::text(text)).await;
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.send(Message::binary(bytes)).await;
    }

    /// The next data or close message, or `None` if nothing came within `wait`.
    pub async fn recv(&mut self, wait: Duration) -> Option<Received> {
        assert!(!self.ended, "recv on a session that already ended");
        let deadline = Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            let received = match next {
                Some(Ok(Message::Text(text))) => Received::Text(text.as_str().to_owned()),
                Some(Ok(Message::Binary(bytes))) => Received::Binary(bytes.to_vec()),
                Some(Ok(Message::Close(frame))) => {
                    // Queue-and-flush tungstenite's reply; then stop: no need to wait for EOF.
                    let _ = timeout(Duration::from_secs(2), self.stream.flush()).await;
                    close_parts(frame)
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Err(_)) | None => Received::Dropped,
            };
            if matches!(received, Received::Close(..) | Received::Dropped) {
                self.ended = true;
            }
            return Some(received);
        }
    }

    /// The next text frame parsed as JSON; panics on a timeout, a close, a binary frame or invalid JSON.
    pub async fn recv_json(&mut self, wait: Duration) -> Value {
        match self.recv(wait).await {
            Some(Received::Text(text)) => serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("expected JSON, got {text:?}: {e}")),
            Some(other) => panic!("expected a JSON text frame, got {other:?}"),
            None => panic!("expected a JSON text frame within {wait:?}, got nothing"),
        }
    }

    /// Skips JSON messages until one satisfies `wanted`, and returns it; panics if none does within `wait`.
    pub async fn recv_until(
        &mut self,
        mut wanted: impl FnMut(&Value) -> bool,
        wait: Duration,
    ) -> Value {
        let deadline = Instant::now() + wait;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Some(Received::Text(text)) => {
                    let value: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("expected JSON, got {text:?}: {e}"));
                    if wanted(&value) {
                        return value;
                    }
                    skipped.push(value);
                }
                Some(other) => {
                    panic!("got {other:?} before the wanted message; skipped {skipped:?}")
                }
                None => panic!("no wanted message within {wait:?}; skipped {skipped:?}"),
            }
        }
    }

    /// Panics if any data or close message arrives within `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Some(received) = self.recv(wait).await {
            panic!("expected silence for {wait:?}, got {received:?}");
        }
    }

    /// Waits for the server to end the session; returns the close code and reason, or
    /// ([`ABNORMAL_CLOSURE`], "") if the connection dropped without a Close frame. Panics on data or a timeout.
    pub async fn expect_close(&mut self, wait: Duration) -> (u16, String) {
        match self.recv(wait).await {
            Some(Received::Close(code, reason)) => (code, reason),
            Some(Received::Dropped) => (ABNORMAL_CLOSURE, String::new()),
            Some(other) => panic!("expected a close, got {other:?}"),
            None => panic!("expected a close within {wait:?}, got nothing"),
        }
    }

    /// Starts the closing handshake with `code` and `reason` and waits (up to 5 s) for the server's Close,
    /// ignoring data that was already in flight. Returns the server's close code and reason.
    pub async fn close(&mut self, code: u16, reason: &str) -> (u16, String) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        self.send(Message::Close(Some(frame))).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Some(Received::Close(code, reason)) => return (code, reason),
                Some(Received::Dropped) => return (ABNORMAL_CLOSURE, String::new()),
                Some(Received::Text(_) | Received::Binary(_)) => {}
                None => panic!("the server did not answer our Close within 5 s"),
            }
        }
    }

    /// Whether the session ended (a Close frame or a dropped connection was received).
    pub fn has_ended(&self) -> bool {
        self.ended
    }

    async fn send(&mut self, message: Message) {
        assert!(!self.ended, "send on a session that already ended");
        timeout(Duration::from_secs(10), self.stream.send(message))
            .await
            .unwrap_or_else(|_| panic!("send did not complete within 10 s"))
            .unwrap_or_else(|e| panic!("send failed: {e}"));
    }
}

impl fmt::Debug for WsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsClient")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

fn close_parts(frame: Option<CloseFrame>) -> Received {
    match frame {
        Some(frame) => Received::Close(u16::from(frame.code), frame.reason.as_str().to_owned()),
        None => Received::Close(1005, String::new()),
    }
}

fn header_pairs<B>(response: &Response<B>) -> Vec<(String, String)> {
    response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The `host:port` of a `ws://` URL (the tests only speak to loopback by address).
fn server_address(url: &str) -> Result<SocketAddr, ConnectError> {
    let authority = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| ConnectError::Failed(format!("{url}: only ws://ADDRESS:PORT/… URLs")))?;
    authority
        .parse()
        .map_err(|e| ConnectError::Failed(format!("{url}: {e}")))
}

/// A TCP connection to `target`, bound to `source` if given.
pub async fn tcp_from(source: Option<IpAddr>, target: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = match target {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(source) = source {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    let stream = socket.connect(target).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}
