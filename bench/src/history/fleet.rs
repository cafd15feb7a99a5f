//! A fleet at 1 Hz: many devices, each watched by one dashboard, each sending one sample a second (spread over
//! the second) for a while. Counts what was sent, delivered, acked and (on a hub that knows the extension)
//! stored and found in the history afterwards, and the latency from device to dashboard.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{SecondsFormat, Utc};
use futures_util::stream::{self, SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio::time::timeout_at;
use tokio_tungstenite::tungstenite::Message;

use crate::clients::{Socket, Target};
use crate::history::hub::BenchHub;
use crate::history::reading::{reading, telemetry};
use crate::stats::Samples;

/// The epoch every device of the fleet sends in.
const EPOCH: &str = "fleet";
/// Handshakes in flight at once while the fleet connects.
const CONNECTING_AT_ONCE: usize = 16;
/// History requests in flight at once while counting what was stored.
const QUERIES_AT_ONCE: usize = 8;
/// How long after the last sample acks and deliveries may still come.
const DELIVERY_DRAIN: Duration = Duration::from_secs(15);
/// When after the first sample the meters are read first: connecting set its alarms by then.
const METER_AFTER_START: Duration = Duration::from_secs(5);
/// How long before the last sample the meters are read again: while every object is busy, so none has
/// hibernated (a meter counts since its object started).
const METER_BEFORE_END: Duration = Duration::from_secs(3);
/// How long the history may take to hold the groups that the devices' leaving writes.
const LEAVING_WRITES: Duration = Duration::from_secs(3);
/// Device objects whose storage meter is read for the alarm rate.
const METERED_DEVICES: usize = 20;

/// The device ids of a fleet of `count`.
pub fn device_ids(count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("fleet-{i:04}")).collect()
}

/// What a fleet run on one hub gave.
#[derive(Debug, Default)]
pub struct FleetRun {
    /// Devices asked for.
    pub asked: usize,
    /// Device and dashboard pairs that connected.
    pub connected: usize,
    /// Why connecting stopped early, if it did.
    pub connect_error: Option<String>,
    /// How long connecting took.
    pub connect_time: Duration,
    /// Samples sent.
    pub sent: u64,
    /// Samples received by the dashboards (each seq once).
    pub received: u64,
    /// Samples acked (the highest ack of each device, summed).
    pub acked: u64,
    /// Samples told stored, when the hub sends `stored` messages.
    pub stored: Option<u64>,
    /// Samples the history API returns afterwards, when it has one.
    pub found: Option<u64>,
    /// Device → dashboard latency of every delivery.
    pub latency: Samples,
    /// Alarms set per device-minute, from the meters of a few device objects, and how many were read.
    pub alarms_per_minute: Option<(f64, usize)>,
}

/// One device of the fleet, connected.
struct Member {
    device_id: String,
    device: Socket,
    dashboard: Socket,
}

/// Runs the fleet of `ids` on `hub` for `secs` seconds. `with_history`: the hub sends `stored` and answers
/// history queries.
pub async fn run(
    hub: &BenchHub,
    ids: &[String],
    secs: u64,
    with_history: bool,
) -> Result<FleetRun> {
    let target = hub.target();
    let mut run = FleetRun {
        asked: ids.len(),
        ..FleetRun::default()
    };
    let connecting = Instant::now();
    let (members, error) = connect_all(hub, &target, ids).await;
    run.connect_time = connecting.elapsed();
    run.connected = members.len();
    run.connect_error = error;
    eprintln!(
        "hub-bench: {}: {} of {} devices and dashboards connected in {:.1} s{}",
        hub.name,
        run.connected,
        run.asked,
        run.connect_time.as_secs_f64(),
        run.connect_error
            .as_deref()
            .map_or(String::new(), |e| format!(" (stopped: {e})"))
    );
    if members.is_empty() {
        bail!("{}: no device of the fleet connected", hub.name);
    }
    let run_started_ms = Utc::now().timestamp_millis();
    let start = tokio::time::Instant::now() + Duration::from_secs(1);
    let last_sample = start + Duration::from_secs(secs);
    let deadline = last_sample + DELIVERY_DRAIN;
    let count = members.len();
    let step = (count / METERED_DEVICES).max(1);
    let metered: Vec<String> = members
        .iter()
        .step_by(step)
        .take(METERED_DEVICES)
        .map(|m| m.device_id.clone())
        .collect();
    let mut tasks = Vec::with_capacity(count);
    for (index, member) in members.into_iter().enumerate() {
        let offset = Duration::from_micros(1_000_000 * index as u64 / count as u64);
        let (sink, stream) = member.device.split();
        let (_, dashboard) = member.dashboard.split();
        let system = index as u64;
        let sender = tokio::spawn(send_at_1hz(sink, start + offset, secs, system));
        let device = tokio::spawn(read_device(stream, secs, deadline));
        let watcher = tokio::spawn(watch(dashboard, secs, deadline));
        tasks.push((member.device_id, sender, device, watcher));
    }
    let meters = async {
        if !with_history {
            return Ok(None);
        }
        // Two readings while every device sends: the alarms between them, without those of connecting.
        tokio::time::sleep_until(start + METER_AFTER_START).await;
        let first = meter_alarms(hub, &metered).await?;
        let end = last_sample.checked_sub(METER_BEFORE_END).unwrap_or(start);
        tokio::time::sleep_until(end.max(tokio::time::Instant::now())).await;
        let second = meter_alarms(hub, &metered).await?;
        let device_minutes: f64 = first
            .iter()
            .zip(&second)
            .map(|((_, a), (_, b))| b.duration_since(*a).as_secs_f64() / 60.0)
            .sum();
        let alarms: u64 = first
            .iter()
            .zip(&second)
            .map(|((a, _), (b, _))| b.saturating_sub(*a))
            .sum();
        Ok::<_, anyhow::Error>(
            (device_minutes > 0.0).then(|| (alarms as f64 / device_minutes, metered.len())),
        )
    };
    let collect = async {
        let mut stored_total = 0;
        let mut sinks = Vec::with_capacity(count);
        for (device_id, sender, device, watcher) in tasks {
            let (sent_at, sink) = joined(sender)
                .await
                .with_context(|| format!("{device_id} sending"))?;
            let told = joined(device)
                .await
                .with_context(|| format!("{device_id} reading"))?;
            let arrivals = joined(watcher)
                .await
                .with_context(|| format!("{device_id}'s dashboard"))?;
            run.sent += sent_at.len() as u64;
            run.acked += told.acked;
            stored_total += told.stored;
            sinks.push(sink);
            let mut seen = vec![false; sent_at.len() + 1];
            for (seq, at) in arrivals {
                let index = usize::try_from(seq)?;
                if index >= 1 && index <= sent_at.len() && !seen[index] {
                    seen[index] = true;
                    run.received += 1;
                    run.latency
                        .record(at.saturating_duration_since(sent_at[index - 1]));
                }
            }
        }
        Ok::<_, anyhow::Error>((stored_total, sinks))
    };
    let (alarms, collected) = tokio::join!(meters, collect);
    let (stored_total, sinks) = collected?;
    // Every device leaves, as an agent that stops does: its object writes the group it holds.
    for mut sink in sinks {
        let _ = sink.send(Message::Close(None)).await;
    }
    if with_history {
        run.alarms_per_minute = alarms?;
        run.stored = Some(stored_total);
        tokio::time::sleep(LEAVING_WRITES).await;
        run.found = Some(found_in_history(hub, ids, count, run_started_ms - 60_000).await?);
    }
    Ok(run)
}

async fn joined<T>(task: JoinHandle<Result<T>>) -> Result<T> {
    task.await.context("a task of the fleet panicked")?
}

/// Connects a dashboard and then the device, [`CONNECTING_AT_ONCE`] at a time; stops at the first failure.
async fn connect_all(
    hub: &BenchHub,
    target: &Target,
    ids: &[String],
) -> (Vec<Member>, Option<String>) {
    let mut members = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CONNECTING_AT_ONCE) {
        let results = stream::iter(chunk)
            .map(|id| connect_one(hub, target, id))
            .buffered(CONNECTING_AT_ONCE)
            .collect::<Vec<_>>()
            .await;
        for result in results {
            match result {
                Ok(member) => members.push(member),
                Err(error) => return (members, Some(format!("{error:#}"))),
            }
        }
    }
    (members, None)
}

async fn connect_one(hub: &BenchHub, target: &Target, id: &str) -> Result<Member> {
    let dashboard = target
        .dashboard(id)
        .await
        .with_context(|| format!("dashboard of {id}"))?;
    let device = target
        .connect_with(
            &format!("/ws/device/{id}"),
            hub.token(id)?,
            &[("Telemetry-Ack", "stored")],
        )
        .await
        .with_context(|| format!("device {id}"))?;
    Ok(Member {
        device_id: id.to_owned(),
        device,
        dashboard,
    })
}

/// Sends seq 1 to `secs`, one a second from `first`; when each was sent. Hands the sink back, so that the
/// socket stays open until the reader is done.
async fn send_at_1hz(
    mut sink: SplitSink<Socket, Message>,
    first: tokio::time::Instant,
    secs: u64,
    system: u64,
) -> Result<(Vec<Instant>, SplitSink<Socket, Message>)> {
    let mut sent_at = Vec::with_capacity(usize::try_from(secs)?);
    for seq in 1..=secs {
        tokio::time::sleep_until(first + Duration::from_secs(seq - 1)).await;
        let now = Utc::now();
        let ts = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        let data = reading(system, u64::try_from(now.timestamp())?);
        let message = telemetry(EPOCH, seq, &ts, data, true);
        sent_at.push(Instant::now());
        sink.send(Message::text(message.to_string())).await?;
    }
    Ok((sent_at, sink))
}

/// What a device was told.
struct Told {
    acked: u64,
    stored: u64,
}

/// Reads acks and `stored` messages until every sample is acked, or `deadline`.
async fn read_device(
    mut stream: SplitStream<Socket>,
    secs: u64,
    deadline: tokio::time::Instant,
) -> Result<Told> {
    let mut acked = 0;
    let mut stored = vec![false; usize::try_from(secs)? + 1];
    let mut stored_count = 0;
    while acked < secs {
        let Ok(next) = timeout_at(deadline, stream.next()).await else {
            break;
        };
        let text = match next.context("the device socket ended")?? {
            Message::Text(text) => text,
            Message::Close(frame) => bail!("the device socket was closed: {frame:?}"),
            _ => continue,
        };
        let value: Value = serde_json::from_str(text.as_str())?;
        match value["type"].as_str() {
            Some("ack") => acked = acked.max(value["seq"].as_u64().unwrap_or(0)),
            Some("stored") if value["epoch"] == EPOCH => {
                let from = value["from"].as_u64().unwrap_or(1).max(1);
                let to = value["to"].as_u64().unwrap_or(0).min(secs);
                for seq in from..=to {
                    let slot = &mut stored[usize::try_from(seq)?];
                    if !*slot {
                        *slot = true;
                        stored_count += 1;
                    }
                }
            }
            Some("error") => bail!("the hub refused a sample: {text}"),
            _ => {}
        }
    }
    Ok(Told {
        acked,
        stored: stored_count,
    })
}

/// Records when each sample of the fleet's epoch arrives, until seq `secs` or `deadline`.
async fn watch(
    mut stream: SplitStream<Socket>,
    secs: u64,
    deadline: tokio::time::Instant,
) -> Result<Vec<(u64, Instant)>> {
    let mut arrivals = Vec::with_capacity(usize::try_from(secs)?);
    loop {
        let Ok(next) = timeout_at(deadline, stream.next()).await else {
            return Ok(arrivals);
        };
        let text = match next.context("the dashboard socket ended")?? {
            Message::Text(text) => text,
            Message::Close(frame) => bail!("the dashboard socket was closed: {frame:?}"),
            _ => continue,
        };
        let received = Instant::now();
        let value: Value = serde_json::from_str(text.as_str())?;
        if value["type"] == "telemetry" && value["epoch"] == EPOCH {
            let seq = value["seq"].as_u64().context("seq")?;
            arrivals.push((seq, received));
            if seq == secs {
                return Ok(arrivals);
            }
        }
    }
}

/// Samples of the fleet's epoch that the CSV export of each connected device holds, each seq once.
async fn found_in_history(
    hub: &BenchHub,
    ids: &[String],
    count: usize,
    from_ms: i64,
) -> Result<u64> {
    let counts = stream::iter(&ids[..count])
        .map(|id| async move {
            let response = hub
                .dashboard_get(&format!("/api/devices/{id}/history.csv?from={from_ms}"))
                .await;
            if response.status != 200 {
                bail!("history of {id}: {}: {}", response.status, response.body);
            }
            Ok(epoch_rows(&response.body, EPOCH))
        })
        .buffer_unordered(QUERIES_AT_ONCE)
        .collect::<Vec<Result<u64>>>()
        .await;
    counts.into_iter().sum()
}

/// Distinct seqs of `epoch` in a CSV export (`ts,received_at,epoch,seq,…`).
pub fn epoch_rows(csv: &str, epoch: &str) -> u64 {
    let mut seqs: Vec<u64> = csv
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut columns = line.split(',');
            let found = columns.nth(2)?;
            (found == epoch).then(|| columns.next()?.parse().ok())?
        })
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    seqs.len() as u64
}

/// Alarms set so far by the object of each of `metered`, with when each meter was read.
async fn meter_alarms(hub: &BenchHub, metered: &[String]) -> Result<Vec<(u64, Instant)>> {
    let mut readings = Vec::with_capacity(metered.len());
    for id in metered {
        readings.push((hub.meter(id).await?.alarms_set, Instant::now()));
    }
    Ok(readings)
}

/// The fleet table: one column per hub that ran.
pub fn render(runs: &[(&BenchHub, FleetRun)], secs: u64) -> String {
    let Some((_, first)) = runs.first() else {
        return String::new();
    };
    let mut out = format!(
        "## A fleet at 1 Hz\n\n{} devices (each with one dashboard, all devices asking for `stored`) sending one \
         sample a second for {secs} s, spread over the second; the hubs one after the other, default history \
         settings. Stored: seqs that `stored` messages named while the device was connected (a group is written \
         when it holds 1,000 samples or is 600 s old, and a device's first frame at once); then every device \
         leaves, which writes its group, and found counts the seqs in each device's history CSV. Alarms: the \
         meters of a few objects read {} s after the first sample and {} s before the last, the difference \
         divided by the time between.\n\n",
        first.asked,
        METER_AFTER_START.as_secs(),
        METER_BEFORE_END.as_secs()
    );
    out.push_str("| | ");
    out.push_str(
        &runs
            .iter()
            .map(|(hub, _)| hub.name)
            .collect::<Vec<_>>()
            .join(" | "),
    );
    out.push_str(" |\n|---|");
    out.push_str(&"---:|".repeat(runs.len()));
    out.push('\n');
    let optional = |v: Option<u64>| v.map_or("n/a".to_owned(), |v| v.to_string());
    let rows: Vec<(&str, Cell)> = vec![
        (
            "devices connected (of asked)",
            Box::new(|r| format!("{} of {}", r.connected, r.asked)),
        ),
        (
            "connecting took",
            Box::new(|r| format!("{:.1} s", r.connect_time.as_secs_f64())),
        ),
        ("samples sent", Box::new(|r| r.sent.to_string())),
        (
            "received by dashboards",
            Box::new(|r| r.received.to_string()),
        ),
        ("acked", Box::new(|r| r.acked.to_string())),
        (
            "stored, told while connected",
            Box::new(move |r| optional(r.stored)),
        ),
        (
            "found via the history API after leaving",
            Box::new(move |r| optional(r.found)),
        ),
        (
            "lost (sent − received)",
            Box::new(|r| (r.sent - r.received.min(r.sent)).to_string()),
        ),
        (
            "latency device → dashboard p50",
            Box::new(|r| format!("{:.1} ms", ms(&r.latency, 50.0))),
        ),
        (
            "latency device → dashboard p99",
            Box::new(|r| format!("{:.1} ms", ms(&r.latency, 99.0))),
        ),
        (
            "alarms set per device-minute (meters read)",
            Box::new(|r| {
                r.alarms_per_minute
                    .map_or("n/a".to_owned(), |(rate, n)| format!("{rate:.2} ({n})"))
            }),
        ),
    ];
    for (label, cell) in rows {
        let _ = write!(out, "| {label} |");
        for (_, run) in runs {
            let _ = write!(out, " {} |", cell(run));
        }
        out.push('\n');
    }
    for (hub, run) in runs {
        if let Some(error) = &run.connect_error {
            let _ = writeln!(
                out,
                "\n{}: connecting stopped after {} devices: {error}",
                hub.name, run.connected
            );
        }
    }
    out
}

/// How one row of the fleet table shows a run.
type Cell = Box<dyn Fn(&FleetRun) -> String>;

fn ms(samples: &Samples, p: f64) -> f64 {
    samples.clone().percentile(p).as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_seq_of_the_epoch_once() {
        let csv = "ts,received_at,epoch,seq,battery.soc\n\
                   a,b,fleet,1,5\na,b,fleet,2,5\na,b,other,3,5\na,b,fleet,2,5\n";
        assert_eq!(epoch_rows(csv, "fleet"), 2);
        assert_eq!(epoch_rows("ts,received_at,epoch,seq\n", "fleet"), 0);
    }

    #[test]
    fn ids_are_valid_and_sorted() {
        let ids = device_ids(1000);
        assert_eq!(ids.first().map(String::as_str), Some("fleet-0001"));
        assert_eq!(ids.last().map(String::as_str), Some("fleet-1000"));
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
