//! A device object's counters and its connection events: counting into the [`CounterBook`], writing the totals
//! with the history head (see `hub_history`), reporting them on `/status`, and the log events and fleet metrics
//! of connects and disconnects.

use telemetry_protocol::{DeviceCounters, DeviceId, PresenceReason, StorageMeter};
use worker::WebSocket;

use crate::counter_book::CounterBook;
use crate::device_hub::{HubCore, now_ms};
use crate::fleet_metrics;
use crate::handoff::Role;
use crate::hub_sockets::attachment;
use crate::log_event::{LogEvent, emit, wire_name};
use crate::metric_point::MetricPoint;

/// Totals taken for a write, with the storage meter they were taken at.
pub(crate) type CountersTaken = (DeviceCounters, StorageMeter);

impl HubCore {
    /// Counts something in the object's book (memory only).
    pub(crate) fn count(&self, count: impl FnOnce(&mut CounterBook)) {
        count(&mut self.counters.borrow_mut());
    }

    /// The totals to write now with the history head; `None` while the stored totals are unread (the head then
    /// keeps the ones it has).
    pub(crate) fn counters_to_write(&self) -> Option<CountersTaken> {
        let book = self.counters.borrow();
        if !book.is_loaded() {
            return None;
        }
        let meter = self.store.meter();
        Some((book.total(&meter), meter))
    }

    /// The totals taken by [`HubCore::counters_to_write`] are durable.
    pub(crate) fn counters_written(&self, taken: Option<CountersTaken>) {
        if let Some((total, meter)) = taken {
            self.counters.borrow_mut().written(total, meter);
        }
    }

    /// The totals now, for `/status` (after `load_history`, which reads the stored ones).
    pub(crate) fn counters_now(&self) -> Option<DeviceCounters> {
        let book = self.counters.borrow();
        book.is_loaded().then(|| book.total(&self.store.meter()))
    }

    /// Before the object may go idle (its device left or fell silent): writes what was counted since the last
    /// write, riding on a pending history group if there is one, else alone (one row).
    pub(crate) async fn write_counters_if_dirty(&self, now: u64) {
        if !self.counters.borrow().is_dirty() {
            return;
        }
        self.load_history().await;
        self.write_history_and_counters(now);
    }

    /// A device connection was accepted (`reason`: connected or replaced).
    pub(crate) fn note_device_connected(&self, device_id: &DeviceId, reason: PresenceReason) {
        self.count(CounterBook::device_connected);
        let reason = wire_name(&reason);
        emit(
            LogEvent::new("device_connected")
                .device(device_id.as_str())
                .reason(&reason),
        );
        let point = MetricPoint::new("device_connected")
            .device(device_id.as_str())
            .reason(&reason)
            .endpoint("device");
        fleet_metrics::record(&self.env, &point);
    }

    /// A dashboard connection was accepted.
    pub(crate) fn note_dashboard_connected(&self, device_id: &DeviceId, token_id: &str) {
        self.count(CounterBook::dashboard_connected);
        emit(
            LogEvent::new("dashboard_connected")
                .device(device_id.as_str())
                .with("token_id", token_id),
        );
    }

    /// A socket ended: `code` is its close code, `None` when it failed without one. A device socket's end is
    /// counted by code and recorded with what its connection did.
    pub(crate) fn note_socket_closed(&self, ws: &WebSocket, code: Option<u16>) {
        let Some(gone) = attachment(ws) else {
            return;
        };
        let (event, reason) = match (gone.role, code) {
            (Role::Device, Some(_)) => ("device_disconnected", PresenceReason::Disconnected),
            (Role::Device, None) => ("device_disconnected", PresenceReason::Error),
            (Role::Dashboard, Some(_)) => ("dashboard_disconnected", PresenceReason::Disconnected),
            (Role::Dashboard, None) => ("dashboard_disconnected", PresenceReason::Error),
        };
        let reason = wire_name(&reason);
        let duration_ms = now_ms().saturating_sub(gone.connected_ms);
        let mut line = LogEvent::new(event)
            .device(&gone.device_id)
            .reason(&reason)
            .with("duration_ms", duration_ms);
        if let Some(code) = code {
            line = line.code(code);
        }
        if gone.role == Role::Dashboard {
            emit(line.with("token_id", gone.token_id.unwrap_or_default()));
            return;
        }
        let key = code.map_or_else(|| "error".to_owned(), |c| c.to_string());
        let tally = self.counters.borrow_mut().device_closed(&key);
        emit(
            line.with("frames", tally.frames)
                .with("bytes", tally.bytes)
                .with("samples", tally.samples),
        );
        let point = MetricPoint::new(event)
            .device(&gone.device_id)
            .reason(&reason)
            .endpoint("device")
            .code(code.unwrap_or(0))
            .frames(tally.frames)
            .bytes(tally.bytes)
            .samples(tally.samples)
            .duration_ms(duration_ms);
        fleet_metrics::record(&self.env, &point);
    }

    /// The device's socket fell silent past the limit: it is reported offline (its socket stays open).
    pub(crate) fn note_device_silent(&self, device_id: &DeviceId, silent_ms: u64) {
        emit(
            LogEvent::new("device_timed_out")
                .device(device_id.as_str())
                .reason("timeout")
                .with("silent_ms", silent_ms),
        );
        let point = MetricPoint::new("device_timed_out")
            .device(device_id.as_str())
            .reason("timeout")
            .endpoint("device")
            .duration_ms(silent_ms);
        fleet_metrics::record(&self.env, &point);
    }

    /// A socket went past a flood limit (`limit`: `device_rate`, `dashboard_frames`, `commands`) and is told
    /// `detail` and closed with 1008.
    pub(crate) fn note_flood(
        &self,
        device_id: &DeviceId,
        endpoint: &str,
        limit: &str,
        detail: &str,
    ) {
        self.count(|book| book.refused("rate_limited"));
        emit(
            LogEvent::new("flood_refused")
                .device(device_id.as_str())
                .reason(limit)
                .with("endpoint", endpoint)
                .with("detail", detail)
                .code(telemetry_protocol::limits::CLOSE_POLICY_VIOLATION),
        );
        let point = MetricPoint::new("flood_refused")
            .device(device_id.as_str())
            .reason(limit)
            .endpoint(endpoint)
            .code(telemetry_protocol::limits::CLOSE_POLICY_VIOLATION);
        fleet_metrics::record(&self.env, &point);
    }
}
