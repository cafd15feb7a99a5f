//! `hub-bench connect`: connect time of the current tree's Worker, of a baseline revision's Worker and of the
//! minimal JavaScript hub in `bench/js-hub/`, started side by side and measured in interleaved rounds, so that
//! a busy shared machine slows all three alike. Prints a Markdown report.
//!
//! Size: `HUB_BENCH_CONNECTS` handshakes of each kind per hub (default 200), after a warm-up. Worker variables
//! of both Rust hubs: see [`vars`] (`HUB_BENCH_VARS` adds to them).

pub(crate) mod baseline;
pub(crate) mod contender;
pub(crate) mod git;
mod handshake;
pub(crate) mod machine;
mod ratio;
mod report;
pub(crate) mod revision;
mod rounds;
mod vars;

use std::thread;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use hub_e2e::workspace;

use crate::connect::contender::Contender;
use crate::connect::machine::{Machine, load_average};
use crate::connect::report::RunFacts;
use crate::connect::revision::WorkerRevision;

/// What decides whether two revisions run the same hub: the Worker, the wire types, the build and the config.
pub(crate) const WORKER_PATHS: [&str; 6] = [
    "worker",
    "protocol",
    "Cargo.toml",
    "Cargo.lock",
    "wrangler.toml",
    "schema.sql",
];

/// Builds both Workers, starts the three hubs, measures and prints the report. `baseline_rev` names the
/// baseline; without it, the Worker before its latest change ([`git::before_latest_change`]).
pub async fn run(baseline_rev: Option<&str>) -> Result<()> {
    let rounds = connects_from_env()?;
    let baseline_rev = match baseline_rev {
        Some(rev) => rev.to_owned(),
        None => {
            let rev = git::before_latest_change(workspace::root(), &WORKER_PATHS)?;
            eprintln!("hub-bench: baseline {rev}: the Worker before its latest change");
            rev
        }
    };
    let (hubs, same_worker) = tokio::task::spawn_blocking(move || start_hubs(&baseline_rev))
        .await
        .map_err(|e| anyhow!("starting the hubs failed: {e}"))??;
    eprintln!(
        "hub-bench: measuring {rounds} rounds of {} hubs …",
        hubs.len()
    );
    let load_before = load_average();
    let started = Instant::now();
    let timings = rounds::run(&hubs, rounds).await?;
    let facts = RunFacts {
        machine: Machine::here(),
        load: (load_before, load_average()),
        rounds,
        measuring: started.elapsed(),
        same_worker,
    };
    print!("{}", report::render(&hubs, &timings, &facts));
    tokio::task::spawn_blocking(move || drop(hubs)).await?;
    Ok(())
}

fn connects_from_env() -> Result<usize> {
    match std::env::var("HUB_BENCH_CONNECTS") {
        Ok(text) => {
            let n: usize = text
                .parse()
                .context("HUB_BENCH_CONNECTS must be a number")?;
            anyhow::ensure!(n > 0, "HUB_BENCH_CONNECTS must be at least 1");
            Ok(n)
        }
        Err(_) => Ok(200),
    }
}

/// Builds the current tree and the baseline, then starts current, baseline and JS hub at once.
fn start_hubs(baseline_rev: &str) -> Result<(Vec<Contender>, bool)> {
    eprintln!("hub-bench: building the Worker of the current tree …");
    let current = WorkerRevision::current(&WORKER_PATHS)?;
    let baseline = baseline::build(baseline_rev)?;
    let commit = git::resolve(workspace::root(), baseline_rev)?;
    let same_worker = git::same_as_work_tree(workspace::root(), &commit, &WORKER_PATHS)?;
    let vars = vars::from_env()?;
    eprintln!("hub-bench: starting the three hubs under wrangler dev …");
    let hubs = thread::scope(|scope| {
        let current = scope.spawn(|| Contender::rust_worker("current", &current, &vars));
        let baseline = scope.spawn(|| Contender::rust_worker("baseline", &baseline, &vars));
        let js = scope.spawn(Contender::js_hub);
        [current, baseline, js]
            .into_iter()
            .map(|started| {
                started
                    .join()
                    .map_err(|_| anyhow!("a hub failed to start (its output is above)"))?
            })
            .collect::<Result<Vec<_>>>()
    })?;
    Ok((hubs, same_worker))
}
