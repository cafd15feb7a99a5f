//! Benchmark of the edge agent as it runs on a device: a release `edge-agent` binary as a process at 1 sample/s
//! against a fake hub on 127.0.0.1 that acks like the real one. It reports disk writes and write syscalls per
//! sample (`/proc/<pid>/io`), fsyncs per hour (`strace -f -c`), whole-device writes (`/sys/block/<dev>/stat`),
//! CPU (per-thread `schedstat`), resident memory (VmRSS, VmHWM), CPU per sample at 100 samples/s and the
//! binary's size. With `--compare` it measures two binaries in turn and prints their ratio.
//!
//!   cargo build --release -p edge-agent && cargo run --release -p edge-agent --example agent-bench
//!   agent-bench [AGENT]                      AGENT defaults to the `edge-agent` built beside this example
//!   agent-bench --compare BASELINE [AGENT]   both, in turn; the ratio column is AGENT / BASELINE
//!
//! Environment: AGENT_BENCH_SECS (1 Hz window, default 60), AGENT_BENCH_FSYNC_SECS (strace window, default 20),
//! AGENT_BENCH_FAST_SECS (100 samples/s window, default 10), AGENT_BENCH_BLOCKDEV (e.g. `vda`: whole-device
//! writes; run on an otherwise idle machine), AGENT_BENCH_STORE_DIR (where the store goes, default the temp
//! dir; it must be a real disk: tmpfs counts no write_bytes). Linux only: it reads `/proc`.

mod probe;
mod report;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use edge_agent::testing::{FakeHub, Mode};
use probe::Snapshot;
use report::{Figures, Window};
use telemetry_protocol::{TokenKind, generate_token};
use tokio::time::{Instant, sleep};

/// What to measure and for how long.
struct Settings {
    binaries: Vec<PathBuf>,
    window: Duration,
    fsync_window: Duration,
    fast_window: Duration,
    block_device: Option<String>,
    store_dir: PathBuf,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    let settings = settings(std::env::args().skip(1).collect())?;
    let hub = FakeHub::start(Mode::Accept).await;
    let mut measured = Vec::new();
    for binary in &settings.binaries {
        println!("measuring {}", binary.display());
        measured.push(measure(&hub, binary, &settings).await?);
    }
    println!();
    print!("{}", report::table(&measured));
    Ok(())
}

fn settings(args: Vec<String>) -> anyhow::Result<Settings> {
    let beside_this = || -> anyhow::Result<PathBuf> {
        let exe = std::env::current_exe()?;
        let release_dir = exe
            .parent()
            .and_then(Path::parent)
            .context("no target directory")?;
        Ok(release_dir.join("edge-agent"))
    };
    let binaries = match args.as_slice() {
        [] => vec![beside_this()?],
        [flag, baseline] if flag == "--compare" => vec![baseline.into(), beside_this()?],
        [flag, baseline, agent] if flag == "--compare" => vec![baseline.into(), agent.into()],
        [agent] if !agent.starts_with('-') => vec![agent.into()],
        _ => bail!("usage: agent-bench [--compare BASELINE] [AGENT]"),
    };
    for binary in &binaries {
        if !binary.is_file() {
            bail!(
                "no agent binary at {} (cargo build --release -p edge-agent)",
                binary.display()
            );
        }
    }
    let seconds = |name: &str, default: u64| -> anyhow::Result<Duration> {
        let value = std::env::var(name).map_or(Ok(default), |v| {
            v.parse().with_context(|| format!("{name}={v}"))
        })?;
        Ok(Duration::from_secs(value))
    };
    Ok(Settings {
        binaries,
        window: seconds("AGENT_BENCH_SECS", 60)?,
        fsync_window: seconds("AGENT_BENCH_FSYNC_SECS", 20)?,
        fast_window: seconds("AGENT_BENCH_FAST_SECS", 10)?,
        block_device: std::env::var("AGENT_BENCH_BLOCKDEV")
            .ok()
            .filter(|d| !d.is_empty()),
        store_dir: std::env::var_os("AGENT_BENCH_STORE_DIR")
            .map_or_else(std::env::temp_dir, PathBuf::from),
    })
}

/// All figures of one binary: the 1 Hz window, then fsyncs on the same process, then a 100 samples/s run.
async fn measure(hub: &FakeHub, binary: &Path, settings: &Settings) -> anyhow::Result<Figures> {
    let dir = settings
        .store_dir
        .join(format!("edge-agent-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let device = settings.block_device.as_deref();

    println!("  1 sample/s for {} s", settings.window.as_secs());
    let mut agent = Agent::start(hub, binary, &dir.join("slow"), "1").await?;
    let slow = agent.window(hub, settings.window, device).await?;
    let (rss_kib, hwm_kib) = probe::memory_kib(agent.pid())?;
    println!("  fsyncs for {} s", settings.fsync_window.as_secs());
    let fsyncs = count_fsyncs(agent.pid(), settings.fsync_window).await;
    agent.stop()?;

    println!("  100 samples/s for {} s", settings.fast_window.as_secs());
    let mut agent = Agent::start(hub, binary, &dir.join("fast"), "0.01").await?;
    let fast = agent.window(hub, settings.fast_window, None).await?;
    agent.stop()?;
    let stripped_bytes = stripped_size(binary, &dir.join("strip"));
    let _ = std::fs::remove_dir_all(&dir);

    let (device_bytes_per_sample, device_writes_per_sample) = slow.device_per_sample();
    Ok(Figures {
        binary: binary.display().to_string(),
        size_bytes: std::fs::metadata(binary)?.len(),
        stripped_bytes,
        samples: slow.samples,
        window_s: slow.seconds,
        write_bytes_per_sample: slow.write_bytes_per_sample(),
        write_calls_per_sample: slow.write_calls_per_sample(),
        device_bytes_per_sample,
        device_writes_per_sample,
        cpu_percent: slow.cpu_percent(),
        rss_kib,
        hwm_kib,
        fsyncs_per_hour: fsyncs.as_ref().ok().copied(),
        fsync_note: fsyncs.err(),
        cpu_us_per_sample_fast: fast.cpu_us_per_sample(),
    })
}

/// fsync + fdatasync of `pid` and its threads over `window`, per hour; strace attaches and detaches.
async fn count_fsyncs(pid: u32, window: Duration) -> Result<f64, String> {
    let summary_file = std::env::temp_dir().join(format!("agent-bench-strace-{pid}.txt"));
    let tracer = Command::new("strace")
        .args(["-f", "-c", "-e", "trace=fsync,fdatasync", "-o"])
        .arg(&summary_file)
        .args(["-p", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut tracer = match tracer {
        Ok(tracer) => tracer,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("not measured (strace missing)".into());
        }
        Err(e) => return Err(format!("not measured (strace: {e})")),
    };
    sleep(Duration::from_millis(300)).await; // attached to every thread
    let started = Instant::now();
    sleep(window).await;
    let seconds = started.elapsed().as_secs_f64();
    let interrupted = Command::new("kill")
        .args(["-INT", &tracer.id().to_string()])
        .status();
    let _ = tracer.wait();
    let summary = std::fs::read_to_string(&summary_file).unwrap_or_default();
    let _ = std::fs::remove_file(&summary_file);
    match interrupted {
        Ok(status) if status.success() && summary.contains("total") => Ok(report::per_hour(
            probe::strace_calls(&summary, &["fsync", "fdatasync"]),
            seconds,
        )),
        _ => Err(format!(
            "not measured (strace could not attach; ptrace allowed?): {}",
            summary.trim()
        )),
    }
}

/// The binary's size after `strip`, when `strip` is on PATH and understands it.
fn stripped_size(binary: &Path, scratch: &Path) -> Option<u64> {
    std::fs::create_dir_all(scratch).ok()?;
    let out = scratch.join("stripped");
    let status = Command::new("strip")
        .arg("-o")
        .arg(&out)
        .arg(binary)
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let size = std::fs::metadata(&out).ok().map(|m| m.len());
    status.success().then_some(size).flatten()
}

/// One agent process against the fake hub.
struct Agent {
    child: Child,
}

impl Agent {
    /// Starts `binary` with its store at `store`, sampling every `interval` s, and waits for its first ack.
    async fn start(
        hub: &FakeHub,
        binary: &Path,
        store: &Path,
        interval: &str,
    ) -> anyhow::Result<Self> {
        let token = generate_token(TokenKind::Device, |buf| {
            for (i, byte) in buf.iter_mut().enumerate() {
                *byte = (i * 7 + 3) as u8;
            }
        });
        let before = hub.accepted_seqs().len();
        let child = Command::new(binary)
            .env_clear()
            .env("DEVICE_ID", "bench")
            .env("API_TOKEN", token)
            .env("SERVER_URL", hub.url())
            .env("EDGE_STORE__PATH", store)
            .env("EDGE_SAMPLE_INTERVAL_SECS", interval)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut agent = Self { child };
        if let Err(e) = wait_for_acks(hub, before + 1).await {
            let _ = agent.stop();
            return Err(e);
        }
        Ok(agent)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's counters over `length`, with the samples the hub accepted meanwhile.
    async fn window(
        &self,
        hub: &FakeHub,
        length: Duration,
        device: Option<&str>,
    ) -> anyhow::Result<Window> {
        let (acked, start, started) = (
            hub.accepted_seqs().len(),
            Snapshot::take(self.pid(), device)?,
            Instant::now(),
        );
        sleep(length).await;
        let end = Snapshot::take(self.pid(), device)?;
        let seconds = started.elapsed().as_secs_f64();
        let samples = (hub.accepted_seqs().len() - acked) as u64;
        if samples == 0 {
            bail!("the hub accepted no sample in {seconds:.0} s");
        }
        Ok(Window {
            start,
            end,
            samples,
            seconds,
        })
    }

    /// SIGTERM, as systemd stops it; the agent must exit 0.
    fn stop(&mut self) -> anyhow::Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .context("running kill -TERM (is `kill` on PATH?)")?;
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the agent exited with {status}");
        }
        Ok(())
    }
}

/// An agent left running by an error on the way is killed, not orphaned.
impl Drop for Agent {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn wait_for_acks(hub: &FakeHub, count: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while hub.accepted_seqs().len() < count {
        if Instant::now() > deadline {
            bail!("the agent did not deliver a sample within 30 s");
        }
        sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
