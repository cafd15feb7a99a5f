//! The Markdown report of a `connect` run: what was compared, on what, the spread per hub and the ratios.

use std::fmt::Write as _;
use std::time::Duration;

use crate::connect::contender::Contender;
use crate::connect::handshake::Handshake;
use crate::connect::machine::Machine;
use crate::connect::ratio::{Ratio, ratio_of_medians};
use crate::connect::rounds::{Timings, WARM_UP_ROUNDS};
use crate::stats::{Samples, nearest_rank};

/// Everything the report says besides the durations.
pub struct RunFacts {
    /// The machine and wrangler.
    pub machine: Machine,
    /// 1-minute load average when measuring started and when it ended.
    pub load: (Option<f64>, Option<f64>),
    /// Rounds kept (after the warm-up).
    pub rounds: usize,
    /// How long the rounds took, warm-up included.
    pub measuring: Duration,
    /// Set when the baseline's Worker sources equal the current tree's: an A/A run.
    pub same_worker: bool,
}

/// Percentiles shown per hub and handshake.
const SPREAD: [(&str, f64); 6] = [
    ("min", 0.0),
    ("p10", 10.0),
    ("p50", 50.0),
    ("p90", 90.0),
    ("p99", 99.0),
    ("max", 100.0),
];

/// Renders the report. `hubs[0]` is the one the ratios are about.
pub fn render(hubs: &[Contender], timings: &Timings, facts: &RunFacts) -> String {
    let mut out = String::from("## Connect time, side by side\n\n| hub | runs |\n|---|---|\n");
    for hub in hubs {
        let _ = writeln!(out, "| {} | {} |", hub.name, hub.description);
    }
    let _ = writeln!(out, "\n{}\n", context(facts));
    if facts.same_worker {
        out.push_str("The baseline's worker/, protocol/ and build files equal the current tree's: this is an A/A run, \
                      its ratios show the noise floor.\n\n");
    }
    out.push_str(&spread_table(hubs, timings));
    out.push('\n');
    out.push_str(&ratio_table(hubs, timings));
    out
}

fn context(facts: &RunFacts) -> String {
    let machine = &facts.machine;
    let cpu = machine
        .cpu
        .as_deref()
        .map_or(String::new(), |m| format!(" ({m})"));
    let load = |l: Option<f64>| l.map_or("?".to_owned(), |l| format!("{l:.1}"));
    let tail = slowest(facts.rounds - nearest_rank(facts.rounds, 99.0));
    format!(
        "{rounds} rounds after {WARM_UP_ROUNDS} warm-up rounds; in each round every hub does each handshake once, \
         the hubs taking turns in an order that changes every round. A p99 of {rounds} durations is the \
         {tail}: read it as a rough tail. Machine: {cores} cores{cpu}, shared with the clients and the \
         three wrangler processes; load average {before} at the start, {after} at the end. wrangler {wrangler}. \
         Measuring took {secs:.0} s.",
        rounds = facts.rounds,
        cores = machine.cores,
        before = load(facts.load.0),
        after = load(facts.load.1),
        wrangler = machine.wrangler,
        secs = facts.measuring.as_secs_f64(),
    )
}

/// `slowest`, `2nd-slowest`, `3rd-slowest`, `4th-slowest` …
fn slowest(place: usize) -> String {
    let suffix = match (place % 10, place % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    if place == 1 {
        "slowest".to_owned()
    } else {
        format!("{place}{suffix}-slowest")
    }
}

fn spread_table(hubs: &[Contender], timings: &Timings) -> String {
    let mut out = String::from("| handshake | hub |");
    for (name, _) in SPREAD {
        let _ = write!(out, " {name} ms |");
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---:|".repeat(SPREAD.len()));
    out.push('\n');
    for kind in Handshake::ALL {
        for (index, hub) in hubs.iter().enumerate() {
            let mut samples: Samples = timings.of(index, kind).iter().copied().collect();
            let label = if index == 0 { kind.label() } else { "" };
            let _ = write!(out, "| {label} | {} |", hub.name);
            for (_, p) in SPREAD {
                let _ = write!(
                    out,
                    " {:.2} |",
                    samples.percentile(p).as_secs_f64() * 1000.0
                );
            }
            out.push('\n');
        }
    }
    out
}

fn ratio_table(hubs: &[Contender], timings: &Timings) -> String {
    let Some((current, others)) = hubs.split_first() else {
        return String::new();
    };
    let mut out = String::from("| handshake |");
    for other in others {
        let pair = format!("{} / {}", current.name, other.name);
        let _ = write!(out, " p50 {pair} (95% CI) | p99 {pair} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|---:|".repeat(others.len()));
    out.push('\n');
    for kind in Handshake::ALL {
        let _ = write!(out, "| {} |", kind.label());
        let mine = timings.of(0, kind);
        for index in 1..hubs.len() {
            let theirs = timings.of(index, kind);
            let p99 = percentile(mine, 99.0) / percentile(theirs, 99.0);
            let p50 = ratio_of_medians(mine, theirs).map_or("–".to_owned(), |r| interval(&r));
            let _ = write!(out, " {p50} | {p99:.2}× |");
        }
        out.push('\n');
    }
    out
}

fn interval(ratio: &Ratio) -> String {
    format!(
        "{:.2}× ({:.2}–{:.2})",
        ratio.estimate, ratio.low, ratio.high
    )
}

fn percentile(durations: &[Duration], p: f64) -> f64 {
    let mut samples: Samples = durations.iter().copied().collect();
    samples.percentile(p).as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_places_from_the_slowest() {
        assert_eq!(slowest(1), "slowest");
        assert_eq!(slowest(2), "2nd-slowest");
        assert_eq!(slowest(3), "3rd-slowest");
        assert_eq!(slowest(11), "11th-slowest");
        assert_eq!(slowest(22), "22nd-slowest");
    }

    #[test]
    fn p99_of_200_is_the_3rd_slowest() {
        assert_eq!(slowest(200 - nearest_rank(200, 99.0)), "3rd-slowest");
    }
}
