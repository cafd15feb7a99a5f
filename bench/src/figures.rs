//! The default mode: latency from device to dashboards, sustained messages per second into one device, batch
//! ingest, and connect time including the D1 check, against one hub of the current tree. Prints the Markdown
//! table the README's figures come from. Sizes: `HUB_BENCH_MESSAGES`, `HUB_BENCH_DASHBOARDS`, `HUB_BENCH_CONNECTS`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hub_e2e::{Access, DashboardScope, HubServer};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::stats::{Samples, millis};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Sender = SplitSink<Socket, Message>;
type Receiver = SplitStream<Socket>;

/// How long any single wait may take before the benchmark gives up.
const STALL: Duration = Duration::from_secs(60);
const WARM_UP_MESSAGES: u64 = 500;
const BATCH_SIZE: u64 = 200;

struct Settings {
    messages: u64,
    dashboards: usize,
    connects: usize,
}

impl Settings {
    fn from_env() -> Result<Self> {
        let read = |name: &str, default: u64| -> Result<u64> {
            match std::env::var(name) {
                Ok(text) => text
                    .parse()
                    .with_context(|| format!("{name} must be a number")),
                Err(_) => Ok(default),
            }
        };
        Ok(Self {
            messages: read("HUB_BENCH_MESSAGES", 10_000)?,
            dashboards: usize::try_from(read("HUB_BENCH_DASHBOARDS", 10)?)?,
            connects: usize::try_from(read("HUB_BENCH_CONNECTS", 200)?)?,
        })
    }
}

/// Everything a phase needs: where the hub is and the credentials.
struct Target {
    port: u16,
    dashboard_token: String,
}

impl Target {
    fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    async fn connect(&self, path: &str, token: &str) -> Result<Socket> {
        let mut request = self.url(path).into_client_request()?;
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse()?);
        let (socket, _) = tokio::time::timeout(STALL, connect_async(request))
            .await
            .context("handshake stalled")??;
        Ok(socket)
    }

    /// Connects a dashboard of `device_id` and reads its snapshot.
    async fn dashboard(&self, device_id: &str) -> Result<Socket> {
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

/// Worker variables of the measured hub: limits far above what the benchmark sends.
const BENCH_VARS: &[(&str, &str)] = &[
    ("DEVICE_FRAMES_PER_SEC", "1000000"),
    ("DEVICE_BYTES_PER_SEC", "1000000000"),
    ("DASHBOARD_FRAMES_PER_SEC", "1000000"),
    ("MAX_DASHBOARDS_PER_DEVICE", "10000"),
    ("AUTH_FAILURE_LIMIT", "1000000"),
    ("AUTH_FAILURE_ADDRESS_LIMIT", "1000000"),
];

/// Starts a hub of the current tree and measures it; prints the table.
pub async fn run() -> Result<()> {
    let settings = Settings::from_env()?;
    eprintln!("hub-bench: building the Worker and starting wrangler dev …");
    // The benchmark floods one device on purpose: lift the flood limits (they are measured by the tests).
    let hub = tokio::task::spawn_blocking(|| HubServer::start_with_vars(BENCH_VARS)).await?;
    let ids = [
        "bench-latency",
        "bench-throughput",
        "bench-batch",
        "bench-connect",
    ];
    let devices = hub.provision_devices(&ids);
    let token = |id: &str| -> Result<String> {
        devices
            .iter()
            .find(|d| d.device_id.as_str() == id)
            .map(|d| d.token.clone())
            .context("device not provisioned")
    };
    let target = Target {
        port: hub.port(),
        dashboard_token: hub
            .provision_dashboard(&DashboardScope::All, Access::Read)
            .token,
    };
    let mut rows = Vec::new();
    eprintln!("hub-bench: latency …");
    rows.extend(latency(&target, &token("bench-latency")?, &settings).await?);
    eprintln!("hub-bench: throughput …");
    rows.extend(throughput(&target, &token("bench-throughput")?, &settings).await?);
    eprintln!("hub-bench: batch ingest …");
    rows.extend(batch_ingest(&target, &token("bench-batch")?, &settings).await?);
    eprintln!("hub-bench: connect time …");
    rows.extend(connect_time(&target, &token("bench-connect")?, &settings).await?);
    println!("| measure | result |\n|---|---|");
    for (measure, result) in rows {
        println!("| {measure} | {result} |");
    }
    Ok(())
}

/// Closed loop: one message at a time, each to `dashboards` watchers; latency from send to each receipt.
async fn latency(
    target: &Target,
    token: &str,
    settings: &Settings,
) -> Result<Vec<(String, String)>> {
    let device_id = "bench-latency";
    let watchers = spawn_watchers(
        target,
        device_id,
        settings.dashboards,
        "lat",
        settings.messages,
    )
    .await?;
    let (mut sender, mut receiver) = target
        .connect(&format!("/ws/device/{device_id}"), token)
        .await?
        .split();
    for seq in 1..=WARM_UP_MESSAGES {
        send_sample(&mut sender, "warm", seq).await?;
        wait_for_ack(&mut receiver, seq).await?;
    }
    let mut sent_at = Vec::with_capacity(usize::try_from(settings.messages)?);
    for seq in 1..=settings.messages {
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
    let label = format!(
        "device → dashboard latency ({} messages × {} dashboards = {} deliveries)",
        settings.messages,
        settings.dashboards,
        samples.len()
    );
    Ok(vec![(
        label,
        format!(
            "p50 {} · p99 {} · max {}",
            millis(samples.percentile(50.0)),
            millis(samples.percentile(99.0)),
            millis(samples.percentile(100.0))
        ),
    )])
}

/// Open loop: the device sends as fast as the socket takes; rate until the last ack and the last delivery.
async fn throughput(
    target: &Target,
    token: &str,
    settings: &Settings,
) -> Result<Vec<(String, String)>> {
    let device_id = "bench-throughput";
    let count = settings.messages * 2;
    let watchers = spawn_watchers(target, device_id, settings.dashboards, "tp", count).await?;
    let (mut sender, mut receiver) = target
        .connect(&format!("/ws/device/{device_id}"), token)
        .await?
        .split();
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
    Ok(vec![
        (
            format!(
                "sustained messages/s into one device ({count} messages, {} dashboards attached)",
                settings.dashboards
            ),
            format!("{:.0} msg/s acked", rate(acked)),
        ),
        (
            "… delivered to every dashboard".to_owned(),
            format!(
                "{:.0} msg/s ({:.0} frames/s out)",
                rate(delivered),
                rate(delivered) * settings.dashboards as f64
            ),
        ),
    ])
}

/// Samples per second arriving as `batch` messages (an agent catching up after an outage).
async fn batch_ingest(
    target: &Target,
    token: &str,
    settings: &Settings,
) -> Result<Vec<(String, String)>> {
    let device_id = "bench-batch";
    let count = settings.messages * 2;
    let (mut sender, mut receiver) = target
        .connect(&format!("/ws/device/{device_id}"), token)
        .await?
        .split();
    let started = Instant::now();
    let mut seq = 0;
    while seq < count {
        let items: Vec<Value> = (seq + 1..=(seq + BATCH_SIZE).min(count))
            .map(|s| sample("batch", s))
            .collect();
        seq += items.len() as u64;
        sender
            .send(Message::text(
                json!({"type":"batch","items":items}).to_string(),
            ))
            .await?;
        wait_for_ack(&mut receiver, seq).await?;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    Ok(vec![(
        format!("batch ingest ({count} samples in batches of {BATCH_SIZE}, no dashboards)"),
        format!("{rate:.0} samples/s"),
    )])
}

/// Handshake time including the token check against D1, for devices and for dashboards (until the snapshot).
async fn connect_time(
    target: &Target,
    token: &str,
    settings: &Settings,
) -> Result<Vec<(String, String)>> {
    let device_id = "bench-connect";
    let mut devices = Samples::default();
    let mut kept = None;
    for _ in 0..settings.connects {
        let started = Instant::now();
        let socket = target
            .connect(&format!("/ws/device/{device_id}"), token)
            .await?;
        devices.record(started.elapsed());
        kept = Some(socket);
    }
    drop(kept);
    let mut dashboards = Samples::default();
    for _ in 0..settings.connects {
        let started = Instant::now();
        let socket = target.dashboard(device_id).await?;
        dashboards.record(started.elapsed());
        drop(socket);
    }
    let summary = |s: &mut Samples| {
        format!(
            "p50 {} · p99 {}",
            millis(s.percentile(50.0)),
            millis(s.percentile(99.0))
        )
    };
    Ok(vec![
        (
            format!(
                "device connect incl. D1 token check ({} handshakes)",
                settings.connects
            ),
            summary(&mut devices),
        ),
        (
            format!(
                "dashboard connect until snapshot ({} handshakes)",
                settings.connects
            ),
            summary(&mut dashboards),
        ),
    ])
}

/// Dashboards that record when each sample of `epoch` arrives, until seq `last`.
async fn spawn_watchers(
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

fn sample(epoch: &str, seq: u64) -> Value {
    json!({"type":"telemetry","epoch":epoch,"seq":seq,"ts":"2026-02-03T12:00:00.000Z",
           "data":{"battery":{"voltage":52.8,"soc":81.5,"current_a":-12.4},"pv_power_w":1830.0,"load_power_w":640.0}})
}

async fn send_sample(sender: &mut Sender, epoch: &str, seq: u64) -> Result<()> {
    sender
        .send(Message::text(sample(epoch, seq).to_string()))
        .await?;
    Ok(())
}

async fn wait_for_ack(receiver: &mut Receiver, seq: u64) -> Result<()> {
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

async fn next_json(socket: &mut Socket) -> Result<Value> {
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

async fn next_message(receiver: &mut Receiver) -> Result<String> {
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
