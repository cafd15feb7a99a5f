//! The default mode: latency from device to dashboards, sustained messages per second into one device, batch
//! ingest, and connect time including the D1 check, against one hub of the current tree. Prints the Markdown
//! table the README's figures come from. Sizes: `HUB_BENCH_MESSAGES`, `HUB_BENCH_DASHBOARDS`, `HUB_BENCH_CONNECTS`.

use std::time::Instant;

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use hub_e2e::{Access, DashboardScope, HubServer};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::clients::{Target, closed_loop_latency, open_loop_throughput, sample, wait_for_ack};
use crate::stats::{Samples, millis};

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

/// Worker variables of the measured hub: limits far above what the benchmark sends.
pub const BENCH_VARS: &[(&str, &str)] = &[
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
    let mut samples = closed_loop_latency(
        target,
        "bench-latency",
        token,
        settings.dashboards,
        settings.messages,
    )
    .await?;
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
    let count = settings.messages * 2;
    let rates = open_loop_throughput(
        target,
        "bench-throughput",
        token,
        settings.dashboards,
        count,
    )
    .await?;
    Ok(vec![
        (
            format!(
                "sustained messages/s into one device ({count} messages, {} dashboards attached)",
                settings.dashboards
            ),
            format!("{:.0} msg/s acked", rates.acked),
        ),
        (
            "… delivered to every dashboard".to_owned(),
            format!(
                "{:.0} msg/s ({:.0} frames/s out)",
                rates.delivered,
                rates.delivered * settings.dashboards as f64
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
    let (mut sender, mut receiver) = target.device(device_id, token).await?.split();
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
