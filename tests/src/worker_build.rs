//! Builds the Worker's WASM once per test process with `scripts/build-worker`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use crate::workspace;

/// Set to `1` to use the `worker/build/` that is already there instead of building (e.g. when `scripts/test`
/// has just built it, or while iterating on tests only).
pub const PREBUILT_ENV: &str = "HUB_E2E_PREBUILT";

/// The built Worker (`index.js` and `index_bg.wasm`), building it on first use.
///
/// The outcome is kept for the whole process: if the build fails, every test that needs the Worker panics
/// with the build's output, and the build is not retried.
pub fn worker_bundle() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BUILT.get_or_init(build) {
        Ok(dir) => dir,
        Err(report) => panic!("{report}"),
    }
}

fn build() -> Result<PathBuf, String> {
    let dir = workspace::worker_build_dir();
    if std::env::var(PREBUILT_ENV).is_ok_and(|v| v == "1") {
        return check_bundle(&dir).map(|()| dir);
    }
    let script = workspace::build_script();
    let started = Instant::now();
    let output = Command::new(&script)
        .current_dir(workspace::root())
        .output()
        .map_err(|e| format!("could not run {}: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        ));
    }
    eprintln!(
        "hub-e2e: built the Worker in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    check_bundle(&dir).map(|()| dir)
}

fn check_bundle(dir: &Path) -> Result<(), String> {
    for file in BUNDLE_FILES {
        if !dir.join(file).is_file() {
            return Err(format!(
                "{} has no {file}; run scripts/build-worker (or unset {PREBUILT_ENV})",
                dir.display()
            ));
        }
    }
    Ok(())
}

/// The files of a built Worker that `wrangler dev` needs.
pub const BUNDLE_FILES: [&str; 2] = ["index.js", "index_bg.wasm"];
