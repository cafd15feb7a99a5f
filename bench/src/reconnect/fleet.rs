//! A fleet of real agents in this process (the `edge_agent` library's `RunningAgent`), one per provisioned
//! device, each with its store in a scratch directory, all on one reconnect schedule: the old (every retry
//! from the exponential backoff, `fast_retry_secs = 0`) or the new (fast retries for 60 s, the default).

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use edge_agent::testing::{RunningAgent, config, scratch_dir, store_in};
use tempfile::TempDir;

use super::agent_events;

/// Seconds between samples of each agent (200 agents: 100 samples a second into the hub).
const SAMPLE_INTERVAL_SECS: &str = "2";
/// A connection up this long counts as stable (production: 30 s), so the bench need not wait half a minute
/// before each restart.
pub const STABLE_AFTER: Duration = Duration::from_secs(5);
/// How long the whole fleet may take to connect at start.
const CONNECT_WAIT: Duration = Duration::from_secs(90);

/// Which reconnect schedule the agents follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Before fast retries: `fast_retry_secs = 0`.
    Old,
    /// Fast retries for 60 s (the default).
    New,
}

impl Schedule {
    /// The name in the tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Old => "old (backoff only)",
            Self::New => "new (fast retries)",
        }
    }

    /// The device ids' prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Old => "reconnect-old",
            Self::New => "reconnect-new",
        }
    }

    fn fast_retry_secs(self) -> &'static str {
        match self {
            Self::Old => "0",
            Self::New => "60",
        }
    }
}

/// Running agents and their scratch stores.
pub struct Fleet {
    /// The devices, in start order.
    pub devices: Vec<String>,
    agents: Vec<RunningAgent>,
    _stores: Vec<TempDir>,
}

impl Fleet {
    /// Starts one agent per `(device, token)` against the hub on `port`, with the production backoff (1 s base,
    /// 60 s cap) and `schedule`. Must be called inside the runtime.
    pub fn start(port: u16, devices: &[(String, String)], schedule: Schedule) -> Self {
        let url = format!("ws://127.0.0.1:{port}");
        let mut fleet = Self {
            devices: Vec::new(),
            agents: Vec::new(),
            _stores: Vec::new(),
        };
        let stable_after = STABLE_AFTER.as_secs().to_string();
        for (device, token) in devices {
            let store = scratch_dir();
            let extra = [
                ("DEVICE_ID", device.as_str()),
                ("EDGE_SAMPLE_INTERVAL_SECS", SAMPLE_INTERVAL_SECS),
                ("EDGE_GPIO_OUTPUTS", ""),
                ("EDGE_CONNECTION__BACKOFF_BASE_SECS", "1"),
                ("EDGE_CONNECTION__BACKOFF_CAP_SECS", "60"),
                ("EDGE_CONNECTION__BACKOFF_RESET_AFTER_SECS", &stable_after),
                (
                    "EDGE_CONNECTION__FAST_RETRY_SECS",
                    schedule.fast_retry_secs(),
                ),
            ];
            let agent_config = config(&url, token, &store_in(&store), &extra);
            fleet.agents.push(RunningAgent::start(agent_config));
            fleet.devices.push(device.clone());
            fleet._stores.push(store);
        }
        fleet
    }

    /// Waits until every agent has connected at or after `since`, or `wait` has passed; returns how many did.
    pub async fn wait_connected(&self, since: Instant, wait: Duration) -> usize {
        let deadline = Instant::now() + wait;
        loop {
            let connected = agent_events::connected_since(&self.devices, since);
            if connected == self.devices.len() || Instant::now() >= deadline {
                return connected;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the whole fleet's first connection, then for it to count as stable.
    pub async fn wait_stable(&self, started: Instant) -> Result<()> {
        let connected = self.wait_connected(started, CONNECT_WAIT).await;
        if connected < self.devices.len() {
            bail!(
                "only {connected} of {} agents connected within {CONNECT_WAIT:?}",
                self.devices.len()
            );
        }
        tokio::time::sleep(STABLE_AFTER + Duration::from_secs(1)).await;
        Ok(())
    }

    /// Stops every agent (each closes its socket and persists its store).
    pub async fn stop(self) {
        let stopping = self.agents.into_iter().map(RunningAgent::stop);
        futures_util::future::join_all(stopping).await;
    }
}
