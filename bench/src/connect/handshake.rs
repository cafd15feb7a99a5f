//! One timed handshake: a device's (upgrade until `101`) or a dashboard's (upgrade until its snapshot), each
//! closed cleanly before the next one starts.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{WebSocketStream, client_async, connect_async};

use crate::connect::contender::{Contender, DEVICE_ID};

/// How long one handshake, or its close, may take before the benchmark gives up.
const STALL: Duration = Duration::from_secs(30);

/// Which handshake is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handshake {
    /// `GET /ws/device/{id}`, from sending the upgrade to receiving `101`.
    Device,
    /// `GET /ws/dashboard/{id}`, from sending the upgrade to receiving the snapshot.
    Dashboard,
}

impl Handshake {
    /// Both, in the order a round measures them.
    pub const ALL: [Self; 2] = [Self::Device, Self::Dashboard];

    /// How the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Device => "device (upgrade → 101)",
            Self::Dashboard => "dashboard (upgrade → snapshot)",
        }
    }

    fn endpoint(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::Dashboard => "dashboard",
        }
    }

    fn path(self) -> String {
        format!("/ws/{}/{DEVICE_ID}", self.endpoint())
    }
}

/// Checks that `hub` refuses `handshake` with a token that differs from the real one in its last character:
/// a hub that let it through would skip the work the comparison is about.
pub async fn expect_refusal(hub: &Contender, handshake: Handshake) -> Result<()> {
    let token = match handshake {
        Handshake::Device => &hub.device_token,
        Handshake::Dashboard => &hub.dashboard_token,
    };
    let mut wrong = token.clone();
    let last = wrong.pop().context("an empty token")?;
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    let mut request = hub.ws_url(&handshake.path()).into_client_request()?;
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {wrong}").parse()?);
    match timeout(STALL, connect_async(request)).await {
        Ok(Err(tungstenite::Error::Http(response))) if response.status().is_client_error() => {
            Ok(())
        }
        Ok(Err(other)) => bail!("{} hub: a wrong token failed oddly: {other}", hub.name),
        Ok(Ok(_)) => bail!(
            "{} hub accepted a {} handshake with a wrong token, so it checks less than the others",
            hub.name,
            handshake.endpoint()
        ),
        Err(_) => bail!("{} hub: no answer to a wrong token", hub.name),
    }
}

/// Performs `handshake` against `hub` and returns how long it took. The TCP connection is opened before the
/// clock starts and the socket is closed (both Close frames) after it stops.
pub async fn measure(hub: &Contender, handshake: Handshake) -> Result<Duration> {
    let token = match handshake {
        Handshake::Device => &hub.device_token,
        Handshake::Dashboard => &hub.dashboard_token,
    };
    let mut request = hub.ws_url(&handshake.path()).into_client_request()?;
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse()?);
    let tcp = TcpStream::connect(("127.0.0.1", hub.server.port())).await?;
    tcp.set_nodelay(true)?;
    let started = Instant::now();
    let (mut socket, _) = timeout(STALL, client_async(request, tcp))
        .await
        .context("no answer to the upgrade")??;
    let first_text = match handshake {
        Handshake::Device => None,
        Handshake::Dashboard => Some(first_text(&mut socket).await?),
    };
    let elapsed = started.elapsed();
    if let Some(text) = first_text {
        let frame: Value = serde_json::from_str(&text)?;
        if frame["type"] != "snapshot" {
            bail!("expected a snapshot first, got {text}");
        }
    }
    close(socket).await?;
    Ok(elapsed)
}

async fn first_text(socket: &mut WebSocketStream<TcpStream>) -> Result<String> {
    loop {
        let message = timeout(STALL, socket.next())
            .await
            .context("no snapshot")?
            .context("the socket ended before the snapshot")??;
        match message {
            Message::Text(text) => return Ok(text.as_str().to_owned()),
            Message::Close(frame) => bail!("closed before the snapshot: {frame:?}"),
            _ => {}
        }
    }
}

/// Sends Close and reads until the hub's Close (or the end of the stream).
async fn close(mut socket: WebSocketStream<TcpStream>) -> Result<()> {
    socket.send(Message::Close(None)).await?;
    let drained = timeout(STALL, async {
        while let Some(message) = socket.next().await {
            if matches!(message, Ok(Message::Close(_)) | Err(_)) {
                break;
            }
        }
    });
    drained.await.context("the hub did not answer Close")
}
