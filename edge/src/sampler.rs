//! The sampler task: on every tick, reads all sensors and appends one sample to the store, off the async
//! threads (sensor reads and the store's `fsync` block), whether or not the hub is reachable.
//!
//! It tells the connection about each stored sample through a `watch` channel carrying the newest seq, so it
//! never waits for the network; the interval comes in through another `watch` (the `set_interval` command).
//! Each sample, and the store's backlog and health after it, is counted in the [`AgentMetrics`].

use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value};
use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, interval};

use crate::metrics::{AgentMetrics, StoreFigures};
use crate::sensors::{Sensor, SensorHealth};
use crate::store::{SampleStore, StoreError, StoreHealth};

/// Largest `data` object of one sample, in bytes; a bigger one is replaced by an error marker, so sensors gone
/// wild can never produce a frame the hub refuses (and block the queue behind it). The last line of defence:
/// each reading is bounded first (`sensors::reading_bounds`, at most half of this), so only several large
/// readings together get here.
pub const MAX_SAMPLE_BYTES: usize = 32 * 1024;

/// Takes samples until told to stop.
pub struct Sampler {
    sensors: Vec<Box<dyn Sensor>>,
    health: Vec<SensorHealth>,
    store: Arc<SampleStore>,
    interval: watch::Receiver<Duration>,
    newest: watch::Sender<u64>,
    store_failing: bool,
    metrics: Arc<AgentMetrics>,
}

impl Sampler {
    /// A sampler over `sensors` that appends to `store`, ticks every `*interval` and publishes each new seq.
    pub fn new(
        sensors: Vec<Box<dyn Sensor>>,
        store: Arc<SampleStore>,
        interval: watch::Receiver<Duration>,
        newest: watch::Sender<u64>,
    ) -> Self {
        let health = vec![SensorHealth::default(); sensors.len()];
        Self {
            sensors,
            health,
            store,
            interval,
            newest,
            store_failing: false,
            metrics: Arc::default(),
        }
    }

    /// Counts into `metrics` instead of figures nobody reads.
    pub fn reporting_to(mut self, metrics: Arc<AgentMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Samples at once, then every interval, until `stop` turns true (or its sender goes away).
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let every = *self.interval.borrow_and_update();
        self.metrics.set_sample_interval(every);
        let mut ticker = interval(every);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = stopped(&mut stop) => return,
                Ok(()) = self.interval.changed() => {
                    let every = *self.interval.borrow_and_update();
                    ticker = interval(every);
                    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
                    self.metrics.set_sample_interval(every);
                    tracing::info!(seconds = every.as_secs_f64(), "sample interval changed");
                }
                _ = ticker.tick() => {
                    if !self.sample_once().await {
                        return;
                    }
                }
            }
        }
    }

    /// Takes and stores one sample; false if the blocking task died (a sensor panicked).
    async fn sample_once(&mut self) -> bool {
        let sensors = std::mem::take(&mut self.sensors);
        let health = std::mem::take(&mut self.health);
        let store = Arc::clone(&self.store);
        let metrics = Arc::clone(&self.metrics);
        let task = tokio::task::spawn_blocking(move || {
            let mut reading = Reading { sensors, health };
            let outcome = reading.take(&store);
            metrics.on_sample(outcome.is_ok(), crate::agent::unix_ms());
            metrics.set_readings_refused(reading.refused());
            metrics.set_store(store_figures(&store));
            (reading, outcome)
        });
        let Ok((reading, outcome)) = task.await else {
            tracing::error!("a sensor read panicked; sampling stops");
            return false;
        };
        self.sensors = reading.sensors;
        self.health = reading.health;
        match outcome {
            Ok(seq) => {
                self.newest.send_replace(seq);
            }
            Err(error) if !self.store_failing => {
                self.store_failing = true;
                tracing::error!(%error, "cannot store samples");
            }
            Err(_) => {}
        }
        true
    }
}

/// The store's backlog, drops and health, for the metrics.
pub(crate) fn store_figures(store: &SampleStore) -> StoreFigures {
    StoreFigures {
        backlog: store.len().unwrap_or_default(),
        dropped: store.dropped(),
        health: store.health(),
    }
}

/// Completes when `stop` turns true or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// The sensors while a blocking thread reads them.
struct Reading {
    sensors: Vec<Box<dyn Sensor>>,
    health: Vec<SensorHealth>,
}

impl Reading {
    /// Reads every sensor into one `data` object and appends it to the store; returns its seq. A reading that
    /// fails or breaks a bound is left out, with its error in `sensor_errors`; `readings_refused` counts the
    /// refused ones since start, once there is one.
    fn take(&mut self, store: &SampleStore) -> Result<u64, StoreError> {
        let ts = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut data = Map::new();
        let mut errors = Vec::new();
        for (sensor, health) in self.sensors.iter_mut().zip(self.health.iter_mut()) {
            if let Err(error) = health.read_into(sensor.as_mut(), &mut data) {
                errors.push(Value::String(error));
            }
        }
        if !errors.is_empty() {
            data.insert("sensor_errors".into(), Value::Array(errors));
        }
        let refused = self.refused();
        if refused > 0 {
            data.insert("readings_refused".into(), Value::from(refused));
        }
        data.insert("dropped_samples".into(), Value::from(store.dropped()));
        add_store_health(&mut data, store.health());
        store.append(&ts, bounded(data, store.dropped()))
    }

    /// Readings refused since the agent started, over all sensors.
    fn refused(&self) -> u64 {
        self.health.iter().map(SensorHealth::refused).sum()
    }
}

/// Once the store has failed since the agent started, every sample says how it is: `store_degraded` (new
/// samples are held in memory) and `store_errors` (failed disk operations so far). A healthy store adds nothing.
fn add_store_health(data: &mut Map<String, Value>, health: StoreHealth) {
    if health.errors > 0 || health.degraded {
        data.insert("store_degraded".into(), Value::Bool(health.degraded));
        data.insert("store_errors".into(), Value::from(health.errors));
    }
}

/// `data`, or an error marker if its JSON is larger than [`MAX_SAMPLE_BYTES`].
fn bounded(data: Map<String, Value>, dropped: u64) -> Map<String, Value> {
    let size = serde_json::to_vec(&data).map_or(usize::MAX, |bytes| bytes.len());
    if size <= MAX_SAMPLE_BYTES {
        return data;
    }
    tracing::warn!(
        bytes = size,
        "sample too large; replaced by an error marker"
    );
    let mut marker = Map::new();
    marker.insert(
        "sample_error".into(),
        Value::String(format!("sample of {size} bytes exceeds {MAX_SAMPLE_BYTES}")),
    );
    marker.insert("dropped_samples".into(), Value::from(dropped));
    marker
}

#[cfg(test)]
mod tests;
