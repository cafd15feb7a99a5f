//! Per-hub temporary directories (`tempfile`, removed on drop); those of dead test processes are swept at the
//! next start.
//!
//! A shared hub lives in a `static` and is never dropped, so its directory outlives the test process. Names
//! carry the pid (`hub-e2e-<pid>-<n>`), and the first directory a process creates removes every sibling whose
//! process no longer exists.

use std::fs;
use std::path::Path;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

pub use tempfile::TempDir;

const PREFIX: &str = "hub-e2e-";

/// Creates a fresh, empty directory under the system temp dir, deleted when the [`TempDir`] is dropped.
pub fn scratch_dir() -> TempDir {
    static SWEPT: Once = Once::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let parent = std::env::temp_dir();
    SWEPT.call_once(|| sweep_dead(&parent));
    let name = format!(
        "{PREFIX}{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    // Left over by an earlier process with the same pid.
    let _ = fs::remove_dir_all(parent.join(&name));
    tempfile::Builder::new()
        .prefix(&name)
        .rand_bytes(0)
        .tempdir_in(&parent)
        .unwrap_or_else(|e| panic!("create scratch dir {name} in {}: {e}", parent.display()))
}

/// Removes `hub-e2e-<pid>-*` directories whose process is gone.
fn sweep_dead(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The pid in `hub-e2e-<pid>-<n>`.
fn owner_pid(name: &str) -> Option<u32> {
    let (pid, n) = name.strip_prefix(PREFIX)?.split_once('-')?;
    n.parse::<u32>().ok()?;
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_its_own_names() {
        assert_eq!(owner_pid("hub-e2e-1234-0"), Some(1234));
        assert_eq!(owner_pid("hub-e2e-1234-x"), None);
        assert_eq!(owner_pid("hub-e2e-abc-1"), None);
        assert_eq!(owner_pid("other-1234-0"), None);
    }

    #[test]
    fn creates_and_removes_a_directory() {
        let dir = scratch_dir();
        let path = dir.path().to_owned();
        assert!(path.is_dir());
        drop(dir);
        assert!(!path.exists());
    }
}
