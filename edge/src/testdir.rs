//! Test support: a fresh directory under the system temp dir, removed on drop.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A scratch directory unique to this process and call.
pub struct TestDir(PathBuf);

impl TestDir {
    /// Creates `$TMPDIR/edge-agent-test-<pid>-<n>-<label>`.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "edge-agent-test-{}-{n}-{label}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create test dir");
        Self(dir)
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
