//! A device object's counters in memory: what it counted since it last wrote them (`delta`), the totals it read
//! from storage (`base`), and the current device connection's tally for its disconnect metric.
//!
//! Counting touches memory only. The totals are written with the history head row, which a history group writes
//! anyway, so a streaming device pays no extra row for them; an object that is about to go idle (its device left
//! or fell silent) writes them alone, one row. Rows read and written come from the object's
//! [`StorageMeter`], which starts at zero in each object life: the rows since the last write are added then.

use telemetry_protocol::{DeviceCounters, StorageMeter};

/// What the current device connection did, for its disconnect metric (since the object last woke up: an object
/// that hibernated mid-connection counts from its wake).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionTally {
    /// Frames received.
    pub frames: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Samples accepted.
    pub samples: u64,
}

/// The counters of one device object.
#[derive(Debug, Clone)]
pub struct CounterBook {
    base: Option<DeviceCounters>,
    delta: DeviceCounters,
    meter_at_write: StorageMeter,
    dirty: bool,
    connection: ConnectionTally,
}

impl CounterBook {
    /// A book for an object that started at `started` (RFC 3339), before its stored totals are read.
    pub fn new(started: &str) -> Self {
        Self {
            base: None,
            delta: DeviceCounters::starting(started),
            meter_at_write: StorageMeter::default(),
            dirty: false,
            connection: ConnectionTally::default(),
        }
    }

    /// Whether the stored totals were read in this object life.
    pub fn is_loaded(&self) -> bool {
        self.base.is_some()
    }

    /// Takes the stored totals (none for an object that never wrote any); the first read wins.
    pub fn load(&mut self, stored: Option<DeviceCounters>) {
        if self.base.is_none() {
            self.base = Some(stored.unwrap_or_default());
        }
    }

    /// Whether something was counted since the totals were last written.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// A device connection was accepted.
    pub fn device_connected(&mut self) {
        self.delta.device_connections += 1;
        self.connection = ConnectionTally::default();
        self.dirty = true;
    }

    /// A frame of `bytes` came from the device.
    pub fn device_frame(&mut self, bytes: usize) {
        self.delta.device_frames += 1;
        self.delta.device_bytes += bytes as u64;
        self.connection.frames += 1;
        self.connection.bytes += bytes as u64;
        self.dirty = true;
    }

    /// `count` new samples were accepted.
    pub fn samples_accepted(&mut self, count: usize) {
        self.delta.samples_accepted += count as u64;
        self.connection.samples += count as u64;
        self.dirty = true;
    }

    /// An error frame with `code` answered a frame.
    pub fn refused(&mut self, code: &str) {
        DeviceCounters::bump(&mut self.delta.frames_refused, code);
        self.dirty = true;
    }

    /// A dashboard connection was accepted.
    pub fn dashboard_connected(&mut self) {
        self.delta.dashboard_connections += 1;
        self.dirty = true;
    }

    /// A command went from a dashboard to the device.
    pub fn command_relayed(&mut self) {
        self.delta.commands_relayed += 1;
        self.dirty = true;
    }

    /// A command result went from the device to its dashboards.
    pub fn command_result(&mut self) {
        self.delta.command_results += 1;
        self.dirty = true;
    }

    /// The device's connection ended with `code` (a close code, or `error`); its tally, which starts afresh.
    pub fn device_closed(&mut self, code: &str) -> ConnectionTally {
        DeviceCounters::bump(&mut self.delta.closes, code);
        self.dirty = true;
        std::mem::take(&mut self.connection)
    }

    /// The totals now: stored, plus counted since, plus the storage rows since the last write (`meter_now` is the
    /// object's meter).
    pub fn total(&self, meter_now: &StorageMeter) -> DeviceCounters {
        let mut total = self.base.clone().unwrap_or_default();
        total.absorb(&self.delta);
        let rows = meter_now.since(&self.meter_at_write);
        total.rows_read += rows.rows_read;
        total.rows_written += rows.rows_written;
        total
    }

    /// `total` (from [`CounterBook::total`] at `meter_now`) was written: it is the new base, counting goes on from
    /// zero.
    pub fn written(&mut self, total: DeviceCounters, meter_now: StorageMeter) {
        let since = std::mem::take(&mut self.delta.since);
        self.delta = DeviceCounters::starting(&since);
        self.base = Some(total);
        self.meter_at_write = meter_now;
        self.dirty = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = "2026-02-03T12:00:00.000Z";

    fn meter(read: u64, written: u64) -> StorageMeter {
        StorageMeter {
            rows_read: read,
            rows_written: written,
            ..StorageMeter::default()
        }
    }

    #[test]
    fn counting_adds_to_the_stored_totals_and_the_rows_since_the_last_write() {
        let mut stored = DeviceCounters::starting("2026-01-01T00:00:00.000Z");
        stored.device_connections = 4;
        stored.rows_written = 100;
        let mut book = CounterBook::new(START);
        book.load(Some(stored));
        book.device_connected();
        book.device_frame(120);
        book.device_frame(80);
        book.samples_accepted(3);
        book.refused("invalid_json");
        book.dashboard_connected();
        book.command_relayed();
        book.command_result();
        let total = book.total(&meter(7, 9));
        assert_eq!(total.since, "2026-01-01T00:00:00.000Z");
        assert_eq!(total.device_connections, 5);
        assert_eq!((total.device_frames, total.device_bytes), (2, 200));
        assert_eq!(total.samples_accepted, 3);
        assert_eq!(total.frames_refused.get("invalid_json"), Some(&1));
        assert_eq!(
            (
                total.dashboard_connections,
                total.commands_relayed,
                total.command_results
            ),
            (1, 1, 1)
        );
        assert_eq!((total.rows_read, total.rows_written), (7, 109));
    }

    #[test]
    fn after_a_write_nothing_is_counted_twice() {
        let mut book = CounterBook::new(START);
        book.load(None);
        book.device_frame(10);
        assert!(book.is_dirty());
        let first = book.total(&meter(1, 3));
        book.written(first.clone(), meter(1, 3));
        assert!(!book.is_dirty());
        assert_eq!(book.total(&meter(1, 3)), first, "nothing new since");
        book.device_frame(5);
        let second = book.total(&meter(2, 5));
        assert_eq!((second.device_frames, second.device_bytes), (2, 15));
        assert_eq!((second.rows_read, second.rows_written), (2, 5));
        assert_eq!(
            second.since, START,
            "a first write starts at the object's start"
        );
    }

    #[test]
    fn a_close_is_counted_by_code_and_hands_over_the_connection_tally() {
        let mut book = CounterBook::new(START);
        book.device_connected();
        book.device_frame(100);
        book.samples_accepted(2);
        let tally = book.device_closed("1000");
        assert_eq!(
            tally,
            ConnectionTally {
                frames: 1,
                bytes: 100,
                samples: 2
            }
        );
        assert_eq!(book.device_closed("error"), ConnectionTally::default());
        let total = book.total(&StorageMeter::default());
        assert_eq!(total.closes.get("1000"), Some(&1));
        assert_eq!(total.closes.get("error"), Some(&1));
    }

    #[test]
    fn the_first_stored_read_wins_and_an_unread_book_is_not_loaded() {
        let mut book = CounterBook::new(START);
        assert!(!book.is_loaded());
        let mut stored = DeviceCounters::starting(START);
        stored.device_frames = 9;
        book.load(Some(stored));
        book.load(None);
        assert!(book.is_loaded());
        assert_eq!(book.total(&StorageMeter::default()).device_frames, 9);
    }
}
