//! The figures of a `reconnect` run, from plain numbers: per agent the time from the hub's return to its
//! reconnect, summarised (p50, p99, max, the busiest 100 ms) and as a histogram of arrivals per bucket, old and
//! new schedule side by side. Pure: times in, Markdown out.

use std::fmt::Write as _;

/// Width of the fine buckets: arrivals per 100 ms.
pub const BUCKET_MS: i64 = 100;
/// Fine buckets cover the first this many ms after the return; later arrivals go in 1 s buckets.
const FINE_UNTIL_MS: i64 = 3000;
/// Width of the coarse buckets.
const COARSE_MS: i64 = 1000;

/// One schedule's reconnects after one hub restart.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconnects {
    /// Which schedule: `old (backoff)` or `new (fast retries)`.
    pub schedule: String,
    /// Per reconnected agent, ms from the hub's first answer to its socket accepted (negative: the agent's
    /// attempt was answered before the probe's, within one probe period).
    pub after_return_ms: Vec<i64>,
    /// Agents that did not reconnect before the run gave up on them.
    pub missing: usize,
    /// Handshake attempts the agents made while the hub was away (each one a request on Cloudflare).
    pub attempts_while_down: usize,
}

/// The summary line of one schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Median ms after the return.
    pub p50: i64,
    /// 99th percentile (nearest rank).
    pub p99: i64,
    /// The last agent.
    pub max: i64,
    /// Most arrivals in one 100 ms bucket.
    pub peak_per_bucket: usize,
}

impl Reconnects {
    /// p50, p99, max and the busiest bucket; `None` when no agent reconnected.
    pub fn summary(&self) -> Option<Summary> {
        let mut sorted = self.after_return_ms.clone();
        sorted.sort_unstable();
        let rank = |p: f64| sorted[crate::stats::nearest_rank(sorted.len(), p)];
        let peak_per_bucket = fine_counts(&sorted).into_iter().max().unwrap_or(0);
        (!sorted.is_empty()).then(|| Summary {
            p50: rank(50.0),
            p99: rank(99.0),
            max: rank(100.0),
            peak_per_bucket,
        })
    }
}

/// Arrivals per 100 ms bucket, from the bucket holding the earliest arrival (or 0) to the latest.
fn fine_counts(sorted_ms: &[i64]) -> Vec<usize> {
    let (Some(first), Some(last)) = (sorted_ms.first(), sorted_ms.last()) else {
        return Vec::new();
    };
    let start = bucket_start(*first.min(&0), BUCKET_MS);
    let mut counts = vec![0; usize::try_from((last - start) / BUCKET_MS + 1).unwrap_or(0)];
    for ms in sorted_ms {
        if let Ok(index) = usize::try_from((ms - start) / BUCKET_MS) {
            counts[index] += 1;
        }
    }
    counts
}

/// The start of the `width`-wide bucket holding `ms` (floor, also below zero).
fn bucket_start(ms: i64, width: i64) -> i64 {
    ms.div_euclid(width) * width
}

/// The histogram's rows: `(from ms, to ms)`, 100 ms wide up to 3 s after the return, then 1 s wide, covering
/// every arrival of every schedule.
pub fn rows(all: &[&Reconnects]) -> Vec<(i64, i64)> {
    let times = all.iter().flat_map(|r| r.after_return_ms.iter().copied());
    let (low, high) = times.fold((0, 0), |(lo, hi), ms| (lo.min(ms), hi.max(ms)));
    let mut rows = Vec::new();
    let mut from = bucket_start(low, BUCKET_MS);
    while from <= high {
        let width = if from < FINE_UNTIL_MS {
            BUCKET_MS
        } else {
            COARSE_MS
        };
        rows.push((from, from + width));
        from += width;
    }
    rows
}

/// The Markdown histogram: one row per bucket, one column of arrivals per schedule.
pub fn histogram(all: &[&Reconnects]) -> String {
    let mut text = String::from("| after the hub's return |");
    for reconnects in all {
        let _ = write!(text, " {} |", reconnects.schedule);
    }
    text.push_str("\n|---|");
    text.push_str(&"---:|".repeat(all.len()));
    for (from, to) in rows(all) {
        let _ = write!(text, "\n| {from} to {to} ms |");
        for reconnects in all {
            let count = reconnects
                .after_return_ms
                .iter()
                .filter(|ms| (from..to).contains(*ms))
                .count();
            let _ = write!(text, " {} |", bar(count));
        }
    }
    text.push('\n');
    text
}

/// A count with a bar of one `#` per agent, capped at 40 so the table stays readable.
fn bar(count: usize) -> String {
    if count == 0 {
        return String::new();
    }
    format!("{count} {}", "#".repeat(count.min(40)))
}

/// The Markdown summary: per schedule p50, p99, max, peak arrivals per 100 ms, missing agents and attempts
/// while down; then the new schedule's figures as ratios of the old (the first and second of `all`).
pub fn summary_table(all: &[&Reconnects]) -> String {
    let mut text = String::from(
        "| schedule | agents back | p50 | p99 | max | peak per 100 ms | attempts while down |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for reconnects in all {
        let back = reconnects.after_return_ms.len();
        let row = match reconnects.summary() {
            Some(s) => format!(
                "{} ms | {} ms | {} ms | {}",
                s.p50, s.p99, s.max, s.peak_per_bucket
            ),
            None => "- | - | - | -".to_owned(),
        };
        let _ = writeln!(
            text,
            "| {} | {back} of {} | {row} | {} |",
            reconnects.schedule,
            back + reconnects.missing,
            reconnects.attempts_while_down
        );
    }
    if let [old, new, ..] = all
        && let (Some(o), Some(n)) = (old.summary(), new.summary())
    {
        let ratio = |n: i64, o: i64| format!("{:.2}", n as f64 / o.max(1) as f64);
        let _ = writeln!(
            text,
            "| new / old | | {} | {} | {} | {} | |",
            ratio(n.p50, o.p50),
            ratio(n.p99, o.p99),
            ratio(n.max, o.max),
            ratio(n.peak_per_bucket as i64, o.peak_per_bucket as i64)
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reconnects(ms: &[i64]) -> Reconnects {
        Reconnects {
            schedule: "s".into(),
            after_return_ms: ms.to_vec(),
            missing: 0,
            attempts_while_down: 0,
        }
    }

    #[test]
    fn the_summary_takes_ranks_and_the_busiest_bucket() {
        let r = reconnects(&[5, 120, 150, 180, 950, 2400]);
        let s = r.summary().expect("summary");
        assert_eq!((s.p50, s.p99, s.max), (150, 2400, 2400));
        assert_eq!(
            s.peak_per_bucket, 3,
            "120, 150 and 180 share the 100 to 200 ms bucket"
        );
        assert_eq!(reconnects(&[]).summary(), None);
    }

    #[test]
    fn buckets_are_floored_also_before_the_return() {
        assert_eq!(bucket_start(-1, 100), -100);
        assert_eq!(bucket_start(0, 100), 0);
        assert_eq!(bucket_start(199, 100), 100);
        assert_eq!(fine_counts(&[-30, -10, 40, 250]), vec![2, 1, 0, 1]);
    }

    #[test]
    fn rows_are_fine_then_coarse_and_cover_every_arrival() {
        let a = reconnects(&[-20, 50]);
        let b = reconnects(&[4200]);
        let rows = rows(&[&a, &b]);
        assert_eq!(rows.first(), Some(&(-100, 0)));
        assert_eq!(rows[1], (0, 100));
        assert!(rows.contains(&(2900, 3000)));
        assert_eq!(rows.last(), Some(&(4000, 5000)));
        let text = histogram(&[&a, &b]);
        assert!(text.contains("| 0 to 100 ms | 1 # |  |"), "{text}");
        assert!(text.contains("| 4000 to 5000 ms |  | 1 # |"), "{text}");
    }

    #[test]
    fn the_table_gives_new_over_old() {
        let old = reconnects(&[100, 200, 4000]);
        let new = reconnects(&[100, 150, 1000]);
        let text = summary_table(&[&old, &new]);
        assert!(
            text.contains("| new / old | | 0.75 | 0.25 | 0.25 | 2.00 | |"),
            "{text}"
        );
    }
}
