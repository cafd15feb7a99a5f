//! A hub restart as the agents see it: `wrangler dev` (and workerd) stopped, started again on the same port
//! with the same state, and the moment the new hub answers its first request, found by probing the port with a
//! plain HTTP request every 10 ms.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use hub_e2e::HubServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How often a new probe starts while the hub is away.
const PROBE_EVERY: Duration = Duration::from_millis(10);
/// How long after `Ready on` the first answer may take.
const ANSWER_WAIT: Duration = Duration::from_secs(30);

/// When the hub went away and when it answered again.
#[derive(Debug, Clone, Copy)]
pub struct Outage {
    /// Just before `wrangler dev` was stopped (the agents' sockets close with it).
    pub stopped_at: Instant,
    /// When the restarted hub answered its first request.
    pub returned_at: Instant,
}

impl Outage {
    /// How long the hub was away.
    pub fn length(&self) -> Duration {
        self.returned_at - self.stopped_at
    }
}

/// Stops `hub`, waits `down`, starts it again on its port with its state; returns it and the outage.
pub async fn restart(hub: HubServer, down: Duration) -> Result<(HubServer, Outage)> {
    let port = hub.port();
    let stopped_at = Instant::now();
    let mut hub = off_runtime(move || {
        let mut hub = hub;
        hub.stop();
        hub
    })
    .await?;
    tokio::time::sleep(down).await;
    let answered = tokio::spawn(first_answer(port));
    hub = off_runtime(move || {
        hub.restart();
        hub
    })
    .await?;
    let returned_at = tokio::time::timeout(ANSWER_WAIT, answered)
        .await
        .context("the restarted hub did not answer")??;
    let outage = Outage {
        stopped_at,
        returned_at,
    };
    Ok((hub, outage))
}

/// Runs a blocking hub operation (they panic on failure: test support) on the blocking pool.
async fn off_runtime(work: impl FnOnce() -> HubServer + Send + 'static) -> Result<HubServer> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| anyhow!("stopping or starting the hub failed: {e}"))
}

/// Starts a probe every [`PROBE_EVERY`] until one is answered; returns when the first answer came.
async fn first_answer(port: u16) -> Instant {
    let (answers, mut first) = mpsc::unbounded_channel();
    let mut probes = tokio::task::JoinSet::new();
    loop {
        let answers = answers.clone();
        probes.spawn(async move {
            if probe(port).await {
                let _ = answers.send(Instant::now());
            }
        });
        tokio::select! {
            Some(at) = first.recv() => return at,
            () = tokio::time::sleep(PROBE_EVERY) => {}
        }
    }
}

/// One `GET /`: whether the hub answered with a status below 500 (a proxy's 502 while workerd starts is no
/// answer from the hub).
async fn probe(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    if stream.read_exact(&mut head).await.is_err() {
        return false;
    }
    let status = std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse::<u16>().ok());
    head.starts_with(b"HTTP/1.1 ") && status.is_some_and(|status| status < 500)
}
