//! The storage counters of the cost model: one device streams samples as single telemetry frames to a hub that
//! writes a group every [`FLUSH_SAMPLES`] samples (what ten minutes at 1 Hz give), and its object's meter says
//! what they cost; then the cost of a device-month at 1 Hz, measured for the current tree and computed for the
//! baseline from what it is known to do per frame.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{SecondsFormat, Utc};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

use crate::history::cost::{Counters, MONTH_SECS, MonthlyUsage, Prices};
use crate::history::hub::{BenchHub, Meter};
use crate::history::reading::{reading, telemetry};

/// The device that streams.
pub const DEVICE_ID: &str = "counter-1";
/// `HISTORY_FLUSH_SAMPLES` of the hub this part runs on.
pub const FLUSH_SAMPLES: u64 = 600;
const EPOCH: &str = "count";
/// How long any wait for an ack or a `stored` message may take.
const STALL: Duration = Duration::from_secs(60);
/// Days of history the cost model keeps.
const RETENTION_DAYS: f64 = 7.0;
/// What the baseline does per telemetry frame: one `put` of three keys (cursor, last sample, last seen) and a
/// read of the cursor.
const BASELINE_ROWS_WRITTEN_PER_FRAME: f64 = 3.0;
const BASELINE_ROWS_READ_PER_FRAME: f64 = 1.0;

/// `samples` rounded up to whole groups of [`FLUSH_SAMPLES`], so the last group is written by its size.
pub fn whole_groups(samples: u64) -> u64 {
    samples.div_ceil(FLUSH_SAMPLES).max(1) * FLUSH_SAMPLES
}

/// What streaming cost.
#[derive(Debug, Clone, Copy)]
pub struct StreamRun {
    /// Samples streamed (after the first one, which is written alone).
    pub samples: u64,
    /// The meter's counts over them.
    pub cost: Meter,
}

/// Connects asking for `stored`, sends seq 1 (a device's first frame is written at once), then seqs 2 to
/// `samples + 1` as fast as the socket takes them, until the last is stored; the meter's difference.
pub async fn stream(hub: &BenchHub, samples: u64) -> Result<StreamRun> {
    let target = hub.target();
    let socket = target
        .connect_with(
            &format!("/ws/device/{DEVICE_ID}"),
            hub.token(DEVICE_ID)?,
            &[("Telemetry-Ack", "stored")],
        )
        .await?;
    let (mut sink, mut stream) = socket.split();
    sink.send(frame(1)).await?;
    stored_through(&mut stream, 1).await?;
    let before = hub.meter(DEVICE_ID).await?;
    let second = hub.meter(DEVICE_ID).await?;
    let meter_cost = second.since(&before);
    let last = samples + 1;
    let reader = tokio::spawn(async move {
        stored_through(&mut stream, last).await?;
        Ok::<_, anyhow::Error>(stream)
    });
    for seq in 2..=last {
        sink.feed(frame(seq)).await?;
        if seq % 64 == 0 {
            sink.flush().await?;
        }
    }
    sink.flush().await?;
    let _stream = reader.await.context("the reader panicked")??;
    let after = hub.meter(DEVICE_ID).await?;
    let mut cost = after.since(&second);
    cost.rows_read = cost.rows_read.saturating_sub(meter_cost.rows_read);
    cost.rows_written = cost.rows_written.saturating_sub(meter_cost.rows_written);
    Ok(StreamRun { samples, cost })
}

fn frame(seq: u64) -> Message {
    let now = Utc::now();
    let ts = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let data = reading(2, u64::try_from(now.timestamp()).unwrap_or_default());
    Message::text(telemetry(EPOCH, seq, &ts, data, true).to_string())
}

/// Reads until a `stored` message reaches `last` (groups are written in order).
async fn stored_through<S>(stream: &mut S, last: u64) -> Result<()>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = timeout(STALL, stream.next())
            .await
            .with_context(|| format!("no `stored` through seq {last} within {STALL:?}"))?
            .context("the socket ended")??;
        let Message::Text(text) = message else {
            continue;
        };
        let value: Value = serde_json::from_str(text.as_str())?;
        match value["type"].as_str() {
            Some("stored") if value["to"].as_u64() >= Some(last) => return Ok(()),
            Some("error") => bail!("the hub refused a sample: {text}"),
            _ => {}
        }
    }
}

/// The measured inputs of the cost model.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// The streaming run.
    pub stream: StreamRun,
    /// Database bytes per stored sample, from the day of history.
    pub bytes_per_sample: f64,
    /// Alarms set per device-minute and how many meters that is from, from the fleet.
    pub alarms_per_minute: Option<(f64, usize)>,
}

impl Measured {
    fn per_sample(&self, count: u64) -> f64 {
        count as f64 / self.stream.samples.max(1) as f64
    }

    /// The current tree's counters at 1 Hz. Rows written include, beside what the meter counted, the delete of
    /// each history row when it expires (one per group: a group of 600 samples is one row), which a short run
    /// never reaches.
    pub fn current(&self) -> Counters {
        Counters {
            rate_hz: 1.0,
            rows_written_per_sample: self
                .per_sample(self.stream.cost.rows_written + self.stream.cost.groups_written),
            rows_read_per_sample: self.per_sample(self.stream.cost.rows_read),
            alarms_per_minute: self.alarms_per_minute.map_or(0.0, |(rate, _)| rate),
            bytes_per_sample: self.bytes_per_sample,
            retention_days: RETENTION_DAYS,
        }
    }

    /// The baseline's counters, computed: three rows written and one read per frame, the same presence alarm,
    /// no history.
    pub fn baseline(&self) -> Counters {
        Counters {
            rows_written_per_sample: BASELINE_ROWS_WRITTEN_PER_FRAME,
            rows_read_per_sample: BASELINE_ROWS_READ_PER_FRAME,
            bytes_per_sample: 0.0,
            retention_days: 0.0,
            ..self.current()
        }
    }
}

/// The counters and the cost table.
pub fn render(measured: &Measured, baseline_name: &str) -> String {
    let run = &measured.stream;
    let per_1000 = |count: u64| count as f64 * 1000.0 / run.samples.max(1) as f64;
    let mut out = format!(
        "## Storage counters and cost per device-month (current tree)\n\n{} samples streamed as single telemetry \
         frames to a hub with `HISTORY_FLUSH_SAMPLES={FLUSH_SAMPLES}`, after a first frame that is written alone; \
         counts from the object's storage meter (less what reading the meter costs).\n\n\
         | counter | value | from |\n|---|---:|---|\n",
        run.samples
    );
    let _ = writeln!(
        out,
        "| rows written per 1,000 samples | {:.1} | {} rows over {} samples |",
        per_1000(run.cost.rows_written),
        run.cost.rows_written,
        run.samples
    );
    let _ = writeln!(
        out,
        "| rows read per 1,000 samples | {:.1} | {} rows |",
        per_1000(run.cost.rows_read),
        run.cost.rows_read
    );
    let _ = writeln!(
        out,
        "| groups written | {} | {} samples written |",
        run.cost.groups_written, run.cost.samples_written
    );
    let _ = writeln!(
        out,
        "| alarms set while streaming | {} | |",
        run.cost.alarms_set
    );
    let _ = writeln!(
        out,
        "| database bytes per stored sample | {:.1} | the day of history |",
        measured.bytes_per_sample
    );
    let _ = writeln!(
        out,
        "| alarms set per device-minute | {} | the fleet at 1 Hz |",
        measured
            .alarms_per_minute
            .map_or("not measured".to_owned(), |(rate, n)| format!(
                "{rate:.2} ({n} meters)"
            ))
    );
    let prices = Prices::LIST;
    let current = MonthlyUsage::of(&measured.current());
    let baseline = MonthlyUsage::of(&measured.baseline());
    let (now, then) = (current.cost(&prices), baseline.cost(&prices));
    let _ = write!(
        out,
        "\nA device connected all month ({:.0} days) sending at 1 Hz, {RETENTION_DAYS:.0} days of history kept; \
         list prices, no free allowance, duration (GB-s) left out. Alarms are billed as a row written and \
         their invocation as a request. The baseline is computed, not measured: {BASELINE_ROWS_WRITTEN_PER_FRAME:.0} \
         rows written and {BASELINE_ROWS_READ_PER_FRAME:.0} read per frame, the same presence alarm, no history.\n\n\
         | per device-month | current (measured) | {baseline_name} (computed) | price |\n|---|---:|---:|---|\n",
        MONTH_SECS / 86_400.0
    );
    let lines: [(&str, String, String, &str); 10] = [
        (
            "WebSocket messages in",
            count(current.messages),
            count(baseline.messages),
            "20 = 1 request",
        ),
        (
            "alarms",
            count(current.alarms),
            count(baseline.alarms),
            "1 row written + 1 request",
        ),
        (
            "rows written (without alarms)",
            count(current.rows_written),
            count(baseline.rows_written),
            "$1.00/M",
        ),
        (
            "rows read",
            count(current.rows_read),
            count(baseline.rows_read),
            "$0.001/M",
        ),
        (
            "storage, MB",
            format!("{:.1}", current.stored_bytes / 1e6),
            format!("{:.1}", baseline.stored_bytes / 1e6),
            "$0.20/GB-month",
        ),
        (
            "$ rows written",
            dollars(now.rows_written),
            dollars(then.rows_written),
            "",
        ),
        (
            "$ rows read",
            dollars(now.rows_read),
            dollars(then.rows_read),
            "",
        ),
        ("$ storage", dollars(now.storage), dollars(then.storage), ""),
        (
            "$ requests",
            dollars(now.requests),
            dollars(then.requests),
            "$0.15/M",
        ),
        (
            "**$ total**",
            format!("**{}**", dollars(now.total())),
            format!("**{}**", dollars(then.total())),
            "",
        ),
    ];
    for (label, a, b, price) in lines {
        let _ = writeln!(out, "| {label} | {a} | {b} | {price} |");
    }
    out
}

/// A count with thousands separators.
fn count(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn dollars(value: f64) -> String {
    if value < 0.01 && value > 0.0 {
        format!("${value:.5}")
    } else {
        format!("${value:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up_to_whole_groups() {
        assert_eq!(whole_groups(6_000), 6_000);
        assert_eq!(whole_groups(6_001), 6_600);
        assert_eq!(whole_groups(1), 600);
        assert_eq!(whole_groups(0), 600);
    }

    #[test]
    fn formats_counts_and_dollars() {
        assert_eq!(count(2_592_000.0), "2,592,000");
        assert_eq!(count(999.4), "999");
        assert_eq!(count(1000.0), "1,000");
        assert_eq!(dollars(7.8192), "$7.8192");
        assert_eq!(dollars(0.002592), "$0.00259");
    }

    #[test]
    fn the_baseline_writes_three_rows_a_frame() {
        let measured = Measured {
            stream: StreamRun {
                samples: 6_000,
                cost: Meter {
                    rows_written: 30,
                    rows_read: 12,
                    groups_written: 10,
                    ..Meter::default()
                },
            },
            bytes_per_sample: 40.0,
            alarms_per_minute: Some((1.0, 20)),
        };
        let current = measured.current();
        // 30 rows the meter saw and the 10 rows' deletes when they expire.
        assert!((current.rows_written_per_sample - 40.0 / 6_000.0).abs() < 1e-12);
        let baseline = measured.baseline();
        assert_eq!(baseline.rows_written_per_sample, 3.0);
        assert_eq!(baseline.alarms_per_minute, 1.0);
        assert_eq!(baseline.bytes_per_sample, 0.0);
        let table = render(&measured, "93058ae");
        assert!(
            table.contains("| rows written per 1,000 samples | 5.0 |"),
            "{table}"
        );
        assert!(table.contains("7,776,000"), "{table}");
    }
}
