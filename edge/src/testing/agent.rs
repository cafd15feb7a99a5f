//! The real agent running in-process (`run_with` in a task) against a fake or real hub, with its store in a
//! scratch directory and fast timings, and what tests need around it: tokens, a prefilled store, a counting
//! sensor.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Map, Value, json};
use telemetry_protocol::{TokenKind, generate_token};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::{AgentConfig, ConfigFile};
use crate::gpio::RecordingPins;
use crate::sensors::{Sensor, SensorError, build_sensors};
use crate::store::SampleStore;
use crate::{AgentError, Hardware, run_with};

/// The device id every test agent uses unless its config says otherwise.
pub const DEVICE_ID: &str = "edge-test";

/// A well-formed device token, different per call.
pub fn device_token() -> String {
    static SEED: AtomicU64 = AtomicU64::new(1);
    let mut state = SEED
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    generate_token(TokenKind::Device, |buf| {
        for byte in buf {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = state as u8;
        }
    })
}

/// A fresh scratch directory (`$TMPDIR/edge-agent-test-…`), removed on drop.
pub fn scratch_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("edge-agent-test-")
        .tempdir()
        .expect("create a scratch directory")
}

/// The sample store's file inside `dir`.
pub fn store_in(dir: &TempDir) -> PathBuf {
    dir.path().join("samples")
}

/// A config for an agent talking to `server_url` with `token`, storing in `store`, with fast timings for
/// tests (sample every 50 ms, backoff 50 ms to 500 ms) overridden by `extra` (`EDGE_…` variables, or
/// `DEVICE_ID`).
pub fn config(server_url: &str, token: &str, store: &Path, extra: &[(&str, &str)]) -> AgentConfig {
    let mut env: Vec<(String, String)> = [
        ("DEVICE_ID", DEVICE_ID),
        ("API_TOKEN", token),
        ("SERVER_URL", server_url),
        ("EDGE_STORE__PATH", &store.to_string_lossy()),
        ("EDGE_SAMPLE_INTERVAL_SECS", "0.05"),
        ("EDGE_CONNECTION__BACKOFF_BASE_SECS", "0.05"),
        ("EDGE_CONNECTION__BACKOFF_CAP_SECS", "0.5"),
        ("EDGE_GPIO_OUTPUTS", "17"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    AgentConfig::load(&ConfigFile::None, env).expect("test config is valid")
}

/// Writes `{"n": count}` on every read; never fails.
#[derive(Debug, Default)]
pub struct Counter(u64);

impl Sensor for Counter {
    fn name(&self) -> &str {
        "counter"
    }

    fn read(&mut self, fields: &mut Map<String, Value>) -> Result<(), SensorError> {
        self.0 += 1;
        fields.insert("n".into(), json!(self.0));
        Ok(())
    }
}

/// An agent running in a task, with its recorded output pins, until [`RunningAgent::stop`].
pub struct RunningAgent {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), AgentError>>,
    /// The pins `gpio_write` drove.
    pub pins: RecordingPins,
    _store_dir: Option<TempDir>,
}

impl RunningAgent {
    /// Starts the agent with a [`Counter`] sensor and recording pins. Must be called inside a tokio runtime.
    pub fn start(config: AgentConfig) -> Self {
        Self::start_with_sensors(config, vec![Box::new(Counter::default())])
    }

    /// Starts the agent with the sensors its config names (the simulated energy system by default) and
    /// recording pins. Panics if a sensor cannot be opened.
    pub fn start_with_config_sensors(config: AgentConfig) -> Self {
        let sensors = build_sensors(&config.sensors).expect("the test config's sensors open");
        Self::start_with_sensors(config, sensors)
    }

    /// Starts the agent simulating a Pi for `device_id` against `server_url` (a hub's base URL), sampling
    /// every `interval_secs` with quick reconnects (0.2 s base, 1 s cap), its store in a scratch directory
    /// that lives as long as the agent.
    pub fn simulated(server_url: &str, device_id: &str, token: &str, interval_secs: &str) -> Self {
        let dir = scratch_dir();
        let extra = [
            ("DEVICE_ID", device_id),
            ("EDGE_SAMPLE_INTERVAL_SECS", interval_secs),
            ("EDGE_CONNECTION__BACKOFF_BASE_SECS", "0.2"),
            ("EDGE_CONNECTION__BACKOFF_CAP_SECS", "1"),
            ("EDGE_GPIO_OUTPUTS", ""),
        ];
        let config = config(server_url, token, &store_in(&dir), &extra);
        let mut agent = Self::start_with_config_sensors(config);
        agent._store_dir = Some(dir);
        agent
    }

    fn start_with_sensors(config: AgentConfig, sensors: Vec<Box<dyn Sensor>>) -> Self {
        let pins = RecordingPins::new(&config.gpio_outputs);
        let hardware = Hardware {
            sensors,
            pins: Box::new(pins.clone()),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run_with(config, hardware, async {
            let _ = stopped.await;
        }));
        Self {
            stop: Some(stop),
            task,
            pins,
            _store_dir: None,
        }
    }

    /// Signals shutdown and waits (up to 5 s) for `run` to return cleanly; returns how long that took.
    pub async fn stop(mut self) -> Duration {
        let started = Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let outcome = tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .expect("the agent stops within 5 s")
            .expect("the agent task did not panic");
        outcome.expect("the agent stops cleanly");
        started.elapsed()
    }
}

/// Asserts that `seqs` is exactly `1..=seqs.len()`: nothing missing, nothing twice, in order.
pub fn assert_contiguous_from_1(seqs: &[u64]) {
    for (index, seq) in seqs.iter().enumerate() {
        assert_eq!(
            *seq,
            index as u64 + 1,
            "seq out of place at index {index}: {seqs:?}"
        );
    }
}

/// Stores `count` samples of about `bytes` bytes each, as an agent cut off for a while would have.
pub fn prefill(store: &Path, count: u64, bytes: usize) {
    let store = SampleStore::open(store, 100_000).expect("store");
    for n in 1..=count {
        let mut data = Map::new();
        data.insert("n".into(), json!(n));
        data.insert("pad".into(), Value::String("x".repeat(bytes)));
        store
            .append("2026-02-03T12:00:00.000Z", data)
            .expect("append");
    }
}

/// The agent binary to run: `EDGE_AGENT_BIN` if set, else `built` (the tests' `CARGO_BIN_EXE_edge-agent`).
pub fn agent_binary(built: &Path) -> PathBuf {
    std::env::var_os("EDGE_AGENT_BIN").map_or_else(|| built.to_owned(), PathBuf::from)
}

/// A command that runs [`agent_binary`] behind the words of `EDGE_AGENT_RUNNER` if set (`scripts/cross-test`
/// runs the aarch64 build under `qemu-aarch64` that way).
pub fn agent_process(built: &Path) -> tokio::process::Command {
    let binary = agent_binary(built);
    let runner = std::env::var("EDGE_AGENT_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(program) => {
            let mut command = tokio::process::Command::new(program);
            command.args(words).arg(binary);
            command
        }
        None => tokio::process::Command::new(binary),
    }
}
