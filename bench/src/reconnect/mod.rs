//! `hub-bench reconnect`: a hub restart as a fleet sees it. Starts the Worker under `wrangler dev`, runs a fleet
//! of real agents in this process (200 by default) on the old reconnect schedule (exponential backoff only),
//! restarts the hub (same port, same state) and records per agent the time from the hub's first answer to its
//! reconnect; then the same with a fresh fleet on the new schedule (fast retries). Prints both side by side: p50,
//! p99, max, the busiest 100 ms, attempts while the hub was away, and a histogram of arrivals per 100 ms. Then a
//! few lone agents of each schedule through outages of about 5 s and 30 s: their catch-up after the return.
//!
//! Sizes: `HUB_BENCH_AGENTS` (200 per schedule), `HUB_BENCH_SOLO` (5 per schedule).

mod agent_events;
mod fleet;
mod hub_return;
mod measure;
mod report;

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hub_e2e::HubServer;
use hubctl::hub::MAX_DEVICES_PER_BATCH;

use crate::connect::machine::{Machine, load_average};
use crate::figures::BENCH_VARS;
use fleet::{Fleet, STABLE_AFTER, Schedule};
use report::Reconnects;

/// How long agents may take to reconnect after the hub's return before they count as missing.
const RECONNECT_WAIT: Duration = Duration::from_secs(120);
/// Extra downtime of the lone agents' outages, on top of the restart itself.
const SOLO_DOWNTIMES: [Duration; 2] = [Duration::from_secs(5), Duration::from_secs(30)];

/// `(device id, token)` of every agent.
type Devices = Vec<(String, String)>;

/// Runs the fleet restarts and the lone agents' outages; prints Markdown as it goes.
pub async fn run() -> Result<()> {
    let agents = size("HUB_BENCH_AGENTS", 200)?;
    let solo = size("HUB_BENCH_SOLO", 5)?;
    agent_events::install()?;
    eprintln!("hub-bench: building the Worker and starting wrangler dev …");
    let hub = tokio::task::spawn_blocking(|| HubServer::start_with_vars(BENCH_VARS)).await?;
    let fleets = [Schedule::Old, Schedule::New].map(|s| provision(&hub, s.prefix(), agents));
    let solos = [Schedule::Old, Schedule::New]
        .map(|s| provision(&hub, &format!("{}-solo", s.prefix()), solo));
    let machine = Machine::here();
    emit(&format!(
        "# Reconnects after a hub restart\n\n{agents} agents per schedule in one process (the edge_agent library), \
         sampling every 2 s, production backoff (1 s base, 60 s cap; connections stable after {} s instead of 30 s), \
         against the Worker under wrangler dev on loopback; {} cores{}, shared with wrangler and workerd; load \
         average {}.\n",
        STABLE_AFTER.as_secs(),
        machine.cores,
        machine
            .cpu
            .as_deref()
            .map_or(String::new(), |m| format!(" ({m})")),
        load_text(),
    ));
    let mut hub = hub;
    let mut results = Vec::new();
    for (schedule, devices) in [Schedule::Old, Schedule::New].into_iter().zip(&fleets) {
        let (back, reconnects) = restart_under_fleet(hub, devices, schedule).await?;
        hub = back;
        results.push(reconnects);
    }
    let [old, new] = [&results[0], &results[1]];
    emit(&format!(
        "\n## {agents} agents, ms from the hub's return to each reconnect\n\n{}\n### Attempts and accepted sockets per bucket\n\n{}",
        report::summary_table(&[old, new]),
        report::histogram(&[old, new])
    ));
    for down in SOLO_DOWNTIMES {
        hub = lone_agents(hub, &solos, down).await?;
    }
    emit(&format!("\nLoad average at the end: {}.", load_text()));
    Ok(())
}

/// Starts a fleet on `schedule`, waits until it is connected and stable, restarts the hub under it and
/// records the reconnects; the fleet is stopped before this returns.
async fn restart_under_fleet(
    hub: HubServer,
    devices: &Devices,
    schedule: Schedule,
) -> Result<(HubServer, Reconnects)> {
    eprintln!(
        "hub-bench: {} agents on the {} schedule …",
        devices.len(),
        schedule.label()
    );
    let started = Instant::now();
    let fleet = Fleet::start(hub.port(), devices, schedule);
    fleet.wait_stable(started).await?;
    let (hub, outage) = hub_return::restart(hub, Duration::ZERO).await?;
    let back = fleet
        .wait_connected(outage.stopped_at, RECONNECT_WAIT)
        .await;
    let events = agent_events::since(outage.stopped_at);
    let reconnects = measure::reconnects(schedule.label(), &fleet.devices, &outage, &events);
    emit(&format!(
        "\n{}: hub away {} ms (stop and restart of wrangler dev); {back} of {} agents back.",
        schedule.label(),
        outage.length().as_millis(),
        devices.len()
    ));
    fleet.stop().await;
    Ok((hub, reconnects))
}

/// Lone agents of both schedules (a light load) through one outage of `down` plus the restart; prints each
/// agent's catch-up after the return.
async fn lone_agents(hub: HubServer, solos: &[Devices; 2], down: Duration) -> Result<HubServer> {
    eprintln!(
        "hub-bench: lone agents, hub down {} s plus its restart …",
        down.as_secs()
    );
    let started = Instant::now();
    let fleets = [Schedule::Old, Schedule::New]
        .into_iter()
        .zip(solos)
        .map(|(schedule, devices)| (schedule, Fleet::start(hub.port(), devices, schedule)))
        .collect::<Vec<_>>();
    for (_, fleet) in &fleets {
        fleet.wait_stable(started).await?;
    }
    let (hub, outage) = hub_return::restart(hub, down).await?;
    let mut text = format!(
        "\n## Lone agents, hub away {:.1} s\n\n| schedule | each agent's socket accepted, ms after the return | max | attempts while away |\n|---|---|---:|---:|\n",
        outage.length().as_secs_f64()
    );
    for (schedule, fleet) in fleets {
        fleet
            .wait_connected(outage.stopped_at, RECONNECT_WAIT)
            .await;
        let events = agent_events::since(outage.stopped_at);
        let r = measure::reconnects(schedule.label(), &fleet.devices, &outage, &events);
        let mut accepted = r.connected_ms.clone();
        accepted.sort_unstable();
        let each: Vec<String> = accepted.iter().map(i64::to_string).collect();
        let max = accepted.last().map_or("-".to_owned(), i64::to_string);
        let missing = match r.missing {
            0 => String::new(),
            n => format!(" ({n} missing)"),
        };
        let _ = writeln!(
            text,
            "| {} | {}{missing} | {max} | {} |",
            schedule.label(),
            each.join(", "),
            r.attempts_while_down()
        );
        fleet.stop().await;
    }
    emit(&text);
    Ok(hub)
}

/// `count` devices `{prefix}-000…` with fresh tokens, created in batches of at most 100.
fn provision(hub: &HubServer, prefix: &str, count: usize) -> Devices {
    let ids: Vec<String> = (0..count).map(|n| format!("{prefix}-{n:03}")).collect();
    let mut devices = Vec::new();
    for batch in ids.chunks(MAX_DEVICES_PER_BATCH) {
        let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
        let created = hub.provision_devices(&refs);
        devices.extend(
            created
                .into_iter()
                .map(|d| (d.device_id.as_str().to_owned(), d.token)),
        );
    }
    devices
}

/// A size from the environment, or its default.
fn size(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .with_context(|| format!("{name} must be a number")),
        Err(_) => Ok(default),
    }
}

fn load_text() -> String {
    load_average().map_or("unknown".to_owned(), |load| format!("{load:.2}"))
}

fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}
