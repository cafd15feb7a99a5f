//! Device and dashboard clients of one hub, and the two loads the figures come from: a closed loop (one
//! message at a time, latency to every dashboard) and an open loop (as fast as the socket takes, throughput).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::stats::Samples;

/// A client's WebSocket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
/// The sending half of a [`Socket`].
pub type Sender = SplitSink<Socket, Message>;
/// The receiving half of a [`Socket`].
pub type Receiver = SplitStream<Socket>;

/// How long any single wait may take before the benchmark gives up.
pub const STALL: Duration = Duration::from_secs(60);
/// Closed-loop messages sent before latency is recorded.
pub const WARM_UP_MESSAGES: u64 = 500;

/// Where the hub is and the dashboard credential (a read token for every device).
pub struct Target {
    /// The hub's port on 127.0.0.1.
    pub port: u16,
    /// Bearer token of a dashboard that may watch every device.
    pub dashboard_token: String,
}

impl Target {
    /// `ws://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    /// Opens a WebSocket to `path` with `token` as bearer and the extra `headers`.
    pub async fn connect_with(
        &self,
        path: &str,
        token: &str,
        headers: &[(&'static str, &str)],
    ) -> Result<Socket> {
        let mut request = self.url(path).into_client_request()?;
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse()?);
        for (name, value) in headers {
            request.headers_mut().insert(*name, value.parse()?);
        }
        let (socket, _) = tokio::time::timeout(STALL, connect_async(request))
            .await
            .context("handshake stalled")??;
        Ok(socket)
    }

    /// Opens a WebSocket to `path` with `token` as bearer.
    pub async fn connect(&self, path: &str, token: &str) -> Result<Socket> {
        self.connect_with(path, token, &[]).await
    }

    /// Connects as device `device_id`.
    pub async fn device(&self, device_id: &str, token: &str) -> Result<Socket> {
        self.connect(&format!("/ws/device/{device_id}"), token)
            .await
    }

    /// Connects a dashboard of `device_id` and reads its snapshot.
    pub async fn dashboard(&self, device_id: &str) -> Result<Socket> {
        let mut socket = self
            .connect(&format!("/ws/dashboard/{device_id}"), &self.dashboard_token)
            .await?;
        let snapshot = next_json(&mut socket).await?;
        if snapshot["type"] != "snapshot" {
            bail!("expected a snapshot, got {snapshot}");
        }
        Ok(socket)
    }
}

/// Closed loop: after [`WARM_UP_MESSAGES`], `messages` samples one at a time (the next once the ack of the last
/// is in), each watched by `dashboards`; the time from each send to each receipt.
pub async fn closed_loop_latency(
    target: &Target,
    device_id: &str,
    token: &str,
    dashboards: usize,
    messages: u64,
) -> Result<Samples> {
    let watchers = spawn_watchers(target, device_id, dashboards, "lat", messages).await?;
    let (mut sender, mut receiver) = target.device(device_id, token).await?.split();
    for seq in 1..=WARM_UP_MESSAGES {
        send_sample(&mut sender, "warm", seq).await?;
        wait_for_ack(&mut receiver, seq).await?;
    }
    let mut sent_at = Vec::with_capacity(usize::try_from(messages)?);
    for seq in 1..=messages {
        sent_at.push(Instant::now());
        send_sample(&mut sender, "lat", seq).await?;
        wait_for_ack(&mut receiver, seq).await?;
    }
    let mut samples = Samples::default();
    for watcher in watchers {
        for (seq, received) in watcher.await?? {
            let index = usize::try_from(seq - 1)?;
            samples.record(received.saturating_duration_since(sent_at[index]));
        }
    }
    Ok(samples)
}

/// Messages per second of an open loop: until the last ack, and until the last dashboard had every message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    /// Messages per second until the ack of the last one.
    pub acked: f64,
    /// Messages per second until every dashboard received the last one.
    pub delivered: f64,
}

/// Open loop: `count` samples as fast as the socket takes them, watched by `dashboards`.
pub async fn open_loop_throughput(
    target: &Target,
    device_id: &str,
    token: &str,
    dashboards: usize,
    count: u64,
) -> Result<Throughput> {
    let watchers = spawn_watchers(target, device_id, dashboards, "tp", count).await?;
    let (mut sender, mut receiver) = target.device(device_id, token).await?.split();
    let started = Instant::now();
    let acks = tokio::spawn(async move {
        wait_for_ack(&mut receiver, count).await?;
        Ok::<Duration, anyhow::Error>(started.elapsed())
    });
    for seq in 1..=count {
        sender
            .feed(Message::text(sample("tp", seq).to_string()))
            .await?;
        if seq % 64 == 0 {
            sender.flush().await?;
        }
    }
    sender.flush().await?;
    let acked = acks.await??;
    for watcher in watchers {
        watcher.await??;
    }
    let delivered = started.elapsed();
    let rate = |elapsed: Duration| count as f64 / elapsed.as_secs_f64();
    Ok(Throughput {
        acked: rate(acked),
        delivered: rate(delivered),
    })
}

/// Dashboards that record when each sample of `epoch` arrives, until seq `last`.
pub async fn spawn_watchers(
    target: &Target,
    device_id: &str,
    count: usize,
    epoch: &'static str,
    last: u64,
) -> Result<Vec<JoinHandle<Result<Vec<(u64, Instant)>>>>> {
    let mut watchers = Vec::with_capacity(count);
    for _ in 0..count {
        let (_, mut receiver) = target.dashboard(device_id).await?.split();
        watchers.push(tokio::spawn(async move {
            let mut arrivals = Vec::with_capacity(usize::try_from(last)?);
            loop {
                let message = next_message(&mut receiver).await?;
                let received = Instant::now();
                let value: Value = serde_json::from_str(&message)?;
                if value["type"] == "telemetry" && value["epoch"] == epoch {
                    let seq = value["seq"].as_u64().context("seq")?;
                    arrivals.push((seq, received));
                    if seq == last {
                        return Ok(arrivals);
                    }
                }
            }
        }));
    }
    Ok(watchers)
}

/// A telemetry message of `epoch` and `seq` with a fixed, plausible sample.
pub fn sample(epoch: &str, seq: u64) -> Value {
    json!({"type":"telemetry","epoch":epoch,"seq":seq,"ts":"2026-02-03T12:00:00.000Z",
           "data":{"battery":{"voltage":52.8,"soc":81.5,"current_a":-12.4},"pv_power_w":1830.0,"load_power_w":640.0}})
}

/// Sends [`sample`] and flushes.
pub async fn send_sample(sender: &mut Sender, epoch: &str, seq: u64) -> Result<()> {
    sender
        .send(Message::text(sample(epoch, seq).to_string()))
        .await?;
    Ok(())
}

/// Reads acks until one for `seq` or later; anything else is an error.
pub async fn wait_for_ack(receiver: &mut Receiver, seq: u64) -> Result<()> {
    loop {
        let text = next_message(receiver).await?;
        let value: Value = serde_json::from_str(&text)?;
        match value["type"].as_str() {
            Some("ack") if value["seq"].as_u64() >= Some(seq) => return Ok(()),
            Some("ack") => {}
            _ => bail!("unexpected message while waiting for ack {seq}: {text}"),
        }
    }
}

/// The next text message as JSON, skipping pings and pongs.
pub async fn next_json(socket: &mut Socket) -> Result<Value> {
    loop {
        let message = tokio::time::timeout(STALL, socket.next())
            .await
            .context("stalled")?;
        match message.context("socket ended")?? {
            Message::Text(text) => return Ok(serde_json::from_str(text.as_str())?),
            Message::Close(frame) => bail!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// The next text message, skipping pings and pongs.
pub async fn next_message(receiver: &mut Receiver) -> Result<String> {
    loop {
        let message = tokio::time::timeout(STALL, receiver.next())
            .await
            .context("stalled")?;
        match message.context("socket ended")?? {
            Message::Text(text) => return Ok(text.as_str().to_owned()),
            Message::Close(frame) => bail!("closed: {frame:?}"),
            _ => {}
        }
    }
}
