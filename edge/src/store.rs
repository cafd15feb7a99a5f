//! The persistent sample store: every sample stays on disk, in seq order, until the hub confirms it (its `ack`,
//! or its `stored` when the hub offers stored acknowledgements).
//!
//! Built on [redb](https://docs.rs/redb) (pure Rust, copy-on-write B-trees, checksummed commit slots), so a
//! power cut leaves either the last commit or the one before, never a torn file. Appends commit durably
//! (`fsync`) before the sample may be sent; removing acked samples commits without `fsync`, because losing that
//! commit only means resending samples the hub already holds, which it acks again and does not re-broadcast.
//!
//! The samples always form one contiguous seq range: appends add at the end, acks and the bound remove from
//! the front. The epoch and the next seq live in the same file, so seq keeps increasing across restarts.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use telemetry_protocol::Telemetry;

/// seq → `{"ts":…,"data":…}` as JSON.
const SAMPLES: TableDefinition<u64, &[u8]> = TableDefinition::new("samples");
/// `epoch` → the epoch string.
const TEXT: TableDefinition<&str, &str> = TableDefinition::new("meta_text");
/// `next_seq`, `dropped` → counters.
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("meta_counters");

/// Page cache redb may use; the store is read sequentially, so a small cache keeps the agent's memory low.
const CACHE_BYTES: usize = 1024 * 1024;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("sample store {path}: {source}")]
    Database {
        /// The store's file.
        path: PathBuf,
        /// What redb reported.
        source: redb::Error,
    },
    /// The OS random source failed while creating the epoch.
    #[error("no randomness for the store's epoch: {0}")]
    Random(String),
    /// A stored row is not valid JSON (only possible if the file was altered).
    #[error("sample {seq} in the store is unreadable: {source}")]
    Row {
        /// The row's seq.
        seq: u64,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// Creating the store's directory failed.
    #[error("cannot create {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// One stored sample as written to disk.
#[derive(Serialize, Deserialize)]
struct Row<'a> {
    ts: std::borrow::Cow<'a, str>,
    data: Map<String, Value>,
}

/// Counters mirrored in memory; the file is the truth, updated in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    epoch: String,
    next_seq: u64,
    dropped: u64,
}

/// A bounded, crash-safe FIFO of samples keyed by seq. Shared by the sampler (appends) and the connection
/// (reads and acks); every method takes `&self`. Calls may block on disk I/O: run them off the async threads.
#[derive(Debug)]
pub struct SampleStore {
    db: Database,
    path: PathBuf,
    capacity: u64,
    cursor: Mutex<Cursor>,
}

impl SampleStore {
    /// Opens the store at `path`, creating it (with a fresh random epoch) if it does not exist. Holds at most
    /// `capacity` samples (at least 1); beyond that the oldest are dropped and counted.
    pub fn open(path: &Path, capacity: u64) -> Result<Self, StoreError> {
        let wrap = |source: redb::Error| StoreError::Database {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Directory {
                path: dir.to_owned(),
                source,
            })?;
        }
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| wrap(e.into()))?;
        let cursor = load_or_init(&db).map_err(|e| match e {
            InitError::Db(e) => wrap(e),
            InitError::Random(why) => StoreError::Random(why),
        })?;
        Ok(Self {
            db,
            path: path.to_owned(),
            capacity: capacity.max(1),
            cursor: Mutex::new(cursor),
        })
    }

    /// The epoch every seq of this store belongs to.
    pub fn epoch(&self) -> String {
        self.cursor().epoch.clone()
    }

    /// The seq the next appended sample gets (1 for a new store).
    pub fn next_seq(&self) -> u64 {
        self.cursor().next_seq
    }

    /// Samples dropped because the store was full, since it was created.
    pub fn dropped(&self) -> u64 {
        self.cursor().dropped
    }

    /// The most samples the store holds.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Samples held (not yet acked).
    pub fn len(&self) -> Result<u64, StoreError> {
        self.read(|db| Ok(db.begin_read()?.open_table(SAMPLES)?.len()?))
    }

    /// Whether no sample waits for an ack.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Stores a sample taken at `ts` (RFC 3339) and returns its seq; durable when this returns. Drops the
    /// oldest samples if the store is full.
    pub fn append(&self, ts: &str, data: Map<String, Value>) -> Result<u64, StoreError> {
        let row = Row {
            ts: ts.into(),
            data,
        };
        let mut cursor = self.cursor();
        let seq = cursor.next_seq;
        let bytes = serde_json::to_vec(&row).map_err(|source| StoreError::Row { seq, source })?;
        let dropped = self.write(Durability::Immediate, |txn| {
            let mut samples = txn.open_table(SAMPLES)?;
            samples.insert(seq, bytes.as_slice())?;
            let excess = samples.len()?.saturating_sub(self.capacity);
            for _ in 0..excess {
                samples.pop_first()?;
            }
            let mut counters = txn.open_table(COUNTERS)?;
            counters.insert("next_seq", seq + 1)?;
            counters.insert("dropped", cursor.dropped + excess)?;
            Ok(excess)
        })?;
        cursor.next_seq = seq + 1;
        cursor.dropped += dropped;
        Ok(seq)
    }

    /// Removes every sample with a seq at or below `seq` (the hub acked them); returns how many went.
    pub fn ack_through(&self, seq: u64) -> Result<u64, StoreError> {
        self.write(Durability::None, |txn| {
            let mut samples = txn.open_table(SAMPLES)?;
            let before = samples.len()?;
            samples.retain_in(..=seq, |_, _| false)?;
            Ok(before - samples.len()?)
        })
    }

    /// Up to `limit` samples with a seq above `after`, oldest first, ready to send.
    pub fn unacked(&self, after: u64, limit: usize) -> Result<Vec<Telemetry>, StoreError> {
        let epoch = self.epoch();
        let rows = self.read(|db| {
            let table = db.begin_read()?.open_table(SAMPLES)?;
            let mut rows = Vec::new();
            for entry in table.range(after.saturating_add(1)..)?.take(limit) {
                let (seq, bytes) = entry?;
                rows.push((seq.value(), bytes.value().to_vec()));
            }
            Ok(rows)
        })?;
        rows.into_iter()
            .map(|(seq, bytes)| {
                let row: Row = serde_json::from_slice(&bytes)
                    .map_err(|source| StoreError::Row { seq, source })?;
                Ok(Telemetry {
                    epoch: epoch.clone(),
                    seq,
                    ts: row.ts.into_owned(),
                    data: row.data,
                    device_id: None,
                })
            })
            .collect()
    }

    /// The highest seq the store has acked away (or dropped): everything up to it needs no sending.
    pub fn acked_through(&self) -> Result<u64, StoreError> {
        let next_seq = self.next_seq();
        self.read(|db| {
            let table = db.begin_read()?.open_table(SAMPLES)?;
            let first = table.first()?.map(|(seq, _)| seq.value());
            Ok(first.map_or(next_seq - 1, |seq| seq - 1))
        })
    }

    /// Makes every earlier commit durable (the acks' too); called at shutdown.
    pub fn persist(&self) -> Result<(), StoreError> {
        self.write(Durability::Immediate, |_| Ok(()))
    }

    fn cursor(&self) -> MutexGuard<'_, Cursor> {
        // A panic while holding the lock cannot leave the counters half-updated: they change after commit.
        self.cursor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, redb::Error>,
    ) -> Result<T, StoreError> {
        f(&self.db).map_err(|source| self.error(source))
    }

    fn write<T>(
        &self,
        durability: Durability,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, StoreError> {
        let run = || -> Result<T, redb::Error> {
            let mut txn = self.db.begin_write()?;
            txn.set_durability(durability)?;
            let value = f(&txn)?;
            txn.commit()?;
            Ok(value)
        };
        run().map_err(|source| self.error(source))
    }

    fn error(&self, source: redb::Error) -> StoreError {
        StoreError::Database {
            path: self.path.clone(),
            source,
        }
    }
}

enum InitError {
    Db(redb::Error),
    Random(String),
}

impl From<redb::Error> for InitError {
    fn from(e: redb::Error) -> Self {
        Self::Db(e)
    }
}

/// Reads the epoch and counters, or creates them in one durable transaction for a new file.
fn load_or_init(db: &Database) -> Result<Cursor, InitError> {
    let txn = db.begin_write().map_err(redb::Error::from)?;
    let cursor = {
        let mut text = txn.open_table(TEXT).map_err(redb::Error::from)?;
        let mut counters = txn.open_table(COUNTERS).map_err(redb::Error::from)?;
        txn.open_table(SAMPLES).map_err(redb::Error::from)?;
        let epoch = text
            .get("epoch")
            .map_err(redb::Error::from)?
            .map(|e| e.value().to_owned());
        let epoch = match epoch {
            Some(epoch) => epoch,
            None => {
                let epoch = new_epoch().map_err(InitError::Random)?;
                text.insert("epoch", epoch.as_str())
                    .map_err(redb::Error::from)?;
                counters.insert("next_seq", 1).map_err(redb::Error::from)?;
                counters.insert("dropped", 0).map_err(redb::Error::from)?;
                epoch
            }
        };
        let counter =
            |name| -> Result<u64, redb::Error> { Ok(counters.get(name)?.map_or(0, |v| v.value())) };
        Cursor {
            epoch,
            next_seq: counter("next_seq")?.max(1),
            dropped: counter("dropped")?,
        }
    };
    txn.commit().map_err(redb::Error::from)?;
    Ok(cursor)
}

/// 16 lowercase hex characters from the OS random source.
fn new_epoch() -> Result<String, String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests;
