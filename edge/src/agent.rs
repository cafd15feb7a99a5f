//! The agent as a whole: opens the store, starts the sampler task, runs the event loop until shutdown, then
//! closes the socket, stops the sampler and persists the store.
//!
//! Shutdown is injected: `main` passes ctrl-c or SIGTERM, tests pass a oneshot. With `metrics.listen` set, the
//! Prometheus endpoint listens first (a bind failure stops the agent before it opens anything) and serves until
//! shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

pub use crate::agent_error::AgentError;
use crate::backoff::Backoff;
use crate::command_runner::CommandRunner;
use crate::config::AgentConfig;
use crate::connection::Dialer;
use crate::event_loop::EventLoop;
use crate::gpio::{OutputPins, open_output_pins};
use crate::link::LinkContext;
use crate::metrics::AgentMetrics;
use crate::metrics_server::MetricsEndpoint;
use crate::sampler::Sampler;
use crate::sensors::{Sensor, build_sensors};
use crate::session::Session;
use crate::settings::SettingsFile;
use crate::settings::file::{IntervalSaver, interval_at_start};
use crate::store::{SampleStore, StoreOptions};
use crate::tls::client_config;

/// How long the sampler may take to finish a read in progress at shutdown.
const SAMPLER_STOP_TIMEOUT: Duration = Duration::from_millis(500);

/// The hardware the agent drives; tests pass scripted sensors and [`crate::gpio::RecordingPins`].
pub struct Hardware {
    /// Read on every tick, in order.
    pub sensors: Vec<Box<dyn Sensor>>,
    /// Driven by `gpio_write` commands.
    pub pins: Box<dyn OutputPins>,
}

impl Hardware {
    /// Opens the sensors and output pins that `config` names.
    pub fn open(config: &AgentConfig) -> Result<Self, AgentError> {
        Ok(Self {
            sensors: build_sensors(&config.sensors)?,
            pins: open_output_pins(&config.gpio_outputs)?,
        })
    }
}

/// Runs the agent with the sensors and pins its config names until `shutdown` completes.
pub async fn run(
    config: AgentConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AgentError> {
    let hardware = Hardware::open(&config)?;
    run_with(config, hardware, shutdown).await
}

/// Runs the agent with the given hardware until `shutdown` completes: the socket is closed with 1000, the
/// sampler stopped and the store persisted before this returns `Ok`.
pub async fn run_with(
    config: AgentConfig,
    hardware: Hardware,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AgentError> {
    let tls = client_config(config.ca_file.as_deref())?;
    let metrics = Arc::new(AgentMetrics::new(config.device_id.as_str(), unix_ms()));
    let endpoint = match config.metrics.listen {
        Some(addr) => Some(serve_metrics(addr, Arc::clone(&metrics)).await?),
        None => None,
    };
    let store = open_store(&config).await?;
    let settings = SettingsFile::beside(&config.store.path);
    let interval = interval_at_start(settings.clone(), config.sample_interval).await;
    let (interval_tx, interval_rx) = watch::channel(interval);
    let saver = IntervalSaver::new(settings, config.sample_interval, interval_tx.subscribe());
    let (newest_tx, newest_rx) = watch::channel(store.next_seq() - 1);
    let (stop_tx, stop_rx) = watch::channel(false);
    let sampler = Sampler::new(hardware.sensors, Arc::clone(&store), interval_rx, newest_tx)
        .reporting_to(Arc::clone(&metrics));
    let mut sampler = tokio::spawn(sampler.run(stop_rx));

    let dialer = Dialer::new(
        config.device_url(),
        config.api_token.clone(),
        tls,
        config.connection.connect_timeout,
    );
    let backoff = Backoff::new(config.connection.backoff, fastrand::Rng::new());
    let session = Session::new(backoff, config.connection.backoff_reset_after);
    let context = LinkContext {
        store: Arc::clone(&store),
        epoch: store.epoch(),
        newest: newest_rx,
        timing: config.connection,
        commands: CommandRunner::new(config.gpio_outputs.clone(), hardware.pins, interval_tx)
            .saving_interval(saver),
        metrics,
    };
    let outcome = tokio::select! {
        outcome = EventLoop::new(dialer, session, context).run(shutdown) => outcome,
        stopped = &mut sampler => Err(AgentError::Task(match stopped {
            Ok(()) => "the sampler stopped".to_owned(),
            Err(error) => error.to_string(),
        })),
    };
    drop(endpoint);
    stop_tx.send_replace(true);
    if tokio::time::timeout(SAMPLER_STOP_TIMEOUT, &mut sampler)
        .await
        .is_err()
    {
        tracing::warn!("a sensor read was still running at shutdown");
        sampler.abort();
    }
    let persisted = tokio::task::spawn_blocking(move || store.persist()).await;
    match persisted {
        Ok(Ok(())) => tracing::info!("sample store persisted"),
        Ok(Err(error)) => tracing::error!(%error, "could not persist the sample store"),
        Err(error) => tracing::error!(%error, "could not persist the sample store"),
    }
    outcome
}

/// Listens on `addr` and serves the metrics there until the returned endpoint is dropped.
async fn serve_metrics(
    addr: std::net::SocketAddr,
    metrics: Arc<AgentMetrics>,
) -> Result<MetricsEndpoint, AgentError> {
    let endpoint = MetricsEndpoint::start(addr, metrics)
        .await
        .map_err(|source| AgentError::MetricsListen { addr, source })?;
    tracing::info!("metrics on http://{}/metrics", endpoint.addr());
    Ok(endpoint)
}

/// Now as Unix time in milliseconds (0 if the clock is before 1970).
pub(crate) fn unix_ms() -> u64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

async fn open_store(config: &AgentConfig) -> Result<Arc<SampleStore>, AgentError> {
    let path = config.store.path.clone();
    let options = StoreOptions {
        segment_bytes: config.store.segment_bytes,
        sync_every: config.store.sync_interval,
        ..StoreOptions::new(config.store.max_samples)
    };
    let store = tokio::task::spawn_blocking(move || SampleStore::open_with(&path, options))
        .await
        .map_err(|e| AgentError::Task(e.to_string()))??;
    tracing::info!(
        device_id = %config.device_id,
        epoch = %store.epoch(),
        next_seq = store.next_seq(),
        held = store.len().unwrap_or_default(),
        dropped = store.dropped(),
        degraded = store.health().degraded,
        path = %config.store.path.display(),
        "sample store open"
    );
    Ok(Arc::new(store))
}
