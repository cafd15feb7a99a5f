//! What each store operation does to the state and the log, with the fall-back to memory when the disk fails
//! and the way back when it works again.

use std::io;
use std::time::Instant;

use telemetry_protocol::Telemetry;

use super::open::{Opened, open_store};
use super::record::{self, Record};
use super::retry::Retry;
use super::scan::{Entry, Recovered};
use super::{
    DEGRADED_RESERVE, Disk, GROUPED_RESERVE, Held, Inner, MEMORY_BOUND_BYTES, Row, State,
    StoreError, StoreOptions, new_epoch,
};
use crate::store::log::Log;

impl Inner {
    /// The store as read from (or just created on) disk.
    pub(super) fn from_disk(
        opened: Opened,
        options: &StoreOptions,
        now: Instant,
    ) -> Result<Self, StoreError> {
        let Opened {
            log,
            lock,
            recovered,
        } = opened;
        let state = match recovered {
            Some(recovered) => State::recovered(recovered),
            None => State::fresh(new_epoch()?),
        };
        let mut inner = Self {
            state,
            disk: Disk {
                log,
                _lock: Some(lock),
                writable: true,
                errors: 0,
                retry: Retry::new(),
                last_sync: now,
                syncs: 0,
            },
        };
        if !inner.disk.log.has_segments()
            && let Err(error) = inner.disk.log.start_segment(inner.state.header())
        {
            inner.on_io_error("creating the first segment", &error, options, now);
        }
        Ok(inner)
    }

    /// A store that could not open its directory: memory only, degraded, retrying.
    pub(super) fn in_memory(
        path: &std::path::Path,
        options: &StoreOptions,
        now: Instant,
    ) -> Result<Self, StoreError> {
        let mut retry = Retry::new();
        retry.failed(now);
        Ok(Self {
            state: State::fresh(new_epoch()?),
            disk: Disk {
                log: Log::empty(path, options.segment_bytes, &options.faults),
                _lock: None,
                writable: false,
                errors: 1,
                retry,
                last_sync: now,
                syncs: 0,
            },
        })
    }

    /// Drops the oldest samples until one more fits in `capacity`.
    pub(super) fn make_room(&mut self, capacity: u64) {
        let mut dropped = 0;
        while self.state.len() >= capacity && self.state.drop_oldest() {
            dropped += 1;
        }
        if dropped > 0 {
            self.disk.log.remove_through(self.state.floor);
        }
    }

    /// Stores sample `seq`: on disk if it works, else in memory.
    pub(super) fn store(&mut self, seq: u64, row: Vec<u8>, options: &StoreOptions, now: Instant) {
        if !self.disk.writable {
            self.try_recover(options, now);
        }
        if self.disk.writable {
            match self.write_sample(seq, &row, options, now) {
                Ok(entry) => {
                    self.state.entries.push_back(entry);
                    return;
                }
                Err(error) => self.on_io_error("writing a sample", &error, options, now),
            }
        }
        self.hold(seq, row);
    }

    /// Appends sample `seq` (and any floor or dropped-count change) to the log, synced unless syncs are
    /// grouped and not due.
    fn write_sample(
        &mut self,
        seq: u64,
        row: &[u8],
        options: &StoreOptions,
        now: Instant,
    ) -> io::Result<Entry> {
        let mut bytes = Vec::with_capacity(record::sample_record_len(row.len()) + 64);
        self.state.bookkeeping(&mut bytes);
        let grouped = !options.sync_every.is_zero();
        let reserve = grouped && seq > self.state.reserved;
        if reserve {
            record::encode(&Record::Reserve(seq + GROUPED_RESERVE), &mut bytes);
        }
        let sample_at = bytes.len();
        record::encode(&Record::Sample { seq, row }, &mut bytes);
        let (segment, offset) = self.disk.log.append(&bytes, &self.state.header())?;
        self.disk.log.note_sample(seq);
        if !grouped || reserve || now >= self.disk.last_sync + options.sync_every {
            self.sync(now)?;
        }
        if reserve {
            self.state.reserved = seq + GROUPED_RESERVE;
        }
        self.state.logged();
        Ok(Entry {
            seq,
            segment,
            offset: u32::try_from(offset as usize + sample_at).unwrap_or(u32::MAX),
            len: u32::try_from(bytes.len() - sample_at).unwrap_or(u32::MAX),
        })
    }

    fn sync(&mut self, now: Instant) -> io::Result<()> {
        self.disk.log.sync()?;
        self.disk.syncs += 1;
        self.disk.last_sync = now;
        Ok(())
    }

    /// Keeps sample `seq` in memory, dropping the oldest held beyond the memory bound.
    fn hold(&mut self, seq: u64, row: Vec<u8>) {
        self.state.held_bytes += row.len();
        self.state.held.push_back(Held { seq, row });
        while self.state.held_bytes > MEMORY_BOUND_BYTES {
            let Some(oldest) = self.state.held.pop_front() else {
                break;
            };
            self.state.held_bytes -= oldest.row.len();
            self.state.dropped += 1;
        }
        self.state.raise_floor();
    }

    /// A disk operation failed: count it, and on the first failure of a run switch to memory, reserving seqs
    /// first if the disk still takes that one small write (it does when only a new segment cannot be made).
    fn on_io_error(&mut self, what: &str, error: &io::Error, options: &StoreOptions, now: Instant) {
        self.disk.errors += 1;
        self.disk.retry.failed(now);
        if !self.disk.writable {
            tracing::debug!(%error, what, "sample store still failing");
            return;
        }
        self.disk.writable = false;
        let reserve = self.state.next_seq - 1 + DEGRADED_RESERVE;
        let mut bytes = Vec::new();
        record::encode(&Record::Reserve(reserve), &mut bytes);
        let reserved = self
            .disk
            .log
            .append_in_place(&bytes)
            .and_then(|_| self.sync(now));
        if reserved.is_ok() {
            self.state.reserved = reserve;
        }
        tracing::error!(
            %error,
            what,
            held_bytes_max = MEMORY_BOUND_BYTES,
            sync_interval_secs = options.sync_every.as_secs_f64(),
            "sample store failing; keeping new samples in memory and retrying"
        );
    }

    /// Tries the disk again if a retry is due: a fresh segment (or store), then everything held in memory.
    fn try_recover(&mut self, options: &StoreOptions, now: Instant) {
        if !self.disk.retry.due(now) {
            return;
        }
        match self.recover_disk(options, now) {
            Ok(written) => {
                self.disk.writable = true;
                self.disk.retry.succeeded();
                tracing::info!(
                    written_from_memory = written,
                    dropped = self.state.dropped,
                    "sample store writable again"
                );
            }
            Err(error) => self.on_io_error("retrying", &error, options, now),
        }
    }

    fn recover_disk(&mut self, options: &StoreOptions, now: Instant) -> io::Result<usize> {
        if !self.disk.log.has_segments() {
            self.reopen_directory(options)?;
        }
        self.disk.log.start_segment(self.state.header())?;
        let held: Vec<Held> = self
            .state
            .held
            .iter()
            .map(|h| Held {
                seq: h.seq,
                row: h.row.clone(),
            })
            .collect();
        let mut entries = Vec::with_capacity(held.len());
        for sample in &held {
            let mut bytes = Vec::new();
            record::encode(
                &Record::Sample {
                    seq: sample.seq,
                    row: &sample.row,
                },
                &mut bytes,
            );
            let (segment, offset) = self.disk.log.append(&bytes, &self.state.header())?;
            self.disk.log.note_sample(sample.seq);
            entries.push(Entry {
                seq: sample.seq,
                segment,
                offset: u32::try_from(offset).unwrap_or(u32::MAX),
                len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            });
        }
        let mut tail = Vec::new();
        self.state.bookkeeping(&mut tail);
        let release = options.sync_every.is_zero() && self.state.reserved != 0;
        if release {
            record::encode(&Record::Reserve(0), &mut tail);
        }
        if !tail.is_empty() {
            self.disk.log.append(&tail, &self.state.header())?;
        }
        self.sync(now)?;
        if release {
            self.state.reserved = 0;
        }
        self.state.logged();
        self.state.entries.extend(entries);
        self.state.held.clear();
        self.state.held_bytes = 0;
        Ok(held.len())
    }

    /// The directory could not be opened at start: open it now (moving aside whatever is unreadable there) and
    /// continue this store's epoch in it. A readable store of another epoch found there is moved aside too:
    /// the samples sent meanwhile belong to this one.
    fn reopen_directory(&mut self, options: &StoreOptions) -> io::Result<()> {
        let dir = self.disk.log.dir().to_owned();
        let opened =
            open_store(&dir, options.segment_bytes, &options.faults).map_err(|failure| {
                match failure {
                    super::open::OpenFailure::Locked => {
                        io::Error::other("the store is locked by another process")
                    }
                    super::open::OpenFailure::Io(error) => error,
                }
            })?;
        let opened = if opened.recovered.is_some() {
            drop(opened);
            let aside = super::open::move_aside(&dir)?;
            tracing::error!(moved_to = %aside.display(), "a sample store of an earlier epoch was moved aside");
            open_store(&dir, options.segment_bytes, &options.faults)
                .map_err(|_| io::Error::other("cannot open the new store"))?
        } else {
            opened
        };
        self.disk.log = opened.log;
        self.disk._lock = Some(opened.lock);
        Ok(())
    }

    /// Removes every sample at or below `seq`; returns how many went.
    pub(super) fn ack_through(&mut self, seq: u64) -> u64 {
        let seq = seq.min(self.state.next_seq - 1);
        let mut removed = 0;
        while self.state.entries.front().is_some_and(|e| e.seq <= seq) {
            self.state.entries.pop_front();
            removed += 1;
        }
        while self.state.held.front().is_some_and(|h| h.seq <= seq) {
            if let Some(held) = self.state.held.pop_front() {
                self.state.held_bytes -= held.row.len();
            }
            removed += 1;
        }
        if seq > self.state.floor {
            self.state.floor = seq;
            if self.disk.writable {
                let mut bytes = Vec::new();
                self.state.bookkeeping(&mut bytes);
                match self.disk.log.append(&bytes, &self.state.header()) {
                    Ok(_) => self.state.logged(),
                    Err(error) => {
                        tracing::warn!(%error, "could not record an acknowledgement; it is resent after a restart");
                    }
                }
            }
            self.disk.log.remove_through(self.state.floor);
        }
        removed
    }

    /// Up to `limit` samples after `after` with consecutive seqs, from disk then memory.
    pub(super) fn unacked(&mut self, after: u64, limit: usize) -> Vec<Telemetry> {
        let mut out: Vec<Telemetry> = Vec::new();
        while out.len() < limit {
            let next = out.last().map_or(after, |s| s.seq);
            let run = self.next_run(next, limit - out.len(), out.is_empty());
            if run.is_empty() {
                break;
            }
            let rows = self.disk.log.read_run(&run).unwrap_or_else(|error| {
                tracing::warn!(%error, "could not read samples back from the store");
                vec![None; run.len()]
            });
            let mut bad = Vec::new();
            for (entry, row) in run.iter().zip(rows) {
                match row
                    .as_deref()
                    .map(|row| self.state.telemetry(entry.seq, row))
                {
                    Some(Some(sample)) if bad.is_empty() => out.push(sample),
                    Some(Some(_)) => {}
                    _ => bad.push(entry.seq),
                }
            }
            if !bad.is_empty() {
                self.drop_unreadable(&bad);
                if !out.is_empty() {
                    return out;
                }
            }
        }
        let next = out.last().map_or(after, |s| s.seq);
        for held in self.state.held.iter().filter(|h| h.seq > next) {
            let contiguous = out.last().is_none_or(|last| held.seq == last.seq + 1);
            if out.len() >= limit || !contiguous {
                break;
            }
            if let Some(sample) = self.state.telemetry(held.seq, &held.row) {
                out.push(sample);
            }
        }
        out
    }

    /// The next entries after `after`, in one segment, with consecutive seqs (also with `after` itself unless
    /// this is the first run).
    fn next_run(&self, after: u64, limit: usize, first: bool) -> Vec<Entry> {
        let start = self.state.entries.partition_point(|e| e.seq <= after);
        let mut run: Vec<Entry> = Vec::new();
        for entry in self.state.entries.range(start..).take(limit) {
            let follows = match run.last() {
                Some(last) => entry.seq == last.seq + 1 && entry.segment == last.segment,
                None => first || entry.seq == after + 1,
            };
            if !follows {
                break;
            }
            run.push(*entry);
        }
        run
    }

    /// Forgets samples whose records could not be read back, counting them as dropped.
    fn drop_unreadable(&mut self, seqs: &[u64]) {
        self.state.entries.retain(|e| !seqs.contains(&e.seq));
        self.state.dropped += seqs.len() as u64;
        self.state.raise_floor();
        tracing::warn!(
            count = seqs.len(),
            first_seq = seqs.first().copied().unwrap_or_default(),
            "samples in the store could not be read back; dropped"
        );
    }

    /// Syncs the log and releases a reservation no longer needed.
    pub(super) fn persist(&mut self, options: &StoreOptions) {
        let now = Instant::now();
        if !self.disk.writable {
            self.disk.retry.succeeded();
            self.try_recover(options, now);
        }
        if !self.disk.writable {
            tracing::error!(
                held = self.state.held.len(),
                "the sample store is failing: samples held in memory are lost at shutdown"
            );
            return;
        }
        let mut bytes = Vec::new();
        self.state.bookkeeping(&mut bytes);
        if self.state.reserved != 0 {
            record::encode(&Record::Reserve(0), &mut bytes);
        }
        let done = if bytes.is_empty() {
            Ok((0, 0))
        } else {
            self.disk.log.append(&bytes, &self.state.header())
        };
        match done.and_then(|_| self.sync(now)) {
            Ok(()) => {
                self.state.reserved = 0;
                self.state.logged();
            }
            Err(error) => tracing::error!(%error, "could not persist the sample store"),
        }
    }
}

impl State {
    /// Everything below the oldest sample held is acknowledged or dropped.
    fn raise_floor(&mut self) {
        self.floor = self.floor.max(self.first_held().saturating_sub(1));
    }

    /// The state read back from the log.
    fn recovered(recovered: Recovered) -> Self {
        if recovered.reserved != 0 {
            tracing::warn!(
                reserved_through = recovered.reserved,
                next_seq = recovered.next_seq,
                "the agent stopped uncleanly while samples were sent before they were durable; \
                 continuing past the seqs it reserved"
            );
        }
        if recovered.torn > 0 {
            tracing::info!(
                torn_records = recovered.torn,
                "a write cut short by the last stop was discarded"
            );
        }
        Self {
            epoch: recovered.epoch,
            next_seq: recovered.next_seq,
            floor: recovered.floor,
            dropped: recovered.dropped,
            reserved: recovered.reserved,
            entries: recovered.entries.into(),
            held: Default::default(),
            held_bytes: 0,
            logged_floor: recovered.floor,
            logged_dropped: recovered.dropped,
        }
    }

    /// Sample `seq` from its stored row, or `None` if the row does not parse.
    fn telemetry(&self, seq: u64, row: &[u8]) -> Option<Telemetry> {
        match serde_json::from_slice::<Row>(row) {
            Ok(row) => Some(Telemetry {
                epoch: self.epoch.clone(),
                seq,
                ts: row.ts.into_owned(),
                data: row.data,
                device_id: None,
            }),
            Err(error) => {
                tracing::warn!(seq, %error, "a stored sample is unreadable; it is dropped");
                None
            }
        }
    }
}
