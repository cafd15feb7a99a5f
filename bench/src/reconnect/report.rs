//! The figures of a `reconnect` run, from plain numbers in ms after the hub's return: per agent when the attempt
//! that reconnected it started (the schedule's doing) and when its socket was accepted (the schedule plus the
//! hub's handshake under load), and every attempt; summarised (p50, p99, max, the busiest 100 ms) and as a
//! histogram per bucket, old and new schedule side by side. Pure: times in, Markdown out.

use std::fmt::Write as _;

/// Width of the fine buckets: arrivals per 100 ms.
pub const BUCKET_MS: i64 = 100;
/// Fine buckets cover times before this many ms after the return; later ones go in 1 s buckets.
const FINE_UNTIL_MS: i64 = 3000;
/// Width of the coarse buckets.
const COARSE_MS: i64 = 1000;

/// One schedule's reconnects after one hub restart, in ms after the hub's first answer (negative: before it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconnects {
    /// Which schedule: `old (backoff only)` or `new (fast retries)`.
    pub schedule: String,
    /// Per reconnected agent, when its socket was accepted.
    pub connected_ms: Vec<i64>,
    /// Per reconnected agent, when the attempt that got the socket started.
    pub started_ms: Vec<i64>,
    /// Every handshake attempt from the drop on (each one a request on Cloudflare).
    pub attempts_ms: Vec<i64>,
    /// Agents that did not reconnect before the run gave up on them.
    pub missing: usize,
}

impl Reconnects {
    /// Attempts started before the hub's return: refused, but requests all the same.
    pub fn attempts_while_down(&self) -> usize {
        self.attempts_ms.iter().filter(|ms| **ms < 0).count()
    }
}

/// Median, 99th percentile (nearest rank) and maximum of some times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    /// Median.
    pub p50: i64,
    /// 99th percentile.
    pub p99: i64,
    /// The last.
    pub max: i64,
}

impl Spread {
    /// The spread of `times`; `None` when empty.
    pub fn of(times: &[i64]) -> Option<Self> {
        let mut sorted = times.to_vec();
        sorted.sort_unstable();
        let rank = |p: f64| sorted[crate::stats::nearest_rank(sorted.len(), p)];
        (!sorted.is_empty()).then(|| Self {
            p50: rank(50.0),
            p99: rank(99.0),
            max: rank(100.0),
        })
    }
}

/// Most of `times` in one 100 ms bucket.
pub fn peak_per_bucket(times: &[i64]) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted
        .chunk_by(|a, b| bucket_start(*a, BUCKET_MS) == bucket_start(*b, BUCKET_MS))
        .map(<[i64]>::len)
        .max()
        .unwrap_or(0)
}

/// The start of the `width`-wide bucket holding `ms` (floor, also below zero).
fn bucket_start(ms: i64, width: i64) -> i64 {
    ms.div_euclid(width) * width
}

/// The histogram's rows: `(from ms, to ms)`, 100 ms wide before 3 s after the return, then 1 s wide, covering
/// every time of every schedule.
pub fn rows(all: &[&Reconnects]) -> Vec<(i64, i64)> {
    let times = all
        .iter()
        .flat_map(|r| r.attempts_ms.iter().chain(&r.connected_ms).copied());
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

/// The Markdown histogram: one row per bucket; per schedule the attempts that started in it and the sockets
/// accepted in it.
pub fn histogram(all: &[&Reconnects]) -> String {
    let mut text = String::from("| ms after the hub's return |");
    for r in all {
        let _ = write!(text, " {0}: attempts | {0}: accepted |", r.schedule);
    }
    text.push_str("\n|---|");
    text.push_str(&"---|".repeat(2 * all.len()));
    for (from, to) in rows(all) {
        let _ = write!(text, "\n| {from} to {to} |");
        for r in all {
            let count = |times: &[i64]| times.iter().filter(|ms| (from..to).contains(*ms)).count();
            let _ = write!(
                text,
                " {} | {} |",
                bar(count(&r.attempts_ms)),
                bar(count(&r.connected_ms))
            );
        }
    }
    text.push('\n');
    text
}

/// A count with a bar of one `#` per 2 agents, at most 40 wide so the table stays readable.
fn bar(count: usize) -> String {
    if count == 0 {
        return String::new();
    }
    format!("{count} {}", "#".repeat(count.div_ceil(2).min(40)))
}

/// The Markdown summary: per schedule when the reconnecting attempts started and when the sockets were
/// accepted (p50, p99, max), the busiest 100 ms of each, and the attempts while the hub was away; then new over
/// old (the first two of `all`).
pub fn summary_table(all: &[&Reconnects]) -> String {
    let mut text = String::from(
        "| schedule | back | reconnecting attempt started p50 / p99 / max | socket accepted p50 / p99 / max | \
         peak attempts per 100 ms, from the drop | peak accepted per 100 ms | attempts while away |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    let spread = |times: &[i64]| {
        Spread::of(times).map_or("-".to_owned(), |s| {
            format!("{} / {} / {} ms", s.p50, s.p99, s.max)
        })
    };
    for r in all {
        let _ = writeln!(
            text,
            "| {} | {} of {} | {} | {} | {} | {} | {} |",
            r.schedule,
            r.connected_ms.len(),
            r.connected_ms.len() + r.missing,
            spread(&r.started_ms),
            spread(&r.connected_ms),
            peak_per_bucket(&r.attempts_ms),
            peak_per_bucket(&r.connected_ms),
            r.attempts_while_down()
        );
    }
    if let [old, new, ..] = all {
        let _ = writeln!(text, "{}", ratio_row(old, new));
    }
    text
}

/// `| new / old | … |`: each figure of `new` over the same of `old`.
fn ratio_row(old: &Reconnects, new: &Reconnects) -> String {
    let ratio = |n: i64, o: i64| format!("{:.2}", n as f64 / o.max(1) as f64);
    let spreads = |o: &[i64], n: &[i64]| match (Spread::of(o), Spread::of(n)) {
        // A ratio of times at or before the return says nothing.
        (Some(o), Some(n)) if o.p50.min(n.p50) > 0 => format!(
            "{} / {} / {}",
            ratio(n.p50, o.p50),
            ratio(n.p99, o.p99),
            ratio(n.max, o.max)
        ),
        _ => "-".to_owned(),
    };
    let peaks = |o: &[i64], n: &[i64]| ratio(peak_per_bucket(n) as i64, peak_per_bucket(o) as i64);
    format!(
        "| new / old | | {} | {} | {} | {} | {} |",
        spreads(&old.started_ms, &new.started_ms),
        spreads(&old.connected_ms, &new.connected_ms),
        peaks(&old.attempts_ms, &new.attempts_ms),
        peaks(&old.connected_ms, &new.connected_ms),
        ratio(
            new.attempts_while_down() as i64,
            old.attempts_while_down() as i64
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reconnects(connected: &[i64], attempts: &[i64]) -> Reconnects {
        Reconnects {
            schedule: "s".into(),
            connected_ms: connected.to_vec(),
            started_ms: connected.iter().map(|ms| ms - 10).collect(),
            attempts_ms: attempts.to_vec(),
            missing: 0,
        }
    }

    #[test]
    fn spreads_take_nearest_ranks() {
        let s = Spread::of(&[2400, 5, 150, 120, 180, 950]).expect("spread");
        assert_eq!((s.p50, s.p99, s.max), (150, 2400, 2400));
        assert_eq!(Spread::of(&[]), None);
    }

    #[test]
    fn the_busiest_bucket_counts_times_before_and_after_the_return() {
        assert_eq!(peak_per_bucket(&[120, 150, 180, 5, 950]), 3);
        assert_eq!(peak_per_bucket(&[-30, -20, -10, 40]), 3);
        assert_eq!(peak_per_bucket(&[-130, -20, 10, 40]), 2);
        assert_eq!(peak_per_bucket(&[]), 0);
    }

    #[test]
    fn buckets_are_floored_also_before_the_return() {
        assert_eq!(bucket_start(-1, 100), -100);
        assert_eq!(bucket_start(0, 100), 0);
        assert_eq!(bucket_start(199, 100), 100);
    }

    #[test]
    fn rows_are_fine_then_coarse_and_cover_every_time() {
        let a = reconnects(&[50], &[-120, 40]);
        let b = reconnects(&[4200], &[4190]);
        let rows = rows(&[&a, &b]);
        assert_eq!(rows.first(), Some(&(-200, -100)));
        assert!(rows.contains(&(0, 100)));
        assert!(rows.contains(&(2900, 3000)));
        assert_eq!(rows.last(), Some(&(4000, 5000)));
        let text = histogram(&[&a, &b]);
        assert!(text.contains("| 0 to 100 | 1 # | 1 # |  |  |"), "{text}");
        assert!(
            text.contains("| 4000 to 5000 |  |  | 1 # | 1 # |"),
            "{text}"
        );
    }

    #[test]
    fn the_table_gives_new_over_old() {
        let old = reconnects(&[100, 200, 4000], &[-900, -500, 90, 190, 3990]);
        let new = reconnects(&[100, 150, 1000], &[-900, -800, -700, -600, 90, 140, 990]);
        let text = summary_table(&[&old, &new]);
        assert!(
            text.contains("| 3 of 3 | 190 / 3990 / 3990 ms | 200 / 4000 / 4000 ms | 1 | 1 | 2 |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| new / old | | 0.74 / 0.25 / 0.25 | 0.75 / 0.25 / 0.25 | 1.00 | 2.00 | 2.00 |"
            ),
            "{text}"
        );
    }
}
