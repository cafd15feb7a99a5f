//! One accepted device socket of the fake hub: acks samples under the real hub's seq rule, answers text pings,
//! relays what the test sends, and applies the flood limits.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use telemetry_protocol::limits::{PING_TEXT, PONG_TEXT};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::flood_limit::{FloodGate, FloodLimit, record_close, refuse_as_rate_limited};
use super::hub_state::Shared;
use super::lock::lock;

/// What the hub does about one text frame.
enum Reply {
    /// Nothing (not a sample).
    Nothing,
    /// Answer `PONG_TEXT`.
    Pong,
    /// Send this ack when its delay has passed; `true` if it acks a batch.
    Ack(Value, bool),
    /// Refuse with `rate_limited` and close 1008.
    RateLimited,
}

pub async fn session(socket: WebSocketStream<TcpStream>, shared: Arc<Shared>) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut outgoing) = mpsc::unbounded_channel();
    *lock(&shared.outgoing) = Some(tx);
    let limit = *lock(&shared.flood_limit);
    let mut gate = limit.map(|limit| (limit, FloodGate::new(&limit, Instant::now())));
    // Acks waiting for their time: (due, ack, acks a batch).
    let mut acks: VecDeque<(Instant, Value, bool)> = VecDeque::new();
    loop {
        let pending_batch = acks.iter().any(|(_, _, batch)| *batch);
        let next_due = acks.front().map(|(due, _, _)| *due);
        tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    match reply(&shared, &mut gate, text.as_str(), pending_batch) {
                        Reply::Nothing => {}
                        Reply::Pong => {
                            if sink.send(Message::text(PONG_TEXT)).await.is_err() {
                                return;
                            }
                        }
                        Reply::Ack(ack, batch) => {
                            let delay = *lock(&shared.ack_delay);
                            acks.push_back((Instant::now() + delay, ack, batch));
                        }
                        Reply::RateLimited => {
                            return refuse_as_rate_limited(sink, stream, &shared.record).await;
                        }
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    record_close(&shared.record, frame);
                    let _ = sink.flush().await;
                    return;
                }
                Some(Ok(Message::Ping(_))) => lock(&shared.record).protocol_pings += 1,
                Some(Ok(Message::Pong(payload))) => {
                    lock(&shared.record).protocol_pongs.push(payload.to_vec());
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
            Some(message) = outgoing.recv() => {
                if sink.send(message).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Decides about one text frame: a text ping, a frame past the flood limit, or a sample to record and ack.
fn reply(
    shared: &Shared,
    gate: &mut Option<(FloodLimit, FloodGate)>,
    text: &str,
    pending_batch: bool,
) -> Reply {
    if text == PING_TEXT {
        // The runtime answers it without waking the Durable Object: no limit applies.
        lock(&shared.record).text_pings.push(Instant::now());
        return if shared.text_pongs.load(Ordering::Relaxed) {
            Reply::Pong
        } else {
            Reply::Nothing
        };
    }
    let over_limit = gate
        .as_mut()
        .is_some_and(|(limit, gate)| !gate.admit(limit, text.len(), Instant::now()));
    let is_sample = text.contains(r#""type":"telemetry""#) || text.contains(r#""type":"batch""#);
    let forced = is_sample && shared.rate_limit_next.swap(false, Ordering::Relaxed);
    if over_limit || forced {
        return Reply::RateLimited;
    }
    match receive(shared, text, pending_batch) {
        Some((ack, batch)) => Reply::Ack(ack, batch),
        None => Reply::Nothing,
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
            record.batch_arrivals.push(Instant::now());
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
