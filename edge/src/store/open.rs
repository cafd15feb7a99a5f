//! Opening the store directory at start: the lock, reading the log back, and what to do when it cannot be
//! read: a damaged or unreadable store is moved aside (kept, named with the time) and a new epoch begins.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use chrono::Utc;

use super::log::{Log, OpenError};
use super::scan::Recovered;
use super::segment::{StoreFaults, lock_store};

/// A store directory, open and locked.
#[derive(Debug)]
pub struct Opened {
    /// The log.
    pub log: Log,
    /// Held while the store is open: a second agent on the same directory fails at start.
    pub lock: File,
    /// Its state, or `None` for a new store.
    pub recovered: Option<Recovered>,
}

/// Why the store directory could not be used.
#[derive(Debug)]
pub enum OpenFailure {
    /// Another process holds the store.
    Locked,
    /// An I/O error that moving the store aside did not get past.
    Io(io::Error),
}

/// Opens (or creates) the store in `dir`. A damaged or unreadable store is moved aside once, loudly, and a
/// new one is created in its place.
pub fn open_store(
    dir: &Path,
    segment_bytes: u64,
    faults: &StoreFaults,
) -> Result<Opened, OpenFailure> {
    match open_once(dir, segment_bytes, faults) {
        Err(Attempt::Unusable(why)) => {
            let aside = move_aside(dir).map_err(OpenFailure::Io)?;
            tracing::error!(
                problem = %why,
                moved_to = %aside.display(),
                "the sample store could not be read; it was moved aside for inspection and a new epoch starts \
                 (its unsent samples are in the moved directory)"
            );
            open_once(dir, segment_bytes, faults).map_err(|attempt| match attempt {
                Attempt::Locked => OpenFailure::Locked,
                Attempt::Io(error) => OpenFailure::Io(error),
                Attempt::Unusable(why) => OpenFailure::Io(io::Error::other(why)),
            })
        }
        Err(Attempt::Locked) => Err(OpenFailure::Locked),
        Err(Attempt::Io(error)) => Err(OpenFailure::Io(error)),
        Ok(opened) => Ok(opened),
    }
}

enum Attempt {
    Locked,
    /// Creating or locking the directory failed: nothing to move aside.
    Io(io::Error),
    /// The directory exists but its content cannot be used.
    Unusable(String),
}

fn open_once(dir: &Path, segment_bytes: u64, faults: &StoreFaults) -> Result<Opened, Attempt> {
    if dir.exists() && !dir.is_dir() {
        return Err(Attempt::Unusable(format!(
            "{} is a file, not a store directory (a store of an older agent?)",
            dir.display()
        )));
    }
    fs::create_dir_all(dir).map_err(Attempt::Io)?;
    let lock = match lock_store(dir) {
        Ok(Some(lock)) => lock,
        Ok(None) => return Err(Attempt::Locked),
        Err(error) => return Err(Attempt::Io(error)),
    };
    match Log::open(dir, segment_bytes, faults) {
        Ok((log, recovered)) => Ok(Opened {
            log,
            lock,
            recovered,
        }),
        Err(OpenError::Damage(damage)) => Err(Attempt::Unusable(damage.to_string())),
        Err(OpenError::Io(error)) => Err(Attempt::Unusable(error.to_string())),
    }
}

/// Renames the store at `dir` to `<dir>.unreadable-<UTC time>` and returns the new name.
pub fn move_aside(dir: &Path) -> io::Result<PathBuf> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let mut name = dir.as_os_str().to_owned();
    name.push(format!(".unreadable-{stamp}"));
    let aside = PathBuf::from(name);
    fs::rename(dir, &aside)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = super::segment::sync_dir(parent);
    }
    Ok(aside)
}
