//! Builds the dashboard (`web/dist/`) once per test process with npm, for the hubs' copies of it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use crate::worker_build::PREBUILT_ENV;
use crate::workspace;

/// The built dashboard (`web/dist/`), built once per process with npm (`npm ci` first if `web/node_modules`
/// is missing). With [`PREBUILT_ENV`] set to `1` an existing build is used as it is.
///
/// Panics with npm's output if the build fails; the failure is kept, not retried.
pub fn dashboard_build() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BUILT.get_or_init(build_dashboard) {
        Ok(dir) => dir,
        Err(report) => panic!("{report}"),
    }
}

fn build_dashboard() -> Result<PathBuf, String> {
    let web = workspace::root().join("web");
    let dist = web.join("dist");
    let prebuilt = std::env::var(PREBUILT_ENV).is_ok_and(|v| v == "1");
    if prebuilt && dist.join("index.html").is_file() {
        return Ok(dist);
    }
    let started = Instant::now();
    if !web
        .join("node_modules")
        .join(".package-lock.json")
        .is_file()
    {
        npm(&web, &["ci", "--no-audit", "--no-fund"])?;
    }
    npm(&web, &["run", "build"])?;
    eprintln!(
        "hub-e2e: built the dashboard in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if dist.join("index.html").is_file() {
        Ok(dist)
    } else {
        Err(format!(
            "{} has no index.html after `npm run build`",
            dist.display()
        ))
    }
}

fn npm(web: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new("npm")
        .args(args)
        .current_dir(web)
        .output()
        .map_err(|e| format!("could not run npm (Node 20+ and npm are needed): {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "`npm {}` in {} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
        args.join(" "),
        web.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    ))
}

/// Copies the tree at `from` into `to` (created).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    let entries = fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if source.is_dir() {
            copy_dir(&source, &target);
        } else {
            fs::copy(&source, &target).unwrap_or_else(|e| panic!("copy {}: {e}", source.display()));
        }
    }
}
