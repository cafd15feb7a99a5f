//! The real edge agent running in-process (`edge_agent::run` with its simulated sensor) for end-to-end tests.

use std::time::{Duration, Instant};

use edge_agent::config::{AgentConfig, ConfigFile};
use edge_agent::{AgentError, run};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::scratch_dir::ScratchDir;

/// An agent sampling every `interval_secs` with quick reconnects (0.2 s base, 1 s cap), until [`RunningAgent::stop`].
pub struct RunningAgent {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), AgentError>>,
    _dir: ScratchDir,
}

impl RunningAgent {
    /// Starts the agent for `device_id` against `server_url` (the hub's base URL), with its store in a fresh
    /// scratch directory. Must be called inside a tokio runtime.
    pub fn start(server_url: &str, device_id: &str, token: &str, interval_secs: &str) -> Self {
        let dir = ScratchDir::new();
        let store = dir.path().join("samples.redb");
        let store = store.to_string_lossy();
        let env = [
            ("DEVICE_ID", device_id),
            ("API_TOKEN", token),
            ("SERVER_URL", server_url),
            ("EDGE_STORE__PATH", &store),
            ("EDGE_SAMPLE_INTERVAL_SECS", interval_secs),
            ("EDGE_CONNECTION__BACKOFF_BASE_SECS", "0.2"),
            ("EDGE_CONNECTION__BACKOFF_CAP_SECS", "1"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let config = AgentConfig::load(&ConfigFile::None, env).expect("agent config");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(config, async {
            let _ = stopped.await;
        }));
        Self {
            stop,
            task,
            _dir: dir,
        }
    }

    /// Asks the agent to stop and waits (up to 5 s) for a clean exit; returns how long it took.
    pub async fn stop(self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.send(());
        let outcome = tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the agent stops")
            .expect("no panic");
        outcome.expect("a clean stop");
        started.elapsed()
    }
}
