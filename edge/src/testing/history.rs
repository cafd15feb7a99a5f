//! The fake hub's [`Mode::Store`](super::Mode::Store): it keeps a history, as the real hub does with stored
//! acknowledgements. It answers `Telemetry-Ack: stored; within=…` when asked (unless told to play an older hub),
//! acks every frame at once, and writes the samples it holds in groups (by count or by time), sending one
//! `stored` per contiguous run. A resend of a stored sample gets `stored` again at once; a resend of one it
//! holds is only acked. The tests can make it lose its next group (acked, never written, forgotten) or crash
//! (drop the socket and every sample it had not written).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use telemetry_protocol::history::{STORED_ACK_HEADER, stored_ack_response};
use telemetry_protocol::limits::{PING_TEXT, PONG_TEXT};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, interval};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::lock::lock;

/// How the hub behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryPolicy {
    /// The `within` it answers, in seconds; `None` plays a hub without the extension (no header, no `stored`).
    pub within_secs: Option<u64>,
    /// A group is written once it holds this many samples...
    pub group_samples: usize,
    /// ...or this long after the previous write.
    pub group_every: Duration,
}

/// What the hub saw and wrote.
#[derive(Debug, Default)]
pub struct History {
    /// The `Telemetry-Ack` request header of every handshake.
    pub offers: Vec<Option<String>>,
    /// Every sample seq received, resends included, in arrival order, with its arrival.
    pub received: Vec<(u64, Instant)>,
    /// How many times each seq was written to the history.
    pub written: BTreeMap<u64, u32>,
    /// Seqs the hub held and lost (a lost group or a crash).
    pub lost: Vec<u64>,
    /// How many samples had arrived when the first `stored` went out.
    pub received_before_first_stored: Option<usize>,
    /// The `stored` runs sent: (from, to).
    pub stored_sent: Vec<(u64, u64)>,
    /// Whether to lose the next group instead of writing it.
    pub lose_next_group: bool,
    /// Whether to send, once, a `stored` for another epoch that covers every seq.
    pub foreign_stored_once: bool,
    /// Samples received and not yet written.
    pub holding: BTreeSet<u64>,
    epoch: String,
}

impl History {
    /// The highest seq `s` such that every seq `1..=s` is written.
    pub fn written_prefix(&self) -> u64 {
        let mut prefix = 0;
        while self.written.contains_key(&(prefix + 1)) {
            prefix += 1;
        }
        prefix
    }

    /// The highest seq `s` such that every seq `1..=s` was announced in a `stored` message.
    pub fn announced_prefix(&self) -> u64 {
        let mut prefix = 0;
        loop {
            let next = self
                .stored_sent
                .iter()
                .filter(|(from, to)| *from <= prefix + 1 && *to > prefix)
                .map(|(_, to)| *to)
                .max();
            match next {
                Some(to) => prefix = to,
                None => return prefix,
            }
        }
    }

    /// When `seq` arrived, every time.
    pub fn arrivals(&self, seq: u64) -> Vec<Instant> {
        self.received
            .iter()
            .filter(|(s, _)| *s == seq)
            .map(|(_, at)| *at)
            .collect()
    }

    /// Seqs written more than once.
    pub fn written_twice(&self) -> Vec<u64> {
        self.written
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(s, _)| *s)
            .collect()
    }
}

/// Records the `Telemetry-Ack` offer of a handshake and answers it with `policy`'s `within`, if any.
pub(super) fn answer_offer(
    history: &Mutex<History>,
    policy: &HistoryPolicy,
    request: &Request,
    response: &mut Response,
) {
    let offer = request
        .headers()
        .get(STORED_ACK_HEADER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let asked = offer.as_deref() == Some("stored");
    lock(history).offers.push(offer);
    if let (true, Some(within)) = (asked, policy.within_secs) {
        let value = HeaderValue::from_str(&stored_ack_response(within)).expect("ascii");
        response.headers_mut().insert(STORED_ACK_HEADER, value);
    }
}

/// Serves one accepted socket: holds and acks samples, writes groups, and forgets what it held when `crash`
/// changes.
pub(super) async fn session(
    socket: WebSocketStream<TcpStream>,
    history: &Mutex<History>,
    mut crash: watch::Receiver<u64>,
    policy: HistoryPolicy,
) {
    let (mut sink, mut stream) = socket.split();
    let mut groups = interval(policy.group_every);
    groups.reset();
    'serve: loop {
        let replies = tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) if text.as_str() == PING_TEXT => vec![PONG_TEXT.to_owned()],
                Some(Ok(Message::Text(text))) => receive(history, &policy, text.as_str()),
                Some(Ok(Message::Close(_)) | Err(_)) | None => break 'serve,
                Some(Ok(_)) => Vec::new(),
            },
            _ = groups.tick() => write_group(history, &policy, true),
            _ = crash.changed() => {
                let mut history = lock(history);
                let lost: Vec<u64> = std::mem::take(&mut history.holding).into_iter().collect();
                history.lost.extend(lost);
                return;
            }
        };
        for reply in replies {
            if sink.send(Message::text(reply)).await.is_err() {
                break 'serve;
            }
        }
    }
    // Written at the disconnect, as the real hub does; the `stored` cannot reach the device.
    write_group(history, &policy, false);
}

/// Takes a telemetry or batch frame: holds the new samples, acks, says `stored` again for resends of written
/// ones, and writes a group once it is full.
fn receive(held: &Mutex<History>, policy: &HistoryPolicy, text: &str) -> Vec<String> {
    let frame: Value = serde_json::from_str(text).expect("the agent sends JSON");
    let items = match frame["type"].as_str() {
        Some("telemetry") => vec![frame],
        Some("batch") => frame["items"].as_array().cloned().unwrap_or_default(),
        _ => return Vec::new(),
    };
    let mut history = lock(held);
    let mut again = Vec::new();
    for item in &items {
        let seq = item["seq"].as_u64().expect("seq");
        history.epoch = item["epoch"].as_str().expect("epoch").to_owned();
        history.received.push((seq, Instant::now()));
        if history.written.contains_key(&seq) {
            again.push(seq);
        } else {
            history.holding.insert(seq);
        }
    }
    let highest = history.received.iter().map(|(s, _)| *s).max().unwrap_or(0);
    let mut replies =
        vec![json!({"type": "ack", "seq": highest, "epoch": history.epoch}).to_string()];
    if std::mem::take(&mut history.foreign_stored_once) {
        let foreign =
            json!({"type": "stored", "epoch": "someone-else", "from": 1, "to": u64::MAX / 2});
        replies.push(foreign.to_string());
    }
    if policy.within_secs.is_some() {
        replies.extend(stored_runs(&mut history, again));
    }
    drop(history);
    if lock(held).holding.len() >= policy.group_samples {
        replies.extend(write_group(held, policy, true));
    }
    replies
}

/// Writes (or loses, if told to) the samples held; returns the `stored` messages for them if `announce`.
fn write_group(held: &Mutex<History>, policy: &HistoryPolicy, announce: bool) -> Vec<String> {
    let mut history = lock(held);
    let group: Vec<u64> = std::mem::take(&mut history.holding).into_iter().collect();
    if group.is_empty() {
        return Vec::new();
    }
    if std::mem::take(&mut history.lose_next_group) {
        history.lost.extend(group);
        return Vec::new();
    }
    for seq in &group {
        *history.written.entry(*seq).or_insert(0) += 1;
    }
    if policy.within_secs.is_none() || !announce {
        return Vec::new();
    }
    if history.received_before_first_stored.is_none() {
        history.received_before_first_stored = Some(history.received.len());
    }
    stored_runs(&mut history, group)
}

/// One `stored` message per contiguous run of `seqs` (sorted, or sorted here).
fn stored_runs(history: &mut History, mut seqs: Vec<u64>) -> Vec<String> {
    seqs.sort_unstable();
    seqs.dedup();
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for seq in seqs {
        match runs.last_mut() {
            Some((_, to)) if *to + 1 == seq => *to = seq,
            _ => runs.push((seq, seq)),
        }
    }
    history.stored_sent.extend(&runs);
    runs.iter()
        .map(|(from, to)| {
            json!({"type": "stored", "epoch": history.epoch, "from": from, "to": to}).to_string()
        })
        .collect()
}
