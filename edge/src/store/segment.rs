//! One segment file of the log: created zero-filled to its full size (so later writes never change the file's
//! size and an `fdatasync` flushes only the pages written), written in place, read back by offset.
//!
//! Also the directory chores: listing segments, the lock that keeps a second agent out, syncing the directory
//! after a rename, and the fault injector the tests use to make writes fail.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Zeros written per call while filling a new segment: one page at a time, so the page cache holds the segment
/// in 4 KiB pages and a later small write dirties (and writes back) 4 KiB, not a large folio.
const FILL_CHUNK: usize = 4096;

/// The lock file inside the store directory.
pub const LOCK_FILE: &str = "LOCK";

/// Makes the next writes or syncs fail with an I/O error, for tests of the store's recovery. Cloned handles
/// share one counter.
#[derive(Debug, Clone, Default)]
pub struct StoreFaults(Arc<AtomicU32>);

impl StoreFaults {
    /// The next `count` writes, syncs or segment creations fail with `EIO`.
    pub fn fail_next(&self, count: u32) {
        self.0.store(count, Ordering::SeqCst);
    }

    /// `Err(EIO)` if a failure is due, consuming it.
    fn check(&self) -> io::Result<()> {
        let due = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            });
        match due {
            Ok(_) => Err(io::Error::from_raw_os_error(5)),
            Err(_) => Ok(()),
        }
    }
}

/// An open segment file.
#[derive(Debug)]
pub struct SegmentFile {
    index: u64,
    path: PathBuf,
    file: File,
    faults: StoreFaults,
}

/// The file name of segment `index`: 16 hex digits, so names sort in index order.
pub fn segment_name(index: u64) -> String {
    format!("{index:016x}.seg")
}

/// The segment indexes in `dir`, ascending, and leftover `.tmp` files of an interrupted creation.
pub fn list_segments(dir: &Path) -> io::Result<(Vec<u64>, Vec<PathBuf>)> {
    let mut indexes = Vec::new();
    let mut leftovers = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".seg")
            && stem.len() == 16
            && let Ok(index) = u64::from_str_radix(stem, 16)
        {
            indexes.push(index);
        } else if name.ends_with(".seg.tmp") {
            leftovers.push(dir.join(name));
        }
    }
    indexes.sort_unstable();
    Ok((indexes, leftovers))
}

/// Makes renames and removals in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Takes the store's lock, so a second agent on the same store fails at start instead of interleaving.
/// `Ok(None)`: another process holds it.
pub fn lock_store(dir: &Path) -> io::Result<Option<File>> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(error)) => Err(error),
    }
}

/// Whether a running agent holds the store in `dir` (a shared lock is refused while it does).
pub fn store_in_use(dir: &Path) -> bool {
    let Ok(file) = File::open(dir.join(LOCK_FILE)) else {
        return false;
    };
    matches!(file.try_lock_shared(), Err(fs::TryLockError::WouldBlock))
}

impl SegmentFile {
    /// Creates segment `index` in `dir`, `bytes` long and zero-filled, durably: filled under a temporary name,
    /// synced, renamed, and the directory synced.
    pub fn create(dir: &Path, index: u64, bytes: u64, faults: &StoreFaults) -> io::Result<Self> {
        faults.check()?;
        let path = dir.join(segment_name(index));
        let tmp = dir.join(format!("{}.tmp", segment_name(index)));
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&tmp)?;
        let zeros = vec![0u8; FILL_CHUNK];
        let mut at = 0u64;
        while at < bytes {
            let n = FILL_CHUNK.min(usize::try_from(bytes - at).unwrap_or(FILL_CHUNK));
            let written = file.write_all_at(&zeros[..n], at);
            if let Err(error) = written {
                let _ = fs::remove_file(&tmp);
                return Err(error);
            }
            at += n as u64;
        }
        let finished = file
            .sync_all()
            .and_then(|()| fs::rename(&tmp, &path))
            .and_then(|()| sync_dir(dir));
        if let Err(error) = finished {
            let _ = fs::remove_file(&tmp);
            return Err(error);
        }
        Ok(Self {
            index,
            path,
            file,
            faults: faults.clone(),
        })
    }

    /// Opens segment `index` in `dir` and reads it whole.
    pub fn open(dir: &Path, index: u64, faults: &StoreFaults) -> io::Result<(Self, Vec<u8>)> {
        let path = dir.join(segment_name(index));
        let mut file = OpenOptions::new().read(true).write(true).open(&path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let segment = Self {
            index,
            path,
            file,
            faults: faults.clone(),
        };
        Ok((segment, bytes))
    }

    /// The segment's number.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Writes `bytes` at `offset` (into the page cache; [`Self::sync`] makes it durable).
    pub fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.faults.check()?;
        self.file.write_all_at(bytes, offset)
    }

    /// Reads `len` bytes at `offset`.
    pub fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut bytes = vec![0u8; len];
        self.file.read_exact_at(&mut bytes, offset)?;
        Ok(bytes)
    }

    /// `fdatasync`: the data written so far is on the disk when this returns.
    pub fn sync(&self) -> io::Result<()> {
        self.faults.check()?;
        self.file.sync_data()
    }

    /// Deletes the file (the segment holds nothing that is still needed).
    pub fn remove(self) -> io::Result<()> {
        fs::remove_file(&self.path)
    }
}
