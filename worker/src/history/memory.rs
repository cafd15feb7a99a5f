//! What a device object holds about its history in memory: the seqs written and held, the newest sample, the
//! group waiting to be written, and when the device's last frame arrived. The object (`hub_history`) reads and
//! writes its storage; this state only changes through the methods here.

use telemetry_protocol::{DashboardTelemetry, Stored};

use super::{Entry, PendingGroup, stored_runs};
use crate::seq_ranges::SeqRanges;

/// The history part of a device object's state.
#[derive(Debug, Default)]
pub struct HistoryMemory {
    /// Whether the head was read from storage in this object's life.
    loaded: bool,
    /// Seqs written to storage.
    stored: Option<SeqRanges>,
    /// Seqs written or pending: what a new frame is judged against.
    held: Option<SeqRanges>,
    /// The newest sample written (or read from storage).
    last: Option<DashboardTelemetry>,
    /// Whether a newer sample waits in `pending` (its last entry): then that one is the newest.
    last_in_pending: bool,
    /// The device, as its samples name it.
    device_id: String,
    /// Accepted, not yet written.
    pending: PendingGroup,
    /// When the device's previous frame arrived, in this object's life.
    last_frame_ms: Option<u64>,
}

impl HistoryMemory {
    /// Whether the head was read from storage already.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// Takes the head read from storage (the seqs written and the newest sample), once per object life.
    pub fn load(&mut self, held: Option<SeqRanges>, last: Option<DashboardTelemetry>) {
        if !self.loaded {
            self.loaded = true;
            self.stored = held.clone();
            self.held = held;
            self.last = last;
        }
    }

    /// The seqs a new frame is judged against.
    pub fn held(&self) -> Option<SeqRanges> {
        self.held.clone()
    }

    /// The newest sample accepted: the last pending one, else the last written.
    pub fn newest(&self) -> Option<DashboardTelemetry> {
        match self.pending.entries().last() {
            Some(entry) if self.last_in_pending => Some(entry.to_telemetry(&self.device_id)),
            _ => self.last.clone(),
        }
    }

    /// The samples accepted and not yet written.
    pub fn pending(&self) -> &PendingGroup {
        &self.pending
    }

    /// When the device's last frame arrived, if this object saw one in its life.
    pub fn last_frame_ms(&self) -> Option<u64> {
        self.last_frame_ms
    }

    /// How long the device has been quiet at `now`, if known.
    pub fn quiet_for(&self, now: u64) -> Option<u64> {
        self.last_frame_ms.map(|last| now.saturating_sub(last))
    }

    /// Notes a device frame at `now`; how long the device was quiet before it, if known.
    pub fn note_frame(&mut self, now: u64) -> Option<u64> {
        let quiet = self.quiet_for(now);
        self.last_frame_ms = Some(now);
        quiet
    }

    /// Keeps a frame's accepted samples (received at `now`, about `bytes_each` long) in the pending group and the
    /// seqs `held` after them; the `stored` messages owed for the frame's resends of samples already written.
    pub fn keep(
        &mut self,
        accepted: Vec<DashboardTelemetry>,
        resent: &[(String, u64)],
        held: Option<SeqRanges>,
        now: u64,
        retention_ms: u64,
        bytes_each: usize,
    ) -> Vec<Stored> {
        let stored = self.stored.as_ref();
        let resent_stored = stored_runs(
            resent
                .iter()
                .filter(|(epoch, seq)| stored.is_some_and(|s| s.contains(epoch, *seq)))
                .map(|(epoch, seq)| (epoch.as_str(), *seq)),
        );
        if let Some(newest) = accepted.last() {
            if self.device_id != newest.device_id {
                self.device_id = newest.device_id.clone();
            }
            self.last_in_pending = true;
        }
        for sample in accepted {
            self.pending
                .push(Entry::from_sample(sample, now, retention_ms), bytes_each);
        }
        if held.is_some() {
            self.held = held;
        }
        resent_stored
    }

    /// The pending group was written with the seqs `held` and the newest sample `last`: they are stored now.
    pub fn written(&mut self, held: Option<SeqRanges>, last: Option<DashboardTelemetry>) {
        self.stored = held;
        self.last = last;
        self.last_in_pending = false;
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;

    const T0: u64 = 1_770_116_400_000;
    const RETENTION: u64 = 7 * 24 * 3600 * 1000;

    fn sample(seq: u64) -> DashboardTelemetry {
        DashboardTelemetry {
            device_id: "ems_001".into(),
            epoch: Some("e1".into()),
            seq,
            ts: "2026-02-03T11:00:00.000Z".into(),
            received_at: "2026-02-03T11:00:00.050Z".into(),
            data: Map::new(),
        }
    }

    #[test]
    fn loads_the_head_once() {
        let mut memory = HistoryMemory::default();
        memory.load(Some(SeqRanges::up_to("e1", 5)), Some(sample(5)));
        memory.load(None, None);
        assert!(memory.is_loaded());
        assert_eq!(memory.held().map(|h| h.highest()), Some(5));
        assert_eq!(memory.newest().map(|s| s.seq), Some(5));
    }

    #[test]
    fn the_newest_sample_is_pending_until_written() {
        let mut memory = HistoryMemory::default();
        memory.load(Some(SeqRanges::up_to("e1", 5)), Some(sample(5)));
        let held = Some(SeqRanges::up_to("e1", 7));
        let owed = memory.keep(
            vec![sample(6), sample(7)],
            &[],
            held.clone(),
            T0,
            RETENTION,
            10,
        );
        assert!(owed.is_empty());
        assert_eq!(memory.pending().entries().len(), 2);
        let newest = memory.newest().expect("a sample");
        assert_eq!((newest.seq, newest.device_id.as_str()), (7, "ems_001"));
        memory.written(held, Some(sample(7)));
        assert!(memory.pending().is_empty());
        assert_eq!(memory.newest().map(|s| s.seq), Some(7));
    }

    #[test]
    fn a_resent_sample_already_written_is_owed_a_stored_message() {
        let mut memory = HistoryMemory::default();
        memory.load(Some(SeqRanges::up_to("e1", 5)), None);
        let resent = [("e1".to_owned(), 4), ("e1".to_owned(), 9)];
        let owed = memory.keep(Vec::new(), &resent, None, T0, RETENTION, 0);
        assert_eq!(owed.len(), 1);
        assert_eq!((owed[0].from, owed[0].to), (4, 4));
        assert_eq!(memory.held().map(|h| h.highest()), Some(5), "unchanged");
    }

    #[test]
    fn notes_how_long_the_device_was_quiet() {
        let mut memory = HistoryMemory::default();
        assert_eq!(memory.note_frame(T0), None);
        assert_eq!(memory.note_frame(T0 + 400), Some(400));
        assert_eq!(memory.quiet_for(T0 + 1000), Some(600));
        assert_eq!(memory.last_frame_ms(), Some(T0 + 400));
    }
}
