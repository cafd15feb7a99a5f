//! What the agent counts, for the Prometheus endpoint: one [`AgentMetrics`] of atomics, shared by the sampler,
//! the event loop and the link, and rendered by [`AgentMetrics::render`] in the Prometheus text exposition
//! format (version 0.0.4). Pure: recording is a few relaxed atomic operations, rendering reads them; the socket
//! is [`crate::metrics_server`].
//!
//! The figures are the agent's own since it started, except `edge_agent_samples_dropped_total`, which is the
//! store's count since the store was created (it survives restarts, as in the telemetry's `dropped_samples`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::store::StoreHealth;

/// The `Content-Type` of [`AgentMetrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The agent's counters and gauges. Every method takes `&self`; share it in an `Arc`.
#[derive(Debug, Default)]
pub struct AgentMetrics {
    device_id: String,
    started_at_ms: u64,
    samples_taken: AtomicU64,
    samples_stored: AtomicU64,
    samples_sent: AtomicU64,
    samples_confirmed: AtomicU64,
    samples_dropped: AtomicU64,
    readings_refused: AtomicU64,
    connection_attempts: AtomicU64,
    connection_failures: AtomicU64,
    connections: AtomicU64,
    connected: AtomicBool,
    backlog: AtomicU64,
    store_degraded: AtomicBool,
    store_errors: AtomicU64,
    store_in_memory: AtomicU64,
    sample_interval_us: AtomicU64,
    last_sample_ms: AtomicU64,
}

/// What the store says after a sample or an acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreFigures {
    /// Samples held, not yet confirmed by the hub.
    pub backlog: u64,
    /// Samples dropped since the store was created.
    pub dropped: u64,
    /// Its condition.
    pub health: StoreHealth,
}

/// A metric family's type, as its `# TYPE` line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
        }
    }
}

impl AgentMetrics {
    /// Metrics of device `device_id`, whose agent started at `started_at_ms` (Unix time in milliseconds).
    pub fn new(device_id: &str, started_at_ms: u64) -> Self {
        Self {
            device_id: device_id.to_owned(),
            started_at_ms,
            ..Self::default()
        }
    }

    /// The sampler read the sensors once, at `at_ms` (Unix milliseconds); `stored` whether the store took it.
    pub fn on_sample(&self, stored: bool, at_ms: u64) {
        self.samples_taken.fetch_add(1, Ordering::Relaxed);
        if stored {
            self.samples_stored.fetch_add(1, Ordering::Relaxed);
        }
        self.last_sample_ms.store(at_ms, Ordering::Relaxed);
    }

    /// Readings refused by their bounds since the agent started, over all sensors.
    pub fn set_readings_refused(&self, refused: u64) {
        self.readings_refused.store(refused, Ordering::Relaxed);
    }

    /// The store's backlog, drops and health as it reported them just now.
    pub fn set_store(&self, figures: StoreFigures) {
        self.backlog.store(figures.backlog, Ordering::Relaxed);
        self.samples_dropped
            .store(figures.dropped, Ordering::Relaxed);
        self.store_degraded
            .store(figures.health.degraded, Ordering::Relaxed);
        self.store_errors
            .store(figures.health.errors, Ordering::Relaxed);
        self.store_in_memory
            .store(figures.health.in_memory, Ordering::Relaxed);
    }

    /// The sampler now samples every `every`.
    pub fn set_sample_interval(&self, every: Duration) {
        let micros = u64::try_from(every.as_micros()).unwrap_or(u64::MAX);
        self.sample_interval_us.store(micros, Ordering::Relaxed);
    }

    /// `count` samples were written to the socket (resends included).
    pub fn on_sent(&self, count: u64) {
        self.samples_sent.fetch_add(count, Ordering::Relaxed);
    }

    /// The hub confirmed `count` samples and the store forgot them.
    pub fn on_confirmed(&self, count: u64) {
        self.samples_confirmed.fetch_add(count, Ordering::Relaxed);
    }

    /// A connection attempt starts.
    pub fn on_connect_attempt(&self) {
        self.connection_attempts.fetch_add(1, Ordering::Relaxed);
    }

    /// The attempt failed (no TCP, TLS or upgrade, or the hub refused it).
    pub fn on_connect_failed(&self) {
        self.connection_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The attempt succeeded: the agent is connected.
    pub fn on_connected(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.connected.store(true, Ordering::Relaxed);
    }

    /// The connection ended.
    pub fn on_disconnected(&self) {
        self.connected.store(false, Ordering::Relaxed);
    }

    /// Every family in the text exposition format: `# HELP` and `# TYPE` once each, then its sample.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let read = |value: &AtomicU64| value.load(Ordering::Relaxed);
        let flag = |value: &AtomicBool| u64::from(value.load(Ordering::Relaxed));
        for (name, help, kind, value) in [
            (
                "edge_agent_samples_taken_total",
                "Times the sensors were read into a sample.",
                Kind::Counter,
                read(&self.samples_taken),
            ),
            (
                "edge_agent_samples_stored_total",
                "Samples the store took (on disk, or in memory while the disk fails).",
                Kind::Counter,
                read(&self.samples_stored),
            ),
            (
                "edge_agent_samples_sent_total",
                "Samples written to the hub's socket, resends included.",
                Kind::Counter,
                read(&self.samples_sent),
            ),
            (
                "edge_agent_samples_stored_acked_total",
                "Samples the hub confirmed (stored, or acked by a hub without stored acknowledgements) and the store forgot.",
                Kind::Counter,
                read(&self.samples_confirmed),
            ),
            (
                "edge_agent_samples_dropped_total",
                "Samples dropped unsent because the store was full or a sample was unreadable, since the store was created.",
                Kind::Counter,
                read(&self.samples_dropped),
            ),
            (
                "edge_agent_readings_refused_total",
                "Sensor readings refused for breaking a bound (too large, too deep, not finite).",
                Kind::Counter,
                read(&self.readings_refused),
            ),
            (
                "edge_agent_connection_attempts_total",
                "Connections to the hub attempted.",
                Kind::Counter,
                read(&self.connection_attempts),
            ),
            (
                "edge_agent_connection_failures_total",
                "Connection attempts that failed (network, TLS, upgrade or refusal).",
                Kind::Counter,
                read(&self.connection_failures),
            ),
            (
                "edge_agent_connections_total",
                "Connections to the hub established.",
                Kind::Counter,
                read(&self.connections),
            ),
            (
                "edge_agent_connected",
                "1 while connected to the hub, else 0.",
                Kind::Gauge,
                flag(&self.connected),
            ),
            (
                "edge_agent_backlog_samples",
                "Samples held by the store that the hub has not confirmed yet.",
                Kind::Gauge,
                read(&self.backlog),
            ),
            (
                "edge_agent_store_healthy",
                "1 while the store writes to disk, 0 while it is degraded and holds new samples in memory.",
                Kind::Gauge,
                1 - flag(&self.store_degraded),
            ),
            (
                "edge_agent_store_errors_total",
                "Failed disk operations of the store.",
                Kind::Counter,
                read(&self.store_errors),
            ),
            (
                "edge_agent_store_in_memory_samples",
                "Samples held in memory only, while the disk fails.",
                Kind::Gauge,
                read(&self.store_in_memory),
            ),
        ] {
            family(&mut out, name, help, kind);
            let _ = writeln!(out, "{name} {value}");
        }
        let seconds = [
            (
                "edge_agent_sample_interval_seconds",
                "Time between samples.",
                self.sample_interval_us.load(Ordering::Relaxed) as f64 / 1e6,
            ),
            (
                "edge_agent_last_sample_timestamp_seconds",
                "Unix time of the last sample taken, 0 before the first.",
                read(&self.last_sample_ms) as f64 / 1e3,
            ),
            (
                "edge_agent_start_time_seconds",
                "Unix time the agent started.",
                self.started_at_ms as f64 / 1e3,
            ),
        ];
        for (name, help, value) in seconds {
            family(&mut out, name, help, Kind::Gauge);
            let _ = writeln!(out, "{name} {value}");
        }
        self.render_info(&mut out);
        out
    }

    fn render_info(&self, out: &mut String) {
        let name = "edge_agent_build_info";
        family(
            out,
            name,
            "Always 1; the agent's version and device id as labels.",
            Kind::Gauge,
        );
        let _ = writeln!(
            out,
            "{name}{{version=\"{}\",device_id=\"{}\"}} 1",
            label_value(env!("CARGO_PKG_VERSION")),
            label_value(&self.device_id),
        );
    }
}

/// The `# HELP` and `# TYPE` lines of one family.
fn family(out: &mut String, name: &str, help: &str, kind: Kind) {
    let _ = writeln!(out, "# HELP {name} {}", help_text(help));
    let _ = writeln!(out, "# TYPE {name} {}", kind.as_str());
}

/// A label value escaped as the format requires: backslash, double quote and line feed.
pub fn label_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A `# HELP` text escaped as the format requires: backslash and line feed.
pub fn help_text(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests;
