//! The baseline: the Worker of an earlier revision, built by that revision's own `scripts/build-worker` in a
//! temporary `git worktree`, and kept under `target/hub-bench/` by commit id so that a rerun skips the build.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use hub_e2e::worker_build::BUNDLE_FILES;
use hub_e2e::workspace;

use crate::connect::git;
use crate::connect::revision::WorkerRevision;

/// Files kept per built revision, beside the bundle's: the revision's own config and schema.
const REVISION_FILES: [&str; 2] = ["wrangler.toml", "schema.sql"];

/// Builds (or finds already built) the Worker of `rev`.
pub fn build(rev: &str) -> Result<WorkerRevision> {
    let root = workspace::root();
    let commit = git::resolve(root, rev)?;
    let description = git::describe(root, &commit)?;
    let kept = bench_dir().join("baseline").join(&commit);
    if !is_complete(&kept) {
        build_into(root, &commit, &kept)
            .with_context(|| format!("building the baseline {description}"))?;
    } else {
        eprintln!(
            "hub-bench: baseline {description}: using the build in {}",
            kept.display()
        );
    }
    Ok(WorkerRevision {
        description,
        bundle: kept.join("worker"),
        wrangler_toml: kept.join("wrangler.toml"),
        schema: kept.join("schema.sql"),
    })
}

/// `target/hub-bench/` of the current tree: the baseline builds and their cargo target directory.
fn bench_dir() -> PathBuf {
    workspace::root().join("target").join("hub-bench")
}

fn is_complete(kept: &Path) -> bool {
    BUNDLE_FILES
        .iter()
        .all(|f| kept.join("worker").join(f).is_file())
        && REVISION_FILES.iter().all(|f| kept.join(f).is_file())
}

fn build_into(root: &Path, commit: &str, kept: &Path) -> Result<()> {
    if git::git(
        root,
        &["cat-file", "-e", &format!("{commit}:scripts/build-worker")],
    )
    .is_err()
    {
        bail!("it has no scripts/build-worker; name a later baseline");
    }
    let checkout = Checkout::add(root, commit)?;
    eprintln!(
        "hub-bench: building the baseline in {} (the first build of a revision takes minutes) …",
        checkout.path.display()
    );
    let started = Instant::now();
    run_build_script(&checkout.path)?;
    eprintln!(
        "hub-bench: built the baseline in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    // Copied next to the final place and renamed into it, so an interrupted copy is never taken as a build.
    let partial = kept.with_extension("partial");
    let _ = fs::remove_dir_all(&partial);
    fs::create_dir_all(partial.join("worker"))?;
    for file in BUNDLE_FILES {
        let built = checkout.path.join("worker").join("build").join(file);
        fs::copy(&built, partial.join("worker").join(file))
            .with_context(|| format!("copy {}", built.display()))?;
    }
    for file in REVISION_FILES {
        fs::copy(checkout.path.join(file), partial.join(file))
            .with_context(|| format!("the baseline has no {file}"))?;
    }
    let _ = fs::remove_dir_all(kept);
    fs::rename(&partial, kept)?;
    Ok(())
}

/// Runs the revision's `scripts/build-worker` with the current tree's tools: its esbuild (the checkout has no
/// node_modules) and a cargo target directory of its own under `target/hub-bench/`, kept for later builds.
fn run_build_script(checkout: &Path) -> Result<()> {
    let root = workspace::root();
    let script = checkout.join("scripts").join("build-worker");
    let mut command = Command::new(&script);
    command
        .current_dir(checkout)
        .env("CARGO_TARGET_DIR", bench_dir().join("cargo"));
    if std::env::var_os("ESBUILD_BIN").is_none() {
        command.env(
            "ESBUILD_BIN",
            root.join("node_modules").join(".bin").join("esbuild"),
        );
    }
    let output = command
        .output()
        .with_context(|| format!("could not run {}", script.display()))?;
    if !output.status.success() {
        bail!(
            "{} failed ({}):\n{}{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// A detached `git worktree` of one commit, removed (with its registration) on drop.
struct Checkout {
    root: PathBuf,
    path: PathBuf,
}

impl Checkout {
    fn add(root: &Path, commit: &str) -> Result<Self> {
        let path = bench_dir().join(format!("checkout-{}", &commit[..12.min(commit.len())]));
        if path.exists() {
            // Left by an interrupted run.
            let _ = git::git(
                root,
                &["worktree", "remove", "--force", &path.to_string_lossy()],
            );
            let _ = fs::remove_dir_all(&path);
            git::git(root, &["worktree", "prune"])?;
        }
        fs::create_dir_all(bench_dir())?;
        git::git(
            root,
            &[
                "worktree",
                "add",
                "--detach",
                &path.to_string_lossy(),
                commit,
            ],
        )?;
        Ok(Self {
            root: root.to_owned(),
            path,
        })
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let path = self.path.to_string_lossy();
        if git::git(&self.root, &["worktree", "remove", "--force", &path]).is_err() {
            let _ = fs::remove_dir_all(&self.path);
            let _ = git::git(&self.root, &["worktree", "prune"]);
        }
    }
}
