//! The persistent sample store: every sample stays on disk, in seq order, until the hub confirms it (its `ack`,
//! or its `stored` when the hub offers stored acknowledgements), and a failing disk never stops sampling.
//!
//! On disk it is an append-only log ([`log`]) of checksummed records ([`record`]) in zero-filled segment files
//! of a fixed size: a sample costs one small in-place write and one `fdatasync` (about one 4 KiB page on the
//! disk, where a B-tree rewrote ten), acknowledgements are appended without a sync (losing one only means a
//! resend the hub tolerates), and a segment is deleted once everything in it is acknowledged. A power cut
//! leaves at worst a torn last record, which reading back ([`scan`]) stops at.
//!
//! When a write or sync fails (disk full, `EIO`), the store keeps new samples in memory up to
//! [`MEMORY_BOUND_BYTES`], reports itself degraded ([`SampleStore::health`]), and retries with backoff by
//! starting a fresh segment and writing what memory holds; only what the bound forces out is lost, and counted
//! as dropped. A store that cannot be read at start is moved aside and a new epoch begins ([`open`]).
//!
//! The epoch and the next seq live in the log, so seq keeps increasing across restarts. Samples may be sent
//! before they are durable only under a reservation ([`record::Record::Reserve`]) written first: a restart
//! after a crash continues past it, so a seq the hub may hold is never reused.

mod inner;
mod inspect;
mod log;
mod open;
mod record;
mod retry;
mod scan;
mod segment;

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use telemetry_protocol::Telemetry;

pub use self::inspect::{StoreReport, inspect};
use self::log::Log;
use self::open::{OpenFailure, open_store};
use self::record::{Record, SegmentHeader};
use self::retry::Retry;
use self::scan::Entry;
pub use self::segment::StoreFaults;

/// Most bytes of samples held in memory while the disk fails; beyond it the oldest held are dropped.
pub const MEMORY_BOUND_BYTES: usize = 1024 * 1024;

/// Default size of one segment file.
pub const DEFAULT_SEGMENT_BYTES: u64 = 1024 * 1024;

/// Smallest segment file allowed: room for the largest sample (32 KiB) twice over.
pub const MIN_SEGMENT_BYTES: u64 = 64 * 1024;

/// Seqs reserved ahead when samples are sent before they are durable (grouped syncs): a restart after a
/// crash skips at most this many.
const GROUPED_RESERVE: u64 = 4096;

/// Seqs reserved when the disk starts failing and samples are sent from memory.
const DEGRADED_RESERVE: u64 = 1 << 20;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (a second agent) has the store open.
    #[error("sample store {path} is in use by another process (a second agent on the same store?)")]
    Locked {
        /// The store's directory.
        path: PathBuf,
    },
    /// The OS random source failed while creating the epoch.
    #[error("no randomness for the store's epoch: {0}")]
    Random(String),
    /// A sample could not be encoded.
    #[error("sample {seq} cannot be stored: {source}")]
    Row {
        /// The sample's seq.
        seq: u64,
        /// The JSON error.
        source: serde_json::Error,
    },
}

/// How the store is kept.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most samples held; beyond it the oldest are dropped and counted (at least 1).
    pub capacity: u64,
    /// Size of each segment file (at least [`MIN_SEGMENT_BYTES`]).
    pub segment_bytes: u64,
    /// Zero: every sample is durable before it is sent. Otherwise samples are synced in groups this far
    /// apart and sent at once, under a reservation of seqs (a power cut loses up to this much).
    pub sync_every: Duration,
    /// Injected failures, for tests.
    pub faults: StoreFaults,
}

impl StoreOptions {
    /// The defaults with room for `capacity` samples.
    pub fn new(capacity: u64) -> Self {
        Self {
            capacity,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            sync_every: Duration::ZERO,
            faults: StoreFaults::default(),
        }
    }
}

/// The store's condition, for the telemetry and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreHealth {
    /// Writes are failing: new samples are held in memory.
    pub degraded: bool,
    /// Failed disk operations since the agent started.
    pub errors: u64,
    /// Samples held in memory only.
    pub in_memory: u64,
}

/// One stored sample as written to disk.
#[derive(Serialize, Deserialize)]
struct Row<'a> {
    ts: std::borrow::Cow<'a, str>,
    data: Map<String, Value>,
}

/// A sample held in memory while the disk fails.
#[derive(Debug)]
struct Held {
    seq: u64,
    row: Vec<u8>,
}

/// The store's logical state.
#[derive(Debug)]
struct State {
    epoch: String,
    next_seq: u64,
    /// Every seq up to here is acknowledged or dropped.
    floor: u64,
    dropped: u64,
    /// Durable reservation (0: none).
    reserved: u64,
    /// Samples on disk above the floor, in seq order.
    entries: VecDeque<Entry>,
    /// Samples in memory only, in seq order, all newer than `entries`.
    held: VecDeque<Held>,
    held_bytes: usize,
    /// The floor and dropped count the log last recorded.
    logged_floor: u64,
    logged_dropped: u64,
}

/// The disk side.
#[derive(Debug)]
struct Disk {
    log: Log,
    _lock: Option<File>,
    writable: bool,
    errors: u64,
    retry: Retry,
    last_sync: Instant,
    syncs: u64,
}

#[derive(Debug)]
struct Inner {
    state: State,
    disk: Disk,
}

/// A bounded, crash-safe FIFO of samples keyed by seq. Shared by the sampler (appends) and the connection
/// (reads and acks); every method takes `&self`. Calls may block on disk I/O: run them off the async threads.
#[derive(Debug)]
pub struct SampleStore {
    path: PathBuf,
    options: StoreOptions,
    inner: Mutex<Inner>,
}

impl SampleStore {
    /// Opens the store in directory `path` with the defaults and room for `capacity` samples.
    pub fn open(path: &Path, capacity: u64) -> Result<Self, StoreError> {
        Self::open_with(path, StoreOptions::new(capacity))
    }

    /// Opens the store in directory `path`, creating it (with a fresh random epoch) if it does not exist. A
    /// store that cannot be read is moved aside and a new one created; if the directory cannot be used at all,
    /// the store starts in memory, degraded, and keeps trying.
    pub fn open_with(path: &Path, mut options: StoreOptions) -> Result<Self, StoreError> {
        options.capacity = options.capacity.max(1);
        options.segment_bytes = options.segment_bytes.max(MIN_SEGMENT_BYTES);
        let now = Instant::now();
        let inner = match open_store(path, options.segment_bytes, &options.faults) {
            Ok(opened) => Inner::from_disk(opened, &options, now)?,
            Err(OpenFailure::Locked) => {
                return Err(StoreError::Locked {
                    path: path.to_owned(),
                });
            }
            Err(OpenFailure::Io(error)) => {
                tracing::error!(
                    %error,
                    path = %path.display(),
                    "cannot open the sample store; keeping samples in memory and retrying"
                );
                Inner::in_memory(path, &options, now)?
            }
        };
        Ok(Self {
            path: path.to_owned(),
            options,
            inner: Mutex::new(inner),
        })
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The epoch every seq of this store belongs to.
    pub fn epoch(&self) -> String {
        self.inner().state.epoch.clone()
    }

    /// The seq the next appended sample gets (1 for a new store).
    pub fn next_seq(&self) -> u64 {
        self.inner().state.next_seq
    }

    /// Samples dropped (the store or the memory bound was full), since the store was created.
    pub fn dropped(&self) -> u64 {
        self.inner().state.dropped
    }

    /// The most samples the store holds.
    pub fn capacity(&self) -> u64 {
        self.options.capacity
    }

    /// The store's condition.
    pub fn health(&self) -> StoreHealth {
        let inner = self.inner();
        StoreHealth {
            degraded: !inner.disk.writable,
            errors: inner.disk.errors,
            in_memory: inner.state.held.len() as u64,
        }
    }

    /// `fdatasync` calls made since the store was opened.
    pub fn syncs(&self) -> u64 {
        self.inner().disk.syncs
    }

    /// Samples held (not yet acked).
    pub fn len(&self) -> Result<u64, StoreError> {
        Ok(self.inner().state.len())
    }

    /// Whether no sample waits for an ack.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Stores a sample taken at `ts` (RFC 3339) and returns its seq, durable when this returns (unless syncs
    /// are grouped, or the disk is failing and it is held in memory). Drops the oldest if the store is full.
    pub fn append(&self, ts: &str, data: Map<String, Value>) -> Result<u64, StoreError> {
        let row = Row {
            ts: ts.into(),
            data,
        };
        let mut inner = self.inner();
        let seq = inner.state.next_seq;
        let row = serde_json::to_vec(&row).map_err(|source| StoreError::Row { seq, source })?;
        inner.state.next_seq += 1;
        inner.make_room(self.options.capacity);
        inner.store(seq, row, &self.options, Instant::now());
        Ok(seq)
    }

    /// Removes every sample with a seq at or below `seq` (the hub acked them); returns how many went.
    pub fn ack_through(&self, seq: u64) -> Result<u64, StoreError> {
        Ok(self.inner().ack_through(seq))
    }

    /// Up to `limit` samples with a seq above `after`, oldest first and with consecutive seqs, ready to send.
    /// A sample that cannot be read back is dropped, counted and logged.
    pub fn unacked(&self, after: u64, limit: usize) -> Result<Vec<Telemetry>, StoreError> {
        Ok(self.inner().unacked(after, limit))
    }

    /// The highest seq the store has acked away (or dropped): everything up to it needs no sending.
    pub fn acked_through(&self) -> Result<u64, StoreError> {
        Ok(self.inner().state.first_held().saturating_sub(1))
    }

    /// Makes every earlier write durable (the acks' too), and releases a reservation no longer needed; called
    /// at shutdown.
    pub fn persist(&self) -> Result<(), StoreError> {
        let mut inner = self.inner();
        inner.persist(&self.options);
        Ok(())
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // State changes only after the I/O they describe succeeded, so a panic holding the lock leaves it usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn fresh(epoch: String) -> Self {
        Self {
            epoch,
            next_seq: 1,
            floor: 0,
            dropped: 0,
            reserved: 0,
            entries: VecDeque::new(),
            held: VecDeque::new(),
            held_bytes: 0,
            logged_floor: 0,
            logged_dropped: 0,
        }
    }

    fn len(&self) -> u64 {
        (self.entries.len() + self.held.len()) as u64
    }

    /// The oldest seq held, or the next one if none is.
    fn first_held(&self) -> u64 {
        self.entries
            .front()
            .map(|e| e.seq)
            .or_else(|| self.held.front().map(|h| h.seq))
            .unwrap_or(self.next_seq)
    }

    /// The header a new segment starts with (its index and size are the log's).
    fn header(&self) -> SegmentHeader {
        SegmentHeader {
            format: record::FORMAT_VERSION,
            epoch: self.epoch.clone(),
            index: 0,
            bytes: 0,
            next_seq: self.next_seq,
            floor: self.floor,
            dropped: self.dropped,
            reserved: self.reserved,
        }
    }

    /// Drops the oldest sample held; false if none is.
    fn drop_oldest(&mut self) -> bool {
        let seq = if let Some(entry) = self.entries.pop_front() {
            entry.seq
        } else if let Some(held) = self.held.pop_front() {
            self.held_bytes -= held.row.len();
            held.seq
        } else {
            return false;
        };
        self.floor = self.floor.max(seq);
        self.dropped += 1;
        true
    }

    /// Floor and dropped-count records for what changed since the log last recorded them.
    fn bookkeeping(&self, out: &mut Vec<u8>) {
        if self.dropped != self.logged_dropped {
            record::encode(&Record::Dropped(self.dropped), out);
        }
        if self.floor != self.logged_floor {
            record::encode(&Record::Floor(self.floor), out);
        }
    }

    fn logged(&mut self) {
        self.logged_dropped = self.dropped;
        self.logged_floor = self.floor;
    }
}

/// 16 lowercase hex characters from the OS random source.
fn new_epoch() -> Result<String, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests;
