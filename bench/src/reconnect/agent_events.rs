//! What the in-process agents report, read from their status lines: a tracing layer that records, per device,
//! when an attempt started (`connecting`) and when a socket was accepted (`connected`), with the monotonic
//! time. The agents run in this process, so their lines reach this layer instead of a terminal.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The module whose status lines are read.
const EVENT_LOOP_TARGET: &str = "edge_agent::event_loop";
/// The path segment before the device id in the agent's URL.
const DEVICE_PATH: &str = "/ws/device/";

/// A kind of status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A handshake attempt started.
    Attempt,
    /// The hub accepted the socket.
    Connected,
}

/// One status line of one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentEvent {
    /// The device id from the agent's URL.
    pub device: String,
    /// What happened.
    pub kind: Kind,
    /// When it was logged.
    pub at: Instant,
}

/// Every event recorded since the layer was installed.
fn recorded() -> MutexGuard<'static, Vec<AgentEvent>> {
    static EVENTS: OnceLock<Mutex<Vec<AgentEvent>>> = OnceLock::new();
    EVENTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Installs the recording layer as the process's subscriber; call once before the agents start.
pub fn install() -> anyhow::Result<()> {
    let subscriber = tracing_subscriber::registry().with(Recorder);
    tracing::subscriber::set_global_default(subscriber)?;
    Ok(())
}

/// The events at or after `since`, in order.
pub fn since(since: Instant) -> Vec<AgentEvent> {
    recorded()
        .iter()
        .filter(|event| event.at >= since)
        .cloned()
        .collect()
}

/// How many of `devices` logged `connected` at or after `since`.
pub fn connected_since(devices: &[String], since: Instant) -> usize {
    let events = recorded();
    let connected: HashSet<&str> = events
        .iter()
        .filter(|e| e.kind == Kind::Connected && e.at >= since)
        .map(|e| e.device.as_str())
        .collect();
    devices
        .iter()
        .filter(|device| connected.contains(device.as_str()))
        .count()
}

struct Recorder;

impl<S: Subscriber> Layer<S> for Recorder {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != EVENT_LOOP_TARGET {
            return;
        }
        let at = Instant::now();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let kind = match fields.message.as_str() {
            "connecting" => Kind::Attempt,
            message if message.starts_with("connected") => Kind::Connected,
            _ => return,
        };
        let Some((_, device)) = fields.url.split_once(DEVICE_PATH) else {
            return;
        };
        let device = device.to_owned();
        recorded().push(AgentEvent { device, kind, at });
    }
}

/// The message and the `url` field of a status line.
#[derive(Default)]
struct Fields {
    message: String,
    url: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "url" {
            value.clone_into(&mut self.url);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        }
    }
}
