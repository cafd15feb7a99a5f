//! A day of history at 1 Hz: one device sends a sample for every second of the last 24 hours as batches (an
//! agent catching up), then the history query of the whole day in 1,000 points and the CSV export of one hour
//! are timed, with the rows each one read from the device object's storage meter.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use telemetry_protocol::limits::{MAX_BATCH_ITEMS, MAX_FRAME_BYTES};
use tokio_tungstenite::tungstenite::Message;

use crate::clients::wait_for_ack;
use crate::history::hub::{BenchHub, Meter};
use crate::history::reading::{reading, telemetry};
use crate::stats::{Samples, millis};

/// The device that holds the day.
pub const DEVICE_ID: &str = "day-1";
const EPOCH: &str = "day";
/// Queries thrown away before timing (the object loads, workerd compiles).
const WARM_UP_QUERIES: usize = 2;
/// How long the written day may take to show in the meter after the device leaves.
const WRITE_WAIT: Duration = Duration::from_secs(60);

/// What the day gave.
pub struct DayRun {
    /// Samples sent.
    pub samples: u64,
    /// Batches they went in, and the most samples in one.
    pub batches: usize,
    /// Most samples in one batch.
    pub largest_batch: usize,
    /// Samples per second from the first batch to the last ack.
    pub ingest_rate: f64,
    /// The object's meter once the day was written.
    pub written: Meter,
    /// Timings of the day's query in points.
    pub query: Samples,
    /// Buckets and samples in one answer.
    pub query_shape: (usize, u64),
    /// Rows read per day query.
    pub query_rows: f64,
    /// Timings of the one-hour CSV export.
    pub csv: Samples,
    /// Rows of one CSV export (samples).
    pub csv_lines: usize,
    /// Rows read per CSV export.
    pub csv_rows: f64,
    /// Timed requests of each kind.
    pub queries: usize,
}

/// Sends `samples` seconds ending now, waits until they are written, and times `queries` requests of each kind.
pub async fn run(hub: &BenchHub, samples: u64, queries: usize) -> Result<DayRun> {
    let now_s = Utc::now().timestamp() as u64;
    let first_s = now_s - samples;
    let items: Vec<String> = (0..samples)
        .map(|i| {
            let at = first_s + i;
            telemetry(EPOCH, i + 1, &rfc3339_secs(at), reading(1, at), false).to_string()
        })
        .collect();
    let batches = pack_batches(&items, MAX_BATCH_ITEMS, MAX_FRAME_BYTES);
    let largest_batch = batches.iter().map(|b| b.count).max().unwrap_or(0);
    let target = hub.target();
    let (mut sink, mut stream) = target
        .device(DEVICE_ID, hub.token(DEVICE_ID)?)
        .await?
        .split();
    let started = Instant::now();
    let mut sent = 0;
    for batch in &batches {
        sink.send(Message::text(batch.text.clone())).await?;
        sent += batch.count as u64;
        wait_for_ack(&mut stream, sent).await?;
    }
    let ingest_rate = samples as f64 / started.elapsed().as_secs_f64();
    // The device leaves: its object writes what it still holds.
    sink.send(Message::Close(None)).await?;
    drop((sink, stream));
    let written = wait_until_written(hub, samples).await?;

    let from_ms = first_s * 1000;
    let day = format!("/api/devices/{DEVICE_ID}/history?from={from_ms}&points=1000");
    let hour_from = from_ms + samples / 2 * 1000;
    let hour = format!(
        "/api/devices/{DEVICE_ID}/history.csv?from={hour_from}&to={}",
        hour_from + 3_600_000
    );
    let (query, query_rows, answer) = timed(hub, &day, queries).await?;
    let answer: Value = serde_json::from_str(&answer).context("the day's answer")?;
    let buckets = answer["buckets"].as_array().map_or(0, Vec::len);
    let counted: u64 = answer["buckets"]
        .as_array()
        .map_or(0, |b| b.iter().filter_map(|b| b["n"].as_u64()).sum());
    let (csv, csv_rows, text) = timed(hub, &hour, queries).await?;
    Ok(DayRun {
        samples,
        batches: batches.len(),
        largest_batch,
        ingest_rate,
        written,
        query,
        query_shape: (buckets, counted),
        query_rows,
        csv,
        csv_lines: text.lines().count().saturating_sub(1),
        csv_rows,
        queries,
    })
}

/// Polls the meter until `samples` are written.
async fn wait_until_written(hub: &BenchHub, samples: u64) -> Result<Meter> {
    let deadline = Instant::now() + WRITE_WAIT;
    loop {
        let meter = hub.meter(DEVICE_ID).await?;
        if meter.samples_written >= samples {
            return Ok(meter);
        }
        if Instant::now() > deadline {
            bail!(
                "only {} of {samples} samples written {WRITE_WAIT:?} after the device left",
                meter.samples_written
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Times `count` GETs of `path` after a warm-up; the rows each read (the meter's delta, less what reading the
/// meter itself costs) and the last body.
async fn timed(hub: &BenchHub, path: &str, count: usize) -> Result<(Samples, f64, String)> {
    for _ in 0..WARM_UP_QUERIES {
        expect_ok(hub, path).await?;
    }
    let first = hub.meter(DEVICE_ID).await?;
    let second = hub.meter(DEVICE_ID).await?;
    let meter_cost = second.since(&first).rows_read;
    let mut timings = Samples::default();
    let mut body = String::new();
    for _ in 0..count {
        let started = Instant::now();
        body = expect_ok(hub, path).await?;
        timings.record(started.elapsed());
    }
    let after = hub.meter(DEVICE_ID).await?;
    let read = after.since(&second).rows_read.saturating_sub(meter_cost);
    Ok((timings, read as f64 / count as f64, body))
}

async fn expect_ok(hub: &BenchHub, path: &str) -> Result<String> {
    let response = hub.dashboard_get(path).await;
    ensure!(
        response.status == 200,
        "GET {path}: {}: {}",
        response.status,
        response.body
    );
    Ok(response.body)
}

fn rfc3339_secs(unix_secs: u64) -> String {
    DateTime::<Utc>::from_timestamp(unix_secs as i64, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One `batch` message and how many samples it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedBatch {
    /// The message.
    pub text: String,
    /// Samples in it.
    pub count: usize,
}

/// Packs serialised batch items into as few `{"type":"batch","items":[…]}` messages as the limits allow: at
/// most `max_items` items and `max_bytes` bytes each (an item too large alone still goes alone).
pub fn pack_batches(items: &[String], max_items: usize, max_bytes: usize) -> Vec<PackedBatch> {
    const HEAD: &str = r#"{"type":"batch","items":["#;
    const TAIL: &str = "]}";
    let mut batches = Vec::new();
    let mut text = String::from(HEAD);
    let mut count = 0;
    for item in items {
        let grown = text.len() + usize::from(count > 0) + item.len() + TAIL.len();
        if count > 0 && (count == max_items || grown > max_bytes) {
            text.push_str(TAIL);
            batches.push(PackedBatch { text, count });
            text = String::from(HEAD);
            count = 0;
        }
        if count > 0 {
            text.push(',');
        }
        text.push_str(item);
        count += 1;
    }
    if count > 0 {
        text.push_str(TAIL);
        batches.push(PackedBatch { text, count });
    }
    batches
}

/// The day's table.
pub fn render(day: &DayRun) -> String {
    let mut query = day.query.clone();
    let mut csv = day.csv.clone();
    let mut out = format!(
        "## A day of history (current tree)\n\n{} samples one second apart over the last {:.1} h, sent in {} \
         batches of up to {} samples{}, {:.0} samples/s until the last ack. Then {} timed requests of each kind after {WARM_UP_QUERIES} untimed ones, each a \
         fresh HTTP/1.1 connection; rows read from the object's storage meter.\n\n",
        day.samples,
        day.samples as f64 / 3600.0,
        day.batches,
        day.largest_batch,
        if day.largest_batch < MAX_BATCH_ITEMS && day.batches > 1 {
            format!(
                " (the {} KiB frame limit holds no more of these samples)",
                MAX_FRAME_BYTES / 1024
            )
        } else {
            String::new()
        },
        day.ingest_rate,
        day.queries
    );
    out.push_str(
        "| request | p50 | p99 | rows read per request | answer |\n|---|---:|---:|---:|---|\n",
    );
    let _ = writeln!(
        out,
        "| `history?from=<24 h ago>&points=1000` | {} | {} | {:.1} | {} buckets holding {} samples |",
        millis(query.percentile(50.0)),
        millis(query.percentile(99.0)),
        day.query_rows,
        day.query_shape.0,
        day.query_shape.1
    );
    let _ = writeln!(
        out,
        "| `history.csv`, one hour | {} | {} | {:.1} | {} rows |",
        millis(csv.percentile(50.0)),
        millis(csv.percentile(99.0)),
        day.csv_rows,
        day.csv_lines
    );
    let _ = writeln!(
        out,
        "\nThe object after the day: {} samples in {} groups, {} rows written, database {} bytes \
         ({:.1} bytes per stored sample).",
        day.written.samples_written,
        day.written.groups_written,
        day.written.rows_written,
        day.written.database_bytes,
        bytes_per_sample(&day.written)
    );
    out
}

/// Database bytes per sample written.
pub fn bytes_per_sample(meter: &Meter) -> f64 {
    meter.database_bytes as f64 / meter.samples_written.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_within_both_limits() {
        let items: Vec<String> = (0..10).map(|i| format!("{{\"n\":{i}}}")).collect();
        let by_count = pack_batches(&items, 4, 1 << 20);
        assert_eq!(
            by_count.iter().map(|b| b.count).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        let parsed: Value = serde_json::from_str(&by_count[0].text).expect("JSON");
        assert_eq!(parsed["items"].as_array().map(Vec::len), Some(4));
        let by_bytes = pack_batches(&items, 500, 50);
        assert!(by_bytes.iter().all(|b| b.text.len() <= 50), "{by_bytes:?}");
        assert_eq!(by_bytes.iter().map(|b| b.count).sum::<usize>(), 10);
        assert!(pack_batches(&[], 5, 50).is_empty());
    }

    #[test]
    fn a_day_of_samples_fits_the_frame_limit() {
        let items: Vec<String> = (0..1000)
            .map(|i| {
                let at = 1_770_000_000 + i;
                telemetry(EPOCH, 86_000 + i, &rfc3339_secs(at), reading(1, at), false).to_string()
            })
            .collect();
        let batches = pack_batches(&items, MAX_BATCH_ITEMS, MAX_FRAME_BYTES);
        assert!(batches.iter().all(|b| b.text.len() <= MAX_FRAME_BYTES));
        assert!(batches.iter().all(|b| b.count <= MAX_BATCH_ITEMS));
    }
}
