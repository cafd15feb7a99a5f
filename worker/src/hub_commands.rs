//! Commands with a time to live, in the device object: stores the queue in the object's SQLite, delivers it when
//! the device connects, finishes entries on the device's result, on expiry (the alarm) and on cancel, and tells
//! dashboards each change. The decisions are `command_queue`'s; this file loads, writes and sends.
//!
//! A queued command costs a few rows written: its insert, `sent`, its final state and, once no longer kept, its
//! deletion. The queue is read from SQLite when one of these events comes, never kept in memory, so it is the
//! same after hibernation, eviction or a restart.

use serde_json::Value;
use telemetry_protocol::{
    Command, CommandResult, CommandState, CommandStatus, DeviceId, ErrorCode, ErrorFrame,
    HubToDashboard, HubToDevice,
};
use worker::{WebSocket, console_log};

use crate::command_queue::{CommandQueue, QueuedCommand};
use crate::device_hub::HubCore;
use crate::hub_sockets::{attachment, broadcast, live_device_sockets, send_json, to_json};

impl HubCore {
    fn command_queue(&self) -> CommandQueue {
        CommandQueue::new(self.store.queued_commands())
    }

    /// A command with `ttl_s` from the dashboard `ws`: queued (and sent at once if the device is online and
    /// nothing older waits), or refused to `ws` alone with `queue full` or `duplicate id`.
    pub(crate) async fn enqueue_command(
        &self,
        ws: &WebSocket,
        device_id: &DeviceId,
        command: Command,
        ttl_s: u32,
        now: u64,
    ) {
        let mut queue = self.command_queue();
        self.expire_in(&mut queue, device_id.as_str(), now);
        let online = !live_device_sockets(&self.state).is_empty();
        let id = command.id.clone();
        let limit = self.config.command_queue_limit;
        let entry = match queue.enqueue(command, ttl_s, now, limit, online) {
            Ok(entry) => entry,
            Err(refusal) => {
                let result = hub_result(&id, device_id.as_str(), refusal.detail());
                send_json(ws, &HubToDashboard::CommandResult(result));
                return;
            }
        };
        if !self.store.insert_command(&entry) {
            console_log!("device {device_id}: queueing command {id} failed");
            let refusal =
                ErrorFrame::new(ErrorCode::Internal, "storage unavailable; send it again");
            send_json(ws, &HubToDashboard::Error(refusal));
            return;
        }
        if entry.state == CommandState::Sent {
            let text = to_json(&HubToDevice::Command(entry.command.clone()));
            for device in live_device_sockets(&self.state) {
                let _ = device.send_with_str(&text);
            }
        }
        self.tell_dashboards(device_id.as_str(), &entry);
        self.ensure_alarm_by(entry.expires_ms).await;
    }

    /// A `cancel_command` from the dashboard `ws`: the queued entry is cancelled and every dashboard told, or
    /// `ws` alone gets `not_queued`.
    pub(crate) fn cancel_command(&self, ws: &WebSocket, device_id: &DeviceId, id: &str, now: u64) {
        let mut queue = self.command_queue();
        self.expire_in(&mut queue, device_id.as_str(), now);
        let Some(entry) = queue.cancel(id, now) else {
            let refusal = ErrorFrame::new(
                ErrorCode::NotQueued,
                "no command with this id is queued (unknown, already sent or finished)",
            );
            send_json(ws, &HubToDashboard::Error(refusal));
            return;
        };
        self.finish(device_id.as_str(), &[entry], Some("cancelled"));
        self.prune(&mut queue, now);
    }

    /// The device answered a command: a pending entry with that id is done (the caller relays the result).
    pub(crate) fn complete_command(&self, device_id: &DeviceId, result: &CommandResult, now: u64) {
        let mut queue = self.command_queue();
        if let Some(entry) = queue.complete(&result.id, now) {
            self.finish(device_id.as_str(), &[entry], None);
            self.prune(&mut queue, now);
        }
    }

    /// Sends the queue on the device's socket `ws`, oldest first: with `new_connection` the entries sent on an
    /// earlier connection too (at least once), else only the queued ones (a timed-out device that spoke again).
    pub(crate) fn deliver_commands(
        &self,
        ws: &WebSocket,
        device_id: &DeviceId,
        new_connection: bool,
        now: u64,
    ) {
        let mut queue = self.command_queue();
        self.expire_in(&mut queue, device_id.as_str(), now);
        let delivery = queue.deliver(new_connection);
        for command in delivery.send {
            send_json(ws, &HubToDevice::Command(command));
        }
        for entry in &delivery.changed {
            self.store.update_command(entry);
            self.tell_dashboards(device_id.as_str(), entry);
        }
    }

    /// The device's last connection ended: what was sent and not answered waits again.
    pub(crate) fn requeue_commands(&self, device_id: &str) {
        let mut queue = self.command_queue();
        for entry in queue.requeue_sent() {
            self.store.update_command(&entry);
            self.tell_dashboards(device_id, &entry);
        }
    }

    /// The alarm: expires what is due; returns when the next pending entry expires.
    pub(crate) fn expire_commands(&self, now: u64) -> Option<u64> {
        let mut queue = self.command_queue();
        let device_id = self.watched_device_id().unwrap_or_default();
        self.expire_in(&mut queue, &device_id, now);
        queue.next_expiry()
    }

    /// The queue as a snapshot lists it.
    pub(crate) fn command_statuses(&self, device_id: &DeviceId, now: u64) -> Vec<CommandStatus> {
        self.command_queue()
            .listing(now)
            .into_iter()
            .map(|entry| entry.status(device_id.as_str()))
            .collect()
    }

    /// Expires the due entries of `queue`, writes and announces them.
    fn expire_in(&self, queue: &mut CommandQueue, device_id: &str, now: u64) {
        let expired = queue.expire(now);
        if !expired.is_empty() {
            self.finish(device_id, &expired, Some("expired"));
            self.prune(queue, now);
        }
    }

    /// Writes finished entries and tells every dashboard: the new state, then (for `expired` and `cancelled`)
    /// a `command_result` with `ok: false` and that detail.
    fn finish(&self, device_id: &str, entries: &[QueuedCommand], detail: Option<&str>) {
        for entry in entries {
            self.store.update_command(entry);
            self.tell_dashboards(device_id, entry);
            if let Some(detail) = detail {
                let result = hub_result(&entry.command.id, device_id, detail);
                broadcast(&self.state, &HubToDashboard::CommandResult(result));
            }
        }
    }

    /// Deletes the rows of finished entries no longer kept.
    fn prune(&self, queue: &mut CommandQueue, now: u64) {
        let dropped = queue.prune(now);
        if !dropped.is_empty() {
            self.store.delete_commands(&dropped);
        }
    }

    fn tell_dashboards(&self, device_id: &str, entry: &QueuedCommand) {
        broadcast(
            &self.state,
            &HubToDashboard::CommandStatus(entry.status(device_id)),
        );
    }

    /// The device id, from any socket's attachment; `None` when no socket is open (then nobody is told).
    fn watched_device_id(&self) -> Option<String> {
        self.state
            .get_websockets()
            .iter()
            .find_map(|ws| attachment(ws).map(|a| a.device_id))
    }
}

/// A result the hub gives in the device's place: `ok: false` with `detail`.
fn hub_result(id: &str, device_id: &str, detail: &str) -> CommandResult {
    CommandResult {
        id: id.to_owned(),
        ok: false,
        detail: Value::from(detail),
        device_id: Some(device_id.to_owned()),
    }
}
