//! Benchmark of the edge agent: resident memory while connected and CPU time per sample, measured on a real
//! agent process (this program run again with `--agent`, the same code as `edge-agent`) against a fake hub on
//! 127.0.0.1 that acks like the real one.
//!
//! Run: `cargo run --release -p edge-agent --example agent-bench` (about 40 s). Linux only: it reads `/proc`.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use edge_agent::config::{AgentConfig, ConfigFile};
use edge_agent::testing::{FakeHub, Mode};
use telemetry_protocol::{TokenKind, generate_token};
use tokio::time::{Instant, sleep};

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on every Linux architecture).
const TICKS_PER_SECOND: f64 = 100.0;

fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("--agent") {
        return agent();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

/// The measured agent: configured from the environment, stops when its stdin closes.
fn agent() -> anyhow::Result<()> {
    let config = AgentConfig::load(&ConfigFile::None, std::env::vars())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(4)
        .build()?;
    let stdin_closed = async {
        let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await;
    };
    runtime.block_on(edge_agent::run(config, stdin_closed))?;
    runtime.shutdown_timeout(Duration::from_millis(300));
    Ok(())
}

async fn bench() -> anyhow::Result<()> {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = std::env::temp_dir().join(format!("edge-agent-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    println!("measuring resident memory: 1 sample/s, connected, 15 s");
    let mut child = spawn_agent(&hub, &dir.join("rss.redb"), "1")?;
    wait_for_samples(&hub, 1).await?;
    sleep(Duration::from_secs(15)).await;
    let (rss, peak) = memory_kib(child.id())?;
    stop(&mut child)?;

    println!("measuring CPU per sample: 100 samples/s, 20 s");
    let start_count = hub.accepted_seqs().len();
    let mut child = spawn_agent(&hub, &dir.join("cpu.redb"), "0.01")?;
    wait_for_samples(&hub, start_count + 1).await?;
    let (cpu_before, count_before) = (cpu_seconds(child.id())?, hub.accepted_seqs().len());
    sleep(Duration::from_secs(20)).await;
    let (cpu_after, count_after) = (cpu_seconds(child.id())?, hub.accepted_seqs().len());
    stop(&mut child)?;
    let samples = (count_after - count_before) as f64;
    let per_sample = |before: f64, after: f64| (after - before) / samples * 1e6;
    let (user_us, system_us) = (
        per_sample(cpu_before.0, cpu_after.0),
        per_sample(cpu_before.1, cpu_after.1),
    );
    let per_sample_us = user_us + system_us;

    let _ = std::fs::remove_dir_all(&dir);
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| resident memory, connected, 1 Hz (VmRSS) | {:.1} MiB |",
        rss as f64 / 1024.0
    );
    println!(
        "| peak resident memory (VmHWM) | {:.1} MiB |",
        peak as f64 / 1024.0
    );
    println!(
        "| CPU time per sample (at 100 Hz, {samples} samples) | {per_sample_us:.0} µs ({user_us:.0} user + {system_us:.0} system) |"
    );
    println!(
        "| CPU load at 1 Hz (estimate) | {:.3} % |",
        per_sample_us / 1e6 * 100.0
    );
    Ok(())
}

fn spawn_agent(hub: &FakeHub, store: &Path, interval: &str) -> anyhow::Result<Child> {
    let token = generate_token(TokenKind::Device, |buf| {
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte = (i * 7 + 3) as u8;
        }
    });
    let child = Command::new(std::env::current_exe()?)
        .arg("--agent")
        .env_clear()
        .env("DEVICE_ID", "bench")
        .env("API_TOKEN", token)
        .env("SERVER_URL", hub.url())
        .env("EDGE_STORE__PATH", store)
        .env("EDGE_SAMPLE_INTERVAL_SECS", interval)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the agent")?;
    Ok(child)
}

async fn wait_for_samples(hub: &FakeHub, count: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while hub.accepted_seqs().len() < count {
        if Instant::now() > deadline {
            bail!("the agent did not connect within 30 s");
        }
        sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Closes the agent's stdin (its shutdown signal) and waits for it.
fn stop(child: &mut Child) -> anyhow::Result<()> {
    drop(child.stdin.take());
    let status = child.wait()?;
    if !status.success() {
        bail!("the agent exited with {status}");
    }
    Ok(())
}

/// (VmRSS, VmHWM) of `pid`, in KiB.
fn memory_kib(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .context("no such field")?;
        let kib = line.split_whitespace().nth(1).context("no value")?;
        Ok(kib.parse()?)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// (user, system) CPU time of `pid`, in seconds.
fn cpu_seconds(pid: u32) -> anyhow::Result<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    let rest = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user = fields[11].parse::<f64>()? / TICKS_PER_SECOND;
    let system = fields[12].parse::<f64>()? / TICKS_PER_SECOND;
    Ok((user, system))
}
