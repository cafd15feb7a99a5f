//! The queue of commands with a time to live for one device, as a pure state machine: it takes a command, a
//! connection, a result, a cancel or a tick and says which entries changed and what to send; the device object
//! stores the entries and carries the changes out (`hub_commands`).
//!
//! Delivery is at least once: an entry sent on a connection that ended without a result is sent again, with the
//! same id, on the next one while its time to live lasts.

use telemetry_protocol::{Command, CommandState, CommandStatus};

use crate::clock::rfc3339_millis;

/// How many finished entries (done, expired, cancelled) are kept for snapshots.
pub const KEEP_FINISHED: usize = 20;

/// How long a finished entry is kept for snapshots: 24 h.
pub const KEEP_FINISHED_MS: u64 = 24 * 3600 * 1000;

/// The default of `COMMAND_QUEUE_LIMIT`: queued and sent entries one device may have.
pub const DEFAULT_QUEUE_LIMIT: usize = 50;

/// One command in a device's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedCommand {
    /// Its place in the queue (and its row's key): larger is younger.
    pub seq: i64,
    /// The command as the device gets it.
    pub command: Command,
    /// Where it is.
    pub state: CommandState,
    /// When it was queued, Unix milliseconds.
    pub queued_ms: u64,
    /// When its time to live ends, Unix milliseconds.
    pub expires_ms: u64,
    /// When it reached a final state, Unix milliseconds.
    pub finished_ms: Option<u64>,
}

impl QueuedCommand {
    /// The entry as dashboards see it.
    pub fn status(&self, device_id: &str) -> CommandStatus {
        CommandStatus {
            device_id: device_id.to_owned(),
            id: self.command.id.clone(),
            name: self.command.name.clone(),
            state: self.state,
            queued_at: rfc3339_millis(self.queued_ms),
            expires_at: rfc3339_millis(self.expires_ms),
        }
    }

    fn finish(&mut self, state: CommandState, now_ms: u64) {
        self.state = state;
        self.finished_ms = Some(now_ms);
    }
}

/// Why a command was not queued; answered to its sender as a `command_result` with `ok: false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The device already has as many queued and sent commands as the limit allows.
    QueueFull,
    /// A queued or sent command of the device has the same id.
    DuplicateId,
}

impl Refusal {
    /// The result's `detail`.
    pub fn detail(self) -> &'static str {
        match self {
            Self::QueueFull => "queue full",
            Self::DuplicateId => "duplicate id",
        }
    }
}

/// What a new connection of the device gets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    /// The commands to send, oldest first.
    pub send: Vec<Command>,
    /// The entries that went from `queued` to `sent`.
    pub changed: Vec<QueuedCommand>,
}

/// A device's queue: its entries, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommandQueue {
    entries: Vec<QueuedCommand>,
}

impl CommandQueue {
    /// A queue of stored entries, in any order.
    pub fn new(mut entries: Vec<QueuedCommand>) -> Self {
        entries.sort_by_key(|entry| entry.seq);
        Self { entries }
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> &[QueuedCommand] {
        &self.entries
    }

    fn pending(&self) -> impl Iterator<Item = &QueuedCommand> {
        self.entries.iter().filter(|entry| entry.state.is_pending())
    }

    /// Queues `command` for `ttl_s` seconds, unless the queue is full or the id is pending already. It is sent
    /// at once (state `sent`) when `online` and no older entry waits, else it waits (`queued`).
    pub fn enqueue(
        &mut self,
        command: Command,
        ttl_s: u32,
        now_ms: u64,
        limit: usize,
        online: bool,
    ) -> Result<QueuedCommand, Refusal> {
        if self.pending().any(|entry| entry.command.id == command.id) {
            return Err(Refusal::DuplicateId);
        }
        if self.pending().count() >= limit {
            return Err(Refusal::QueueFull);
        }
        let older_waits = self
            .entries
            .iter()
            .any(|entry| entry.state == CommandState::Queued);
        let entry = QueuedCommand {
            seq: self.entries.last().map_or(1, |last| last.seq + 1),
            command,
            state: if online && !older_waits {
                CommandState::Sent
            } else {
                CommandState::Queued
            },
            queued_ms: now_ms,
            expires_ms: now_ms.saturating_add(u64::from(ttl_s) * 1000),
            finished_ms: None,
        };
        self.entries.push(entry.clone());
        Ok(entry)
    }

    /// What a connection gets: every queued entry, and with `resend_sent` (a new connection) every sent one too,
    /// in queue order; the queued ones become sent.
    pub fn deliver(&mut self, resend_sent: bool) -> Delivery {
        let mut delivery = Delivery::default();
        for entry in &mut self.entries {
            match entry.state {
                CommandState::Queued => {
                    entry.state = CommandState::Sent;
                    delivery.changed.push(entry.clone());
                }
                CommandState::Sent if resend_sent => {}
                _ => continue,
            }
            delivery.send.push(entry.command.clone());
        }
        delivery
    }

    /// The device answered `id`: its pending entry is done. `None` when no pending entry has that id (a command
    /// without a time to live, or a late answer to a finished one).
    pub fn complete(&mut self, id: &str, now_ms: u64) -> Option<QueuedCommand> {
        let entry = self
            .entries
            .iter_mut()
            .find(|entry| entry.state.is_pending() && entry.command.id == id)?;
        entry.finish(CommandState::Done, now_ms);
        Some(entry.clone())
    }

    /// The device's connection ended: every sent entry waits again.
    pub fn requeue_sent(&mut self) -> Vec<QueuedCommand> {
        let mut changed = Vec::new();
        for entry in &mut self.entries {
            if entry.state == CommandState::Sent {
                entry.state = CommandState::Queued;
                changed.push(entry.clone());
            }
        }
        changed
    }

    /// Every pending entry whose time to live ended by `now_ms` expires.
    pub fn expire(&mut self, now_ms: u64) -> Vec<QueuedCommand> {
        let mut changed = Vec::new();
        for entry in &mut self.entries {
            if entry.state.is_pending() && entry.expires_ms <= now_ms {
                entry.finish(CommandState::Expired, now_ms);
                changed.push(entry.clone());
            }
        }
        changed
    }

    /// Cancels the queued entry `id`; `None` if no entry with that id is queued (nothing changes then).
    pub fn cancel(&mut self, id: &str, now_ms: u64) -> Option<QueuedCommand> {
        let entry = self
            .entries
            .iter_mut()
            .find(|entry| entry.state == CommandState::Queued && entry.command.id == id)?;
        entry.finish(CommandState::Cancelled, now_ms);
        Some(entry.clone())
    }

    /// Drops the finished entries no longer kept (beyond the newest [`KEEP_FINISHED`], or finished more than
    /// [`KEEP_FINISHED_MS`] ago); returns their seqs, for deleting their rows.
    pub fn prune(&mut self, now_ms: u64) -> Vec<i64> {
        let kept: Vec<i64> = self.kept_finished(now_ms).iter().map(|e| e.seq).collect();
        let mut dropped = Vec::new();
        self.entries.retain(|entry| {
            let keep = entry.state.is_pending() || kept.contains(&entry.seq);
            if !keep {
                dropped.push(entry.seq);
            }
            keep
        });
        dropped
    }

    /// When the earliest pending entry expires.
    pub fn next_expiry(&self) -> Option<u64> {
        self.pending().map(|entry| entry.expires_ms).min()
    }

    /// What a snapshot lists: the pending entries oldest first, then the finished ones kept, in the order they
    /// finished.
    pub fn listing(&self, now_ms: u64) -> Vec<&QueuedCommand> {
        let mut listed: Vec<&QueuedCommand> = self.pending().collect();
        listed.extend(self.kept_finished(now_ms));
        listed
    }

    /// The finished entries kept, in the order they finished.
    fn kept_finished(&self, now_ms: u64) -> Vec<&QueuedCommand> {
        let mut finished: Vec<&QueuedCommand> = self
            .entries
            .iter()
            .filter(|entry| {
                entry
                    .finished_ms
                    .is_some_and(|at| now_ms.saturating_sub(at) <= KEEP_FINISHED_MS)
                    && !entry.state.is_pending()
            })
            .collect();
        finished.sort_by_key(|entry| (entry.finished_ms, entry.seq));
        let surplus = finished.len().saturating_sub(KEEP_FINISHED);
        finished.drain(..surplus);
        finished
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    const NOW: u64 = 1_770_120_000_000;
    const LIMIT: usize = 3;

    fn command(id: &str) -> Command {
        Command {
            id: id.into(),
            name: "relay".into(),
            args: Map::new(),
        }
    }

    fn queue_offline(ids: &[&str]) -> CommandQueue {
        let mut queue = CommandQueue::default();
        for (n, id) in ids.iter().enumerate() {
            queue
                .enqueue(command(id), 60, NOW + n as u64, 50, false)
                .expect("queued");
        }
        queue
    }

    fn states(queue: &CommandQueue) -> Vec<(&str, CommandState)> {
        queue
            .entries()
            .iter()
            .map(|e| (e.command.id.as_str(), e.state))
            .collect()
    }

    fn ids(commands: &[Command]) -> Vec<&str> {
        commands.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn offline_commands_wait_and_are_delivered_in_order() {
        let mut queue = queue_offline(&["a", "b", "c"]);
        assert!(
            queue
                .entries()
                .iter()
                .all(|e| e.state == CommandState::Queued)
        );
        assert_eq!(queue.entries()[1].expires_ms, NOW + 1 + 60_000);
        let delivery = queue.deliver(true);
        assert_eq!(ids(&delivery.send), ["a", "b", "c"]);
        assert_eq!(delivery.changed.len(), 3);
        assert!(
            queue
                .entries()
                .iter()
                .all(|e| e.state == CommandState::Sent)
        );
    }

    #[test]
    fn online_commands_go_at_once_unless_an_older_one_waits() {
        let mut queue = CommandQueue::default();
        let sent = queue.enqueue(command("a"), 60, NOW, LIMIT, true);
        assert_eq!(sent.map(|e| e.state), Ok(CommandState::Sent));
        let mut waiting = queue_offline(&["old"]);
        let held = waiting.enqueue(command("new"), 60, NOW, LIMIT, true);
        assert_eq!(held.map(|e| e.state), Ok(CommandState::Queued));
    }

    #[test]
    fn the_queue_is_bounded_and_pending_ids_are_unique() {
        let mut queue = queue_offline(&["a", "b", "c"]);
        assert_eq!(
            queue.enqueue(command("d"), 60, NOW, LIMIT, false),
            Err(Refusal::QueueFull)
        );
        assert_eq!(
            queue.enqueue(command("a"), 60, NOW, 10, false),
            Err(Refusal::DuplicateId)
        );
        assert_eq!(queue.entries().len(), 3, "a refusal stores nothing");
        queue.complete("a", NOW);
        let again = queue.enqueue(command("a"), 60, NOW, LIMIT, false);
        assert!(
            again.is_ok(),
            "a finished id may be used again and frees a place"
        );
        assert_eq!(Refusal::QueueFull.detail(), "queue full");
        assert_eq!(Refusal::DuplicateId.detail(), "duplicate id");
    }

    #[test]
    fn a_result_finishes_a_pending_entry_only() {
        let mut queue = queue_offline(&["a"]);
        queue.deliver(true);
        let done = queue.complete("a", NOW + 5).expect("pending");
        assert_eq!(
            (done.state, done.finished_ms),
            (CommandState::Done, Some(NOW + 5))
        );
        assert_eq!(
            queue.complete("a", NOW + 6),
            None,
            "a repeat changes nothing"
        );
        assert_eq!(queue.complete("other", NOW), None);
    }

    #[test]
    fn sent_entries_wait_again_when_the_connection_ends_and_are_resent() {
        let mut queue = queue_offline(&["a", "b"]);
        queue.deliver(true);
        queue.complete("a", NOW);
        let requeued = queue.requeue_sent();
        assert_eq!(requeued.len(), 1);
        assert_eq!(
            states(&queue),
            [("a", CommandState::Done), ("b", CommandState::Queued)]
        );
        assert_eq!(ids(&queue.deliver(true).send), ["b"]);
    }

    #[test]
    fn a_new_connection_gets_sent_entries_again_but_a_resumed_one_does_not() {
        let mut queue = queue_offline(&["a"]);
        queue.deliver(true);
        queue
            .enqueue(command("b"), 60, NOW, 50, false)
            .expect("queued");
        assert_eq!(ids(&queue.deliver(false).send), ["b"]);
        let fresh = queue.deliver(true);
        assert_eq!(ids(&fresh.send), ["a", "b"]);
        assert!(fresh.changed.is_empty(), "resending writes nothing");
    }

    #[test]
    fn pending_entries_expire_at_their_time() {
        let mut queue = queue_offline(&["a", "b"]);
        queue.deliver(true);
        queue
            .enqueue(command("late"), 120, NOW, 50, false)
            .expect("queued");
        assert_eq!(queue.next_expiry(), Some(NOW + 60_000));
        assert!(queue.expire(NOW + 59_999).is_empty());
        let expired = queue.expire(NOW + 60_001);
        assert_eq!(expired.len(), 2);
        assert!(expired.iter().all(|e| e.state == CommandState::Expired));
        assert_eq!(queue.next_expiry(), Some(NOW + 120_000));
        assert_eq!(queue.complete("a", NOW + 70_000), None);
    }

    #[test]
    fn only_a_queued_entry_can_be_cancelled() {
        let mut queue = queue_offline(&["a"]);
        assert_eq!(
            queue.cancel("a", NOW).map(|e| e.state),
            Some(CommandState::Cancelled)
        );
        assert_eq!(queue.cancel("a", NOW), None, "already cancelled");
        assert_eq!(queue.cancel("nope", NOW), None);
        let mut sent = queue_offline(&["s"]);
        sent.deliver(true);
        assert_eq!(sent.cancel("s", NOW), None);
        assert_eq!(sent.entries()[0].state, CommandState::Sent);
    }

    #[test]
    fn the_newest_finished_entries_are_kept_for_a_day() {
        let names: Vec<String> = (0..25).map(|n| format!("c{n}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut queue = queue_offline(&refs);
        queue
            .enqueue(command("pending"), 60, NOW, 50, false)
            .expect("queued");
        for (n, id) in refs.iter().enumerate() {
            queue.cancel(id, NOW + n as u64);
        }
        let dropped = queue.prune(NOW + 100);
        assert_eq!(dropped, [1, 2, 3, 4, 5]);
        let listed: Vec<&str> = queue
            .listing(NOW + 100)
            .iter()
            .map(|e| e.command.id.as_str())
            .collect();
        assert_eq!(listed.len(), 21);
        assert_eq!(listed[..2], ["pending", "c5"]);
        assert_eq!(listed[20], "c24");
        // c5 to c8 finished more than a day before this; c9 to c24 not.
        let a_day_later = NOW + 9 + KEEP_FINISHED_MS;
        assert_eq!(queue.listing(a_day_later).len(), 1 + 16);
        assert_eq!(queue.prune(a_day_later), [6, 7, 8, 9]);
        assert!(queue.prune(a_day_later).is_empty(), "pruning twice is free");
    }

    #[test]
    fn a_status_carries_the_times_as_the_wire_shows_them() {
        let queue = queue_offline(&["a"]);
        let status = queue.entries()[0].status("ems_001");
        assert_eq!(status.device_id, "ems_001");
        assert_eq!(status.queued_at, "2026-02-03T12:00:00.000Z");
        assert_eq!(status.expires_at, "2026-02-03T12:01:00.000Z");
        assert_eq!(status.state, CommandState::Queued);
    }
}
