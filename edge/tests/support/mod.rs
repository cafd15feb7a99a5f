//! Shared support of the integration tests: the fake hubs (a plain one and one that keeps a history), a config
//! for them, a scripted sensor, a prefilled store, a handle on an agent running in-process, and a log capture.
#![allow(dead_code)]

pub mod fake_hub;
pub mod history_hub;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use edge_agent::config::{AgentConfig, ConfigFile};
use edge_agent::gpio::RecordingPins;
use edge_agent::sensors::{Sensor, SensorError};
use edge_agent::store::SampleStore;
use edge_agent::{AgentError, Hardware, run_with};
use serde_json::{Map, Value, json};
use telemetry_protocol::{TokenKind, generate_token};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The device id every test agent uses.
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

/// A scratch directory for a store, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh directory named after `label`.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("edge-it-{}-{n}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Self(dir)
    }

    /// The store file inside it.
    pub fn store(&self) -> PathBuf {
        self.0.join("samples.redb")
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A config for an agent talking to `server_url` with `token`, storing in `store`, with fast timings for
/// tests (sample every 50 ms, backoff 50 ms to 500 ms) overridden by `extra` (`EDGE_…` variables).
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

/// An agent running in a task, with its recorded output pins.
pub struct RunningAgent {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), AgentError>>,
    /// The pins `gpio_write` drove.
    pub pins: RecordingPins,
}

impl RunningAgent {
    /// Starts the agent with a [`Counter`] sensor and recording pins (17 is an output).
    pub fn start(config: AgentConfig) -> Self {
        let pins = RecordingPins::new(&config.gpio_outputs);
        let hardware = Hardware {
            sensors: vec![Box::new(Counter(0))],
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
        }
    }

    /// Signals shutdown and waits for `run` to return; returns how long that took.
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

/// Collects everything a `tracing` subscriber writes.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures every log line, `level` and above, written on this thread while the guard lives: all of an
    /// agent's status lines when it runs on a current-thread runtime.
    pub fn on_this_thread(level: tracing::Level) -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Self::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}
