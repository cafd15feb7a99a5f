//! A built hub Worker of one revision (its bundle, its own wrangler.toml and schema.sql) and the directory that
//! `wrangler dev` runs it from.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};
use hub_e2e::scratch_dir::{TempDir, scratch_dir};
use hub_e2e::worker_build::worker_bundle;
use hub_e2e::workspace;
use hub_e2e::wrangler_config::{copy_bundle, local_config};

use crate::connect::git;

/// Served at `/` instead of the revision's dashboard: the `/ws/*` routes run the Worker first, so what the
/// assets are does not touch a handshake, and no revision's dashboard has to be built.
const PLACEHOLDER_PAGE: &str =
    "<!doctype html><title>hub-bench</title><p>placeholder for the dashboard\n";

/// The Worker of one revision, built.
#[derive(Debug, Clone)]
pub struct WorkerRevision {
    /// What the report calls it, e.g. `6389df3 protocol: … + uncommitted changes`.
    pub description: String,
    /// The directory holding the built `index.js` and `index_bg.wasm`.
    pub bundle: PathBuf,
    /// The revision's own wrangler.toml.
    pub wrangler_toml: PathBuf,
    /// The revision's own schema.sql.
    pub schema: PathBuf,
}

impl WorkerRevision {
    /// The Worker of the current tree, built with its `scripts/build-worker` (as the e2e tests build it);
    /// `sources` are the paths whose uncommitted changes the description mentions.
    pub fn current(sources: &[&str]) -> Result<Self> {
        let root = workspace::root();
        Ok(Self {
            description: git::describe_work_tree(root, sources)?,
            bundle: worker_bundle().to_owned(),
            wrangler_toml: workspace::wrangler_toml(),
            schema: workspace::schema(),
        })
    }

    /// A fresh directory with a copy of the bundle and the revision's wrangler.toml, rewritten for a local run:
    /// no `[build]` step, `main` at the copy, `[assets]` at a placeholder page.
    pub fn dev_dir(&self) -> Result<TempDir> {
        let dir = scratch_dir();
        let main = copy_bundle(&self.bundle, &dir.path().join("worker"))?;
        let assets = dir.path().join("assets");
        fs::create_dir_all(&assets)?;
        fs::write(assets.join("index.html"), PLACEHOLDER_PAGE)?;
        let project = fs::read_to_string(&self.wrangler_toml)
            .with_context(|| format!("read {}", self.wrangler_toml.display()))?;
        let config = local_config(&project, &main, &assets)
            .with_context(|| self.wrangler_toml.display().to_string())?;
        fs::write(dir.path().join("wrangler.toml"), config)?;
        Ok(dir)
    }
}
