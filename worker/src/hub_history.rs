//! A device object's history: the group of samples accepted but not yet written, writing it, telling the device
//! which seqs are stored, and answering history queries.
//!
//! Samples reach dashboards and the device's `ack` at once; they are written in groups (see
//! [`crate::history::HistoryPolicy`]), each group with the seqs it stores and the last sample in one transaction.
//! No timer is armed for a group: it is written by the frames that arrive, by the presence alarm that a
//! connected device has anyway, and when the device disconnects, so the object stays eligible for hibernation.
//! A group lost before it was written (eviction, deploy, crash, hibernation) is resent by a device that asked for
//! `stored` messages, and the seqs it held are accepted again because only written seqs survive in storage.

use telemetry_protocol::history::{CSV_NEXT_FROM_HEADER, MAX_CSV_SAMPLES};
use telemetry_protocol::{DashboardTelemetry, HubToDevice, Stored};
use worker::{Headers, Response, Result};

use crate::device_hub::HubCore;
use crate::fleet_metrics;
use crate::history::{
    Entry, HistoryFold, HistoryQuery, MAX_QUERY_ROWS, NumberColumns, chunk_rows, csv_export,
    decode_row, prune_before_ms, stored_runs,
};
use crate::hub_sockets::{attachment, live_device_sockets, send_json};
use crate::hub_store::{HistoryHead, StoredRow};
use crate::log_event::{LogEvent, emit};
use crate::metric_point::MetricPoint;
use crate::seq_ranges::SeqRanges;

/// Samples decoded past a CSV page before the rest of the rows are left unread: rows come oldest first, so
/// the page's samples are all in by then.
const CSV_OVERREAD: usize = 10_000;

impl HubCore {
    /// Reads the history head once per object life.
    pub(crate) async fn load_history(&self) {
        if self.history.borrow().is_loaded() {
            return;
        }
        let head = self.store.history_head().await;
        self.counters.borrow_mut().load(head.counters);
        self.history.borrow_mut().load(head.held, head.last);
    }

    /// The seqs a new frame is judged against.
    pub(crate) fn held_seqs(&self) -> Option<SeqRanges> {
        self.history.borrow().held()
    }

    /// The newest sample accepted (after [`HubCore::load_history`]).
    pub(crate) fn last_sample(&self) -> Option<DashboardTelemetry> {
        self.history.borrow().newest()
    }

    /// When the device's last frame arrived, to the millisecond, if this object saw one in its life.
    pub(crate) fn last_frame_ms(&self) -> Option<u64> {
        self.history.borrow().last_frame_ms()
    }

    /// Notes a device frame at `now`; how long the device was quiet before it, if known.
    pub(crate) fn note_device_frame(&self, now: u64) -> Option<u64> {
        self.history.borrow_mut().note_frame(now)
    }

    /// Whether the pending group is too large to take more (its writes keep failing).
    pub(crate) fn history_full(&self) -> bool {
        self.history
            .borrow()
            .pending()
            .is_full(&self.config.history)
    }

    /// Keeps a frame's accepted samples (about `bytes_each` long) in the pending group and the seqs `held` after
    /// them; the `stored` messages owed for the frame's resends of samples already written.
    pub(crate) fn keep_samples(
        &self,
        accepted: Vec<DashboardTelemetry>,
        resent: &[(String, u64)],
        held: Option<SeqRanges>,
        now: u64,
        bytes_each: usize,
    ) -> Vec<Stored> {
        let retention = self.config.history.retention_ms;
        self.history
            .borrow_mut()
            .keep(accepted, resent, held, now, retention, bytes_each)
    }

    /// Writes the pending group if it is due. `quiet_for_ms`: how long the device was silent before now.
    pub(crate) fn write_history_if_due(&self, now: u64, quiet_for_ms: Option<u64>) {
        let due = self
            .history
            .borrow()
            .pending()
            .is_due(now, quiet_for_ms, &self.config.history);
        if due {
            self.write_history(now);
        }
    }

    /// From the alarm: writes the pending group if it is old enough or the device went quiet.
    pub(crate) fn write_history_on_alarm(&self, now: u64) {
        let quiet = self.history.borrow().quiet_for(now);
        self.write_history_if_due(now, quiet);
    }

    /// Writes the pending group now, with the counted totals in its head row, and tells the device which seqs it
    /// stored; false if the write failed (the group stays pending and is tried again with the next frame).
    pub(crate) fn write_history(&self, now: u64) -> bool {
        if self.history.borrow().pending().is_empty() {
            return true;
        }
        self.write_history_and_counters(now)
    }

    /// Writes the pending group, if any, and the counted totals in the head row: with no group pending, the head
    /// row alone (one row written), which needs the history loaded. False if the write failed.
    pub(crate) fn write_history_and_counters(&self, now: u64) -> bool {
        let (rows, head, runs) = {
            let memory = self.history.borrow();
            if memory.pending().is_empty() && !memory.is_loaded() {
                return false;
            }
            let entries = memory.pending().entries();
            (
                chunk_rows(entries),
                HistoryHead {
                    held: memory.held(),
                    last: memory.newest(),
                    counters: None,
                },
                stored_runs(entries.iter().map(|e| (e.e.as_str(), e.s))),
            )
        };
        let samples: u64 = rows.iter().map(|r| u64::from(r.count)).sum();
        let counters = self.counters_to_write();
        let head = HistoryHead {
            counters: counters.as_ref().map(|(total, _)| total.clone()),
            ..head
        };
        let prune_before = prune_before_ms(now, &self.config.history);
        let before = self.store.meter();
        if let Err(error) = self.store.write_group(&rows, &head, prune_before) {
            emit(
                LogEvent::new("history_write_failed")
                    .device(self.device_name().as_str())
                    .with("samples", samples)
                    .error(error),
            );
            return false;
        }
        self.counters_written(counters);
        self.history.borrow_mut().written(head.held, head.last);
        // The output gate holds these until the write above is durable.
        self.send_stored(&runs);
        let rows_written = self.store.meter().since(&before).rows_written;
        self.note_history_written(samples, rows.len(), rows_written);
        true
    }

    /// Logs and records a history write (a counters-only write of the head row is recorded too).
    fn note_history_written(&self, samples: u64, rows: usize, rows_written: u64) {
        let device = self.device_name();
        emit(
            LogEvent::new("history_written")
                .device(&device)
                .with("samples", samples)
                .with("rows", rows)
                .with("rows_written", rows_written),
        );
        let point = MetricPoint::new("history_written")
            .device(&device)
            .samples(samples)
            .rows_written(rows_written);
        fleet_metrics::record(&self.env, &point);
    }

    /// The device's id: the object's name, else the newest sample's or an open socket's ("" without any).
    pub(crate) fn device_name(&self) -> String {
        if let Some(name) = self.state.id().name() {
            return name;
        }
        if let Some(last) = self.history.borrow().newest() {
            return last.device_id;
        }
        self.state
            .get_websockets()
            .iter()
            .find_map(|ws| attachment(ws).map(|a| a.device_id))
            .unwrap_or_default()
    }

    /// Sends `stored` messages to the device sockets that asked for them.
    pub(crate) fn send_stored(&self, runs: &[Stored]) {
        if runs.is_empty() {
            return;
        }
        for ws in live_device_sockets(&self.state) {
            if attachment(&ws).is_some_and(|a| a.stored_acks) {
                for run in runs {
                    send_json(&ws, &HubToDevice::Stored(run.clone()));
                }
            }
        }
    }

    /// `/history`: the answer to a query the gateway validated and authorised.
    pub(crate) async fn answer_history(
        &self,
        device_id: &str,
        query: &HistoryQuery,
    ) -> Result<Response> {
        self.load_history().await;
        let (rows, more) = self.store.history_rows(
            query.first_row_start_ms(),
            query.to_ms,
            query.from_ms,
            MAX_QUERY_ROWS,
            !query.csv,
        );
        let pending: Vec<Entry> = if more {
            Vec::new()
        } else {
            self.history.borrow().pending().entries().to_vec()
        };
        if query.csv {
            return csv_response(device_id, query, &rows, pending, more);
        }
        let mut fold = HistoryFold::new(query);
        for row in &rows {
            match row.numbers.as_deref().and_then(NumberColumns::decode) {
                Some(columns) => fold.add_columns(&columns),
                None => {
                    for entry in row.body.as_deref().and_then(decode_row).unwrap_or_default() {
                        fold.add(&entry);
                    }
                }
            }
        }
        for entry in &pending {
            fold.add(entry);
        }
        let answer = fold.finish(device_id, more);
        let headers = Headers::new();
        headers.set("Cache-Control", "no-store")?;
        Ok(Response::from_json(&answer)?.with_headers(headers))
    }
}

/// A CSV page of the range: rows come oldest first, so decoding stops once a page is full and a week never sits
/// in memory.
fn csv_response(
    device_id: &str,
    query: &HistoryQuery,
    rows: &[StoredRow],
    pending: Vec<Entry>,
    more: bool,
) -> Result<Response> {
    let stored = rows
        .iter()
        .filter_map(|row| row.body.as_deref().and_then(decode_row))
        .flatten();
    let mut entries: Vec<Entry> = Vec::new();
    let mut cut = more;
    for entry in stored.chain(pending) {
        if entry.t >= query.from_ms && entry.t < query.to_ms {
            entries.push(entry);
        }
        if entries.len() > MAX_CSV_SAMPLES + CSV_OVERREAD {
            cut = true;
            break;
        }
    }
    entries.sort_by(|a, b| (a.t, &a.e, a.s).cmp(&(b.t, &b.e, b.s)));
    entries.dedup_by(|a, b| a.e == b.e && a.s == b.s);
    let refs: Vec<&Entry> = entries.iter().collect();
    let mut export = csv_export(query, &refs);
    if cut && export.next_from_ms.is_none() {
        export.next_from_ms = entries.last().map(|e| e.t + 1);
    }
    let headers = Headers::new();
    headers.set("Content-Type", "text/csv; charset=utf-8")?;
    headers.set("Cache-Control", "no-store")?;
    headers.set(
        "Content-Disposition",
        &format!("attachment; filename=\"{device_id}-history.csv\""),
    )?;
    if let Some(next) = export.next_from_ms {
        headers.set(CSV_NEXT_FROM_HEADER, &next.to_string())?;
    }
    Ok(Response::ok(export.text)?.with_headers(headers))
}
