//! `hub-bench history`: what keeping history costs. The current tree's Worker and a baseline revision's (by
//! default 93058ae, the last that kept no history), each under its own `wrangler dev` with fresh state, are
//! measured side by side (throughput and latency in alternating rounds), then each carries a fleet at 1 Hz;
//! the current tree alone then holds a day of history that is queried, and a hub writing groups of 600 samples
//! gives the storage counters of a cost per device-month. Prints Markdown, each part as soon as it is done.
//!
//! Sizes: see [`settings`]. Flood limits are lifted on every hub ([`crate::figures::BENCH_VARS`]).

mod cost;
mod counters;
mod day;
mod fleet;
mod hub;
mod reading;
mod settings;
mod side_by_side;

use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use hub_e2e::workspace;

use crate::connect::machine::{Machine, load_average};
use crate::connect::revision::WorkerRevision;
use crate::connect::{WORKER_PATHS, baseline, git};
use crate::figures::BENCH_VARS;
use crate::history::hub::BenchHub;
use crate::history::settings::Settings;
use crate::stats::Spread;

/// How often the load average is sampled while measuring.
const LOAD_EVERY: Duration = Duration::from_secs(5);

/// Builds both Workers, starts them and runs every part; prints as it goes.
pub async fn run(baseline_rev: &str) -> Result<()> {
    let settings = Settings::from_env()?;
    let started = Instant::now();
    let rev = baseline_rev.to_owned();
    let start_settings = settings.clone();
    let hubs = tokio::task::spawn_blocking(move || start_hubs(&rev, &start_settings))
        .await
        .map_err(|e| anyhow!("starting the hubs failed: {e}"))??;
    let load = LoadWatch::start();
    let measuring = Instant::now();
    let machine = Machine::here();
    emit(&format!(
        "# What keeping history costs\n\n| hub | runs |\n|---|---|\n| {} | {} |\n| {} | {} |\n\nMachine: {} cores{}, \
         shared with the clients and the wrangler processes (and with other work); wrangler {}.\n",
        hubs[0].name,
        hubs[0].description,
        hubs[1].name,
        hubs[1].description,
        machine.cores,
        machine
            .cpu
            .as_deref()
            .map_or(String::new(), |m| format!(" ({m})")),
        machine.wrangler
    ));

    eprintln!(
        "hub-bench: throughput and latency, {} rounds per hub …",
        settings.rounds
    );
    emit(&side_by_side::run(&hubs, &settings).await?);

    let fleet_ids = fleet::device_ids(settings.fleet);
    let mut fleet_runs = Vec::new();
    for (hub, with_history) in [(&hubs[0], true), (&hubs[1], false)] {
        eprintln!(
            "hub-bench: {}: a fleet of {} at 1 Hz for {} s …",
            hub.name, settings.fleet, settings.fleet_secs
        );
        let run = fleet::run(hub, &fleet_ids, settings.fleet_secs, with_history).await?;
        fleet_runs.push((hub, run));
    }
    emit(&fleet::render(&fleet_runs, settings.fleet_secs));
    let alarms_per_minute = fleet_runs[0].1.alarms_per_minute;
    drop(fleet_runs);

    eprintln!(
        "hub-bench: a day of history ({} samples) …",
        settings.day_samples
    );
    let day = day::run(&hubs[0], settings.day_samples, settings.queries).await?;
    emit(&day::render(&day));

    eprintln!(
        "hub-bench: storage counters: a hub writing groups of {} …",
        counters::FLUSH_SAMPLES
    );
    let [current, baseline] = hubs;
    let baseline_name = baseline
        .description
        .split(' ')
        .next()
        .unwrap_or("baseline")
        .to_owned();
    tokio::task::spawn_blocking(move || drop((current, baseline))).await?;
    let counter_hub = tokio::task::spawn_blocking(start_counter_hub)
        .await
        .map_err(|e| anyhow!("starting the counter hub failed: {e}"))??;
    let stream = counters::stream(
        &counter_hub,
        counters::whole_groups(settings.counter_samples),
    )
    .await?;
    tokio::task::spawn_blocking(move || drop(counter_hub)).await?;
    let measured = counters::Measured {
        stream,
        bytes_per_sample: day::bytes_per_sample(&day.written),
        alarms_per_minute,
    };
    emit(&counters::render(&measured, &baseline_name));

    let loads = load.stop();
    let load_text = Spread::of(&loads).map_or("unknown".to_owned(), |s| {
        format!(
            "median {:.1}, min {:.1}, max {:.1} ({} readings)",
            s.median,
            s.min,
            s.max,
            loads.len()
        )
    });
    emit(&format!(
        "\nThe run took {:.0} s ({:.0} s measuring, the rest building and starting); 1-minute load average while \
         measuring: {load_text}.\n",
        started.elapsed().as_secs_f64(),
        measuring.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Prints a part of the report at once, so that a later failure keeps what was measured.
fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Builds the current tree and the baseline, starts both at once and provisions what every part needs.
fn start_hubs(baseline_rev: &str, settings: &Settings) -> Result<[BenchHub; 2]> {
    eprintln!("hub-bench: building the Worker of the current tree …");
    let current = WorkerRevision::current(&WORKER_PATHS)?;
    let baseline = baseline::build(baseline_rev)?;
    let commit = git::resolve(workspace::root(), baseline_rev)?;
    if git::same_as_work_tree(workspace::root(), &commit, &WORKER_PATHS)? {
        eprintln!("hub-bench: the baseline's Worker equals the current tree's: an A/A run");
    }
    eprintln!("hub-bench: starting both hubs under wrangler dev …");
    let (current, baseline) = thread::scope(|scope| {
        let current = scope.spawn(|| BenchHub::start("current", &current, BENCH_VARS));
        let baseline = scope.spawn(|| BenchHub::start("baseline", &baseline, BENCH_VARS));
        let joined = |handle: thread::ScopedJoinHandle<'_, Result<BenchHub>>| {
            handle
                .join()
                .map_err(|_| anyhow!("a hub failed to start (its output is above)"))?
        };
        (joined(current), joined(baseline))
    });
    let (mut current, mut baseline) = (current?, baseline?);
    let mut ids = side_by_side::device_ids(settings.rounds);
    ids.extend(fleet::device_ids(settings.fleet));
    let provisioning = Instant::now();
    baseline.provision(&ids)?;
    ids.push(day::DEVICE_ID.to_owned());
    current.provision(&ids)?;
    eprintln!(
        "hub-bench: provisioned {} devices on each hub in {:.1} s",
        ids.len(),
        provisioning.elapsed().as_secs_f64()
    );
    Ok([current, baseline])
}

/// The current tree's Worker writing a group every [`counters::FLUSH_SAMPLES`] samples.
fn start_counter_hub() -> Result<BenchHub> {
    let current = WorkerRevision::current(&WORKER_PATHS)?;
    let flush = counters::FLUSH_SAMPLES.to_string();
    let mut vars = BENCH_VARS.to_vec();
    vars.push(("HISTORY_FLUSH_SAMPLES", &flush));
    let mut hub = BenchHub::start("current", &current, &vars)?;
    hub.provision(&[counters::DEVICE_ID.to_owned()])?;
    Ok(hub)
}

/// Samples the 1-minute load average every [`LOAD_EVERY`] until stopped.
struct LoadWatch {
    readings: Arc<Mutex<Vec<f64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl LoadWatch {
    fn start() -> Self {
        let readings = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&readings);
        let task = tokio::spawn(async move {
            loop {
                if let Some(load) = load_average() {
                    kept.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(load);
                }
                tokio::time::sleep(LOAD_EVERY).await;
            }
        });
        Self { readings, task }
    }

    fn stop(self) -> Vec<f64> {
        self.task.abort();
        let readings = self.readings.lock().unwrap_or_else(PoisonError::into_inner);
        readings.clone()
    }
}
