//! A tiny fake hub on 127.0.0.1:0, written with tokio-tungstenite: it records every handshake and frame,
//! keeps the real hub's rule (highest seq per epoch; anything at or below is a resend, acked but not accepted),
//! answers the text ping `{"type":"ping"}` with `{"type":"pong"}` as the Cloudflare runtime does, and can
//! refuse with an HTTP status (429 with `Retry-After`), close with a code, go silent, enforce flood limits
//! (`rate_limited`, then close 1008), or disappear and come back on its port. In [`Mode::Store`] it keeps a
//! history instead, as the real hub does with stored acknowledgements (see [`super::history`]).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep};
use tokio_tungstenite::accept_hdr_async;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

use super::flood_limit::FloodLimit;
use super::history::{self, History};
use super::hub_record::{Handshake, Record};
use super::hub_session::session;
use super::hub_state::{Mode, Shared};
use super::lock::lock;

/// The running fake hub.
pub struct FakeHub {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: JoinSet<()>,
}

impl FakeHub {
    /// Starts a hub in `mode` on a free port.
    pub async fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared::new(mode));
        let mut hub = Self {
            addr,
            shared,
            tasks: JoinSet::new(),
        };
        hub.serve(listener);
        hub
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Changes what the hub does with new connections.
    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.shared.mode) = mode;
    }

    /// Delays every ack by `delay`.
    pub fn set_ack_delay(&self, delay: Duration) {
        *lock(&self.shared.ack_delay) = delay;
    }

    /// Acks with this epoch instead of the sample's (to test that foreign acks are ignored).
    pub fn set_ack_epoch(&self, epoch: Option<&str>) {
        *lock(&self.shared.ack_epoch) = epoch.map(str::to_owned);
    }

    /// Whether text pings are answered with `PONG_TEXT` (the default).
    pub fn set_text_pongs(&self, answer: bool) {
        self.shared.text_pongs.store(answer, Ordering::Relaxed);
    }

    /// Applies these flood limits to every connection from its start (`None`: no limits, the default).
    pub fn set_flood_limit(&self, limit: Option<FloodLimit>) {
        *lock(&self.shared.flood_limit) = limit;
    }

    /// Refuses the next telemetry or batch frame with `rate_limited`, then closes with 1008, once.
    pub fn rate_limit_next_frame(&self) {
        self.shared.rate_limit_next.store(true, Ordering::Relaxed);
    }

    /// The record so far.
    pub fn record(&self) -> MutexGuard<'_, Record> {
        lock(&self.shared.record)
    }

    /// The accepted seqs, in arrival order.
    pub fn accepted_seqs(&self) -> Vec<u64> {
        self.record()
            .accepted
            .iter()
            .filter_map(|s| s["seq"].as_u64())
            .collect()
    }

    /// Sends a command frame to the connected agent; false if none is connected.
    pub fn send_command(&self, id: &str, name: &str, args: Value) -> bool {
        let frame = json!({"type": "command", "id": id, "name": name, "args": args});
        self.send(Message::text(frame.to_string()))
    }

    /// Sends a WebSocket protocol Ping with `payload` to the connected agent; false if none is connected.
    pub fn send_protocol_ping(&self, payload: &'static [u8]) -> bool {
        self.send(Message::Ping(Bytes::from_static(payload)))
    }

    fn send(&self, message: Message) -> bool {
        lock(&self.shared.outgoing)
            .as_ref()
            .is_some_and(|tx| tx.send(message).is_ok())
    }

    /// Waits until `check` holds for the record, or panics after `wait` with the record.
    pub async fn wait_for(&self, wait: Duration, what: &str, check: impl Fn(&Record) -> bool) {
        let deadline = Instant::now() + wait;
        while !check(&self.record()) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {:#?}",
                self.record().handshakes.len()
            );
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the hub stored so far in [`Mode::Store`].
    pub fn history(&self) -> MutexGuard<'_, History> {
        lock(&self.shared.history)
    }

    /// Drops the socket without a close frame and loses every sample not yet written, as a crashed hub does
    /// ([`Mode::Store`]).
    pub fn crash(&self) {
        self.shared.crash.send_modify(|n| *n += 1);
    }

    /// Waits until `check` holds for the history, or panics after `wait`.
    pub async fn wait_for_history(
        &self,
        wait: Duration,
        what: &str,
        check: impl Fn(&History) -> bool,
    ) {
        let deadline = Instant::now() + wait;
        while !check(&self.history()) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {:?}",
                {
                    let h = self.history();
                    (h.received.len(), h.written_prefix(), h.lost.len())
                }
            );
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// Drops the listener and every socket without a close frame, as a Worker restart does.
    pub fn disappear(&mut self) {
        self.tasks.abort_all();
        *lock(&self.shared.outgoing) = None;
    }

    /// Listens again on the same port with the same record.
    pub async fn come_back(&mut self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("rebind the same port");
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let shared = Arc::clone(&self.shared);
        self.tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(connection(stream, Arc::clone(&shared)));
            }
        });
    }
}

// tungstenite's handshake callback returns the whole refusal response as its error.
#[allow(clippy::result_large_err)]
async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let mode = lock(&shared.mode).clone();
    let recorder = Arc::clone(&shared);
    let refusal = refusal(&mode);
    let policy = match &mode {
        Mode::Store(policy) => Some(*policy),
        _ => None,
    };
    let callback =
        move |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
            lock(&recorder.record)
                .handshakes
                .push(handshake_of(request));
            if let Some(policy) = policy {
                history::answer_offer(&recorder.history, &policy, request, &mut response);
            }
            match refusal {
                Some(refused) => Err(refused),
                None => Ok(response),
            }
        };
    let Ok(socket) = accept_hdr_async(stream, callback).await else {
        return;
    };
    match mode {
        Mode::Accept => session(socket, shared).await,
        Mode::CloseWith(code) => {
            let mut socket = socket;
            let frame = CloseFrame {
                code: CloseCode::from(code),
                reason: "replaced".into(),
            };
            let _ = socket.send(Message::Close(Some(frame))).await;
            sleep(Duration::from_millis(200)).await;
        }
        Mode::Silent => {
            let _keep_open = socket;
            sleep(Duration::from_secs(3600)).await;
        }
        Mode::Store(policy) => {
            history::session(socket, &shared.history, shared.crash.subscribe(), policy).await;
        }
        Mode::Refuse(_) | Mode::Throttle(_) => {}
    }
}

/// The upgrade request as the record keeps it.
fn handshake_of(request: &Request) -> Handshake {
    let headers = request
        .headers()
        .iter()
        .map(|(n, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (n.as_str().to_owned(), value)
        })
        .collect();
    Handshake {
        uri: request.uri().to_string(),
        headers,
        at: Instant::now(),
    }
}

/// The HTTP response refusing the upgrade in `mode`, if it refuses.
fn refusal(mode: &Mode) -> Option<ErrorResponse> {
    let (status, retry_after, body) = match mode {
        Mode::Refuse(status) => (
            *status,
            None,
            r#"{"error":"forbidden","message":"forbidden"}"#,
        ),
        Mode::Throttle(after) => (
            429,
            Some(*after),
            r#"{"error":"too_many_requests","message":"too many failed authentications"}"#,
        ),
        _ => return None,
    };
    let mut response = Response::builder().status(status);
    if let Some(after) = retry_after {
        response = response.header("retry-after", after);
    }
    Some(response.body(Some(body.to_owned())).expect("response"))
}
