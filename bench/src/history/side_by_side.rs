//! Throughput into one device with dashboards attached, and latency from device to dashboards, of the current
//! tree and the baseline in alternating rounds (the order changes every round, ABBA), so that drift of a shared
//! machine reaches both alike. The same closed and open loops as the default mode, a fresh device per round.

use std::fmt::Write as _;

use anyhow::{Context, Result};

use crate::clients::{closed_loop_latency, open_loop_throughput};
use crate::history::hub::BenchHub;
use crate::history::settings::Settings;
use crate::stats::{Spread, paired_ratios};

/// The devices a hub needs for `rounds` rounds.
pub fn device_ids(rounds: usize) -> Vec<String> {
    (1..=rounds)
        .flat_map(|round| [latency_device(round), throughput_device(round)])
        .collect()
}

fn latency_device(round: usize) -> String {
    format!("sbs-latency-{round}")
}

fn throughput_device(round: usize) -> String {
    format!("sbs-throughput-{round}")
}

/// The order of the two hubs (0: current, 1: baseline) in round `round` (from 0): AB, BA, BA, AB, …
pub fn order(round: usize) -> [usize; 2] {
    if matches!(round % 4, 0 | 3) {
        [0, 1]
    } else {
        [1, 0]
    }
}

/// One hub's figures of one round.
#[derive(Debug, Clone, Copy, Default)]
struct RoundFigures {
    acked: f64,
    delivered: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Runs the rounds on `hubs` (current first) and renders the table.
pub async fn run(hubs: &[BenchHub; 2], settings: &Settings) -> Result<String> {
    let mut figures: [Vec<RoundFigures>; 2] = [Vec::new(), Vec::new()];
    for round in 0..settings.rounds {
        for hub in order(round) {
            let figure = measure(&hubs[hub], round + 1, settings)
                .await
                .with_context(|| {
                    format!(
                        "{} hub, round {}; its last output:\n{}",
                        hubs[hub].name,
                        round + 1,
                        hubs[hub].log_tail(30)
                    )
                })?;
            eprintln!(
                "hub-bench: round {}/{} {}: {:.0} msg/s acked, p50 {:.3} ms, p99 {:.3} ms",
                round + 1,
                settings.rounds,
                hubs[hub].name,
                figure.acked,
                figure.p50_ms,
                figure.p99_ms
            );
            figures[hub].push(figure);
        }
    }
    Ok(render(hubs, &figures, settings))
}

async fn measure(hub: &BenchHub, round: usize, settings: &Settings) -> Result<RoundFigures> {
    let target = hub.target();
    let device = latency_device(round);
    let mut latency = closed_loop_latency(
        &target,
        &device,
        hub.token(&device)?,
        settings.dashboards,
        settings.messages,
    )
    .await?;
    let device = throughput_device(round);
    let rates = open_loop_throughput(
        &target,
        &device,
        hub.token(&device)?,
        settings.dashboards,
        settings.messages * 2,
    )
    .await?;
    Ok(RoundFigures {
        acked: rates.acked,
        delivered: rates.delivered,
        p50_ms: latency.percentile(50.0).as_secs_f64() * 1000.0,
        p99_ms: latency.percentile(99.0).as_secs_f64() * 1000.0,
    })
}

fn render(hubs: &[BenchHub; 2], figures: &[Vec<RoundFigures>; 2], settings: &Settings) -> String {
    let mut out = format!(
        "## Throughput and latency, side by side\n\n{} rounds per hub, the order alternating (ABBA); per round a \
         fresh device: {} closed-loop messages after a warm-up for latency, {} open-loop messages for \
         throughput, {} dashboards attached. Flood limits lifted. Medians of the rounds with their min–max; the \
         ratio is of the medians, with the min–max of the per-round ratios.\n\n",
        settings.rounds,
        settings.messages,
        settings.messages * 2,
        settings.dashboards
    );
    let _ = writeln!(
        out,
        "| measure | {} | {} | {} / {} |\n|---|---:|---:|---:|",
        hubs[0].name, hubs[1].name, hubs[0].name, hubs[1].name
    );
    let rows: [(&str, Pick, usize); 4] = [
        ("sustained msg/s into one device, acked", |f| f.acked, 0),
        ("… delivered to every dashboard, msg/s", |f| f.delivered, 0),
        ("latency device → dashboard p50, ms", |f| f.p50_ms, 3),
        ("latency device → dashboard p99, ms", |f| f.p99_ms, 3),
    ];
    for (label, pick, decimals) in rows {
        let current: Vec<f64> = figures[0].iter().map(pick).collect();
        let baseline: Vec<f64> = figures[1].iter().map(pick).collect();
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} |",
            spread_text(&current, decimals),
            spread_text(&baseline, decimals),
            ratio_text(&current, &baseline)
        );
    }
    out
}

/// Which figure of a round a row shows.
type Pick = fn(&RoundFigures) -> f64;

/// `median (min–max)`.
fn spread_text(values: &[f64], decimals: usize) -> String {
    Spread::of(values).map_or("–".to_owned(), |s| {
        format!(
            "{:.decimals$} ({:.decimals$}–{:.decimals$})",
            s.median, s.min, s.max
        )
    })
}

/// `ratio of medians× (min–max of per-round ratios)`.
fn ratio_text(a: &[f64], b: &[f64]) -> String {
    match (
        Spread::of(a),
        Spread::of(b),
        Spread::of(&paired_ratios(a, b)),
    ) {
        (Some(a), Some(b), Some(rounds)) => format!(
            "{:.2}× ({:.2}–{:.2})",
            a.median / b.median,
            rounds.min,
            rounds.max
        ),
        _ => "–".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_alternate_abba() {
        let firsts: Vec<usize> = (0..8).map(|r| order(r)[0]).collect();
        assert_eq!(firsts, vec![0, 1, 1, 0, 0, 1, 1, 0]);
        assert!((0..8).all(|r| order(r)[0] != order(r)[1]));
    }

    #[test]
    fn renders_spreads_and_ratios() {
        assert_eq!(spread_text(&[2.0, 1.0, 3.0], 1), "2.0 (1.0–3.0)");
        assert_eq!(spread_text(&[], 0), "–");
        assert_eq!(ratio_text(&[2.0, 4.0], &[1.0, 4.0]), "2.00× (1.00–2.00)");
    }
}
