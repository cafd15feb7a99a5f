//! `settings.json` beside the sample store: read once at start, written atomically (a temporary file in the same
//! directory, fsync, rename, fsync of the directory) on a blocking thread whenever `set_interval` changes the
//! interval, so a power cut leaves the old file or the new one, never half of one.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use super::{IntervalChoice, SavedInterval, choose_interval};

/// The file's name, in the sample store's directory.
pub const FILE_NAME: &str = "settings.json";

/// Largest settings file read, in bytes: anything longer is not one the agent wrote.
const MAX_FILE_BYTES: u64 = 4096;

/// The settings file of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    /// `settings.json` in the directory of the sample store at `store` (`.` for a bare file name).
    pub fn beside(store: &Path) -> Self {
        let directory = store
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self {
            path: directory.join(FILE_NAME),
        }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved setting; `Ok(None)` when there is no file, `Err` with the reason when it cannot be used.
    pub fn read(&self) -> Result<Option<SavedInterval>, String> {
        let mut text = Vec::new();
        match File::open(&self.path) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error.to_string()),
            Ok(file) => file
                .take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut text)
                .map_err(|error| error.to_string())?,
        };
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(format!("longer than {MAX_FILE_BYTES} bytes"));
        }
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|error| error.to_string())
    }

    /// Replaces the file with `saved`, atomically and durably.
    pub fn write(&self, saved: &SavedInterval) -> io::Result<()> {
        let text = serde_json::to_vec(saved).map_err(io::Error::other)?;
        let directory = self.path.parent().unwrap_or(Path::new("."));
        let temporary = directory.join(format!(".{FILE_NAME}.new"));
        let mut file = File::create(&temporary)?;
        file.write_all(&text)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, &self.path)?;
        File::open(directory)?.sync_all()
    }

    /// Removes the file; no file is no error.
    pub fn remove(&self) -> io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

/// The sample interval in force at start: the config's or a saved `set_interval`'s (see [`choose_interval`]),
/// logged with the reason. A stale saved setting is removed; an unreadable file is only logged.
pub async fn interval_at_start(file: SettingsFile, config: Duration) -> Duration {
    let decided = tokio::task::spawn_blocking(move || {
        let choice = choose_interval(config, file.read());
        if choice.drops_saved()
            && let Err(error) = file.remove()
        {
            tracing::warn!(path = %file.path().display(), %error, "could not remove the stale settings file");
        }
        log_choice(&choice, &file);
        choice.interval()
    })
    .await;
    decided.unwrap_or(config)
}

fn log_choice(choice: &IntervalChoice, file: &SettingsFile) {
    let path = file.path().display();
    match choice {
        IntervalChoice::Config(every) => {
            tracing::info!("sample interval {every:?}, from the config");
        }
        IntervalChoice::Saved { every, config } => tracing::info!(
            %path,
            "sample interval {every:?}, set by a set_interval command (the config says {config:?})"
        ),
        IntervalChoice::ConfigEdited { config, saved } => tracing::info!(
            %path,
            "sample interval {config:?}, from the config, edited since a set_interval command set {saved:?}; \
             that setting is dropped"
        ),
        IntervalChoice::Unreadable { config, reason } => tracing::warn!(
            %path,
            "settings file ignored ({reason}); sample interval {config:?}, from the config"
        ),
    }
}

/// Saves the interval that commands set, one write at a time, each writing the newest interval, on blocking
/// threads. Failures are logged: the interval stays in force until the next restart.
#[derive(Debug, Clone)]
pub struct IntervalSaver {
    file: SettingsFile,
    config: Duration,
    current: watch::Receiver<Duration>,
    writing: Arc<Mutex<()>>,
}

impl IntervalSaver {
    /// Saves `current`'s value into `file`, noting that it overrides the config's `config`.
    pub fn new(file: SettingsFile, config: Duration, current: watch::Receiver<Duration>) -> Self {
        Self {
            file,
            config,
            current,
            writing: Arc::default(),
        }
    }

    /// Saves the interval in force now, on a blocking thread (or here, outside a runtime).
    pub fn save_current(&self) {
        let saver = self.clone();
        let write = move || saver.write_current();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(write)),
            Err(_) => write(),
        }
    }

    fn write_current(&self) {
        let _one_at_a_time = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let every = *self.current.borrow();
        match self.file.write(&SavedInterval::new(every, self.config)) {
            Ok(()) => tracing::debug!(path = %self.file.path().display(), "sample interval saved"),
            Err(error) => tracing::warn!(
                path = %self.file.path().display(),
                %error,
                "could not save the sample interval; it holds until the agent restarts"
            ),
        }
    }
}

#[cfg(test)]
mod tests;
