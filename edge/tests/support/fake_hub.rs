//! A tiny fake hub on 127.0.0.1:0, written with tokio-tungstenite: it records every handshake and frame,
//! keeps the real hub's rule (highest seq per epoch; anything at or below is a resend, acked but not accepted),
//! and can refuse with an HTTP status, close with a code, go silent, or disappear and come back on its port.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{WebSocketStream, accept_hdr_async};

/// What the hub does with the next connections.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Upgrade, ack, relay commands.
    Accept,
    /// Answer the upgrade with this HTTP status.
    Refuse(u16),
    /// Upgrade, then close at once with this code (4000 = replaced).
    CloseWith(u16),
    /// Upgrade, then never read or write again (no pongs either): a half-open socket.
    Silent,
}

/// One upgrade request as the hub saw it.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// Request path and query, e.g. `/ws/device/edge-test`.
    pub uri: String,
    /// `(lowercase name, value)` of every header.
    pub headers: Vec<(String, String)>,
    /// When it arrived.
    pub at: Instant,
}

impl Handshake {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Everything the hub recorded.
#[derive(Debug, Default)]
pub struct Record {
    /// Every upgrade request, refused or not.
    pub handshakes: Vec<Handshake>,
    /// Every text frame received, parsed.
    pub frames: Vec<Value>,
    /// Samples accepted (seq above the epoch's highest), in arrival order.
    pub accepted: Vec<Value>,
    /// Highest accepted seq per epoch.
    pub highest: HashMap<String, u64>,
    /// Close frames received from the agent: (code, reason).
    pub closes: Vec<(u16, String)>,
    /// For each batch: (first seq, last seq, item count, frame bytes).
    pub batches: Vec<(u64, u64, usize, usize)>,
    /// Set when a batch arrived while an earlier batch was not yet acked.
    pub overlapping_batch: bool,
}

struct Shared {
    mode: Mutex<Mode>,
    record: Mutex<Record>,
    ack_delay: Mutex<Duration>,
    ack_epoch: Mutex<Option<String>>,
    commands: Mutex<Option<mpsc::UnboundedSender<Value>>>,
}

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
        let shared = Arc::new(Shared {
            mode: Mutex::new(mode),
            record: Mutex::default(),
            ack_delay: Mutex::new(Duration::ZERO),
            ack_epoch: Mutex::new(None),
            commands: Mutex::new(None),
        });
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
        lock(&self.shared.commands)
            .as_ref()
            .is_some_and(|tx| tx.send(frame).is_ok())
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

    /// Drops the listener and every socket without a close frame, as a Worker restart does.
    pub fn disappear(&mut self) {
        self.tasks.abort_all();
        *lock(&self.shared.commands) = None;
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// tungstenite's handshake callback returns the whole refusal response as its error.
#[allow(clippy::result_large_err)]
async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let mode = lock(&shared.mode).clone();
    let refuse = match mode {
        Mode::Refuse(status) => Some(status),
        _ => None,
    };
    let recorder = Arc::clone(&shared);
    let callback =
        move |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
            let headers = request
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            lock(&recorder.record).handshakes.push(Handshake {
                uri: request.uri().to_string(),
                headers,
                at: Instant::now(),
            });
            match refuse {
                Some(status) => Err(Response::builder()
                    .status(status)
                    .body(Some(
                        r#"{"error":"forbidden","message":"forbidden"}"#.to_owned(),
                    ))
                    .expect("response")),
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
        Mode::Refuse(_) => {}
    }
}

async fn session(socket: WebSocketStream<TcpStream>, shared: Arc<Shared>) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut commands) = mpsc::unbounded_channel();
    *lock(&shared.commands) = Some(tx);
    // Acks waiting for their time: (due, ack, acks a batch).
    let mut acks: VecDeque<(Instant, Value, bool)> = VecDeque::new();
    loop {
        let pending_batch = acks.iter().any(|(_, _, batch)| *batch);
        let next_due = acks.front().map(|(due, _, _)| *due);
        tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    if let Some((ack, batch)) = receive(&shared, text.as_str(), pending_batch) {
                        let delay = *lock(&shared.ack_delay);
                        acks.push_back((Instant::now() + delay, ack, batch));
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let close = frame.map_or((1005, String::new()), |f| (u16::from(f.code), f.reason.to_string()));
                    lock(&shared.record).closes.push(close);
                    let _ = sink.flush().await;
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            () = sleep_until(next_due.unwrap_or_else(Instant::now)), if next_due.is_some() => {
                if let Some((_, ack, _)) = acks.pop_front()
                    && sink.send(Message::text(ack.to_string())).await.is_err()
                {
                    return;
                }
            }
            Some(command) = commands.recv() => {
                if sink.send(Message::text(command.to_string())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Records a frame; for telemetry and batches returns the ack to send and whether it acks a batch.
/// `pending_batch`: an earlier batch is not acked yet.
fn receive(shared: &Shared, text: &str, pending_batch: bool) -> Option<(Value, bool)> {
    let frame: Value = serde_json::from_str(text).expect("the agent sends JSON");
    let mut record = lock(&shared.record);
    record.frames.push(frame.clone());
    let is_batch = frame["type"] == "batch";
    let items = match frame["type"].as_str() {
        Some("telemetry") => vec![frame.clone()],
        Some("batch") => {
            let items = frame["items"].as_array().cloned().unwrap_or_default();
            let first = items.first().and_then(|i| i["seq"].as_u64()).unwrap_or(0);
            let last = items.last().and_then(|i| i["seq"].as_u64()).unwrap_or(0);
            record.batches.push((first, last, items.len(), text.len()));
            items
        }
        _ => return None,
    };
    if pending_batch && is_batch {
        record.overlapping_batch = true;
    }
    let mut epoch = String::new();
    for item in items {
        epoch = item["epoch"].as_str().unwrap_or_default().to_owned();
        let seq = item["seq"].as_u64().unwrap_or(0);
        let highest = record.highest.entry(epoch.clone()).or_insert(0);
        if seq > *highest {
            *highest = seq;
            record.accepted.push(item);
        }
    }
    let seq = record.highest.get(&epoch).copied().unwrap_or(0);
    let ack_epoch = lock(&shared.ack_epoch).clone().unwrap_or(epoch);
    Some((
        json!({"type": "ack", "seq": seq, "epoch": ack_epoch}),
        is_batch,
    ))
}
