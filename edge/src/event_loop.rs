//! The reconnect loop: connect, serve the connection, wait the backoff, forever, with one status line per
//! state change. Decisions come from the pure [`Session`]; the socket work from [`Link`]. Attempts, failures and
//! connections are counted in the metrics.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep};

use crate::agent_error::AgentError;
use crate::connection::{DeviceSocket, Dialer};
use crate::delivery::AckMode;
use crate::link::{Link, LinkContext, Served};
use crate::session::{Loudness, Session};

/// Keeps the device connected until shutdown.
pub struct EventLoop {
    dialer: Dialer,
    session: Session,
    context: LinkContext,
}

impl EventLoop {
    /// A loop that dials with `dialer`, decides with `session` and serves connections with `context`.
    pub fn new(dialer: Dialer, session: Session, context: LinkContext) -> Self {
        Self {
            dialer,
            session,
            context,
        }
    }

    /// Runs until `shutdown` completes (then returns `Ok`) or the store fails.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<(), AgentError> {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            self.report_connecting();
            let metrics = Arc::clone(&self.context.metrics);
            metrics.on_connect_attempt();
            let attempt = tokio::select! {
                () = &mut shutdown => return Ok(()),
                attempt = self.dialer.connect() => attempt,
            };
            let reason = match attempt {
                Ok((socket, mode)) => {
                    self.session.on_connected(Instant::now());
                    metrics.on_connected();
                    report_connected(self.dialer.url(), mode);
                    let served = self.serve(socket, mode, &mut shutdown).await;
                    metrics.on_disconnected();
                    match served? {
                        Served::Shutdown => return Ok(()),
                        Served::Lost(reason) => reason,
                    }
                }
                Err(reason) => {
                    metrics.on_connect_failed();
                    reason
                }
            };
            let decision = self.session.on_disconnected(reason.clone(), Instant::now());
            report_disconnect(&reason.to_string(), decision.delay, decision.loudness);
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = sleep(decision.delay) => {}
            }
            self.session.on_attempt();
        }
    }

    /// Serves one connected socket until it is lost or shutdown comes.
    async fn serve(
        &mut self,
        socket: DeviceSocket,
        mode: AckMode,
        shutdown: &mut (impl Future<Output = ()> + Unpin),
    ) -> Result<Served, AgentError> {
        let link = Link::new(socket, mode, &mut self.context).await?;
        link.serve(shutdown).await
    }

    fn report_connecting(&self) {
        if self.session.is_quiet() {
            tracing::debug!(url = self.dialer.url(), "connecting");
        } else {
            tracing::info!(url = self.dialer.url(), "connecting");
        }
    }
}

/// One status line for a new connection, with what its acknowledgements mean.
fn report_connected(url: &str, mode: AckMode) {
    match mode {
        AckMode::OnAck => tracing::info!(url, "connected"),
        AckMode::OnStored { within } => tracing::info!(
            url,
            within_secs = within.as_secs(),
            "connected; the hub confirms stored samples"
        ),
    }
}

/// One status line: why the connection ended and when the next attempt comes.
fn report_disconnect(reason: &str, delay: Duration, loudness: Loudness) {
    let seconds = format!("{:.1}", delay.as_secs_f64());
    match loudness {
        Loudness::Error => tracing::error!(reason, "disconnected; reconnecting in {seconds} s"),
        Loudness::Warn => tracing::warn!(reason, "disconnected; reconnecting in {seconds} s"),
        Loudness::Info => tracing::info!(reason, "disconnected; reconnecting in {seconds} s"),
        Loudness::Quiet => tracing::debug!(reason, "still refused; retrying in {seconds} s"),
    }
}
