//! Where the harness finds things in the repository: the build script, the pinned wrangler, the schema.

use std::path::{Path, PathBuf};

/// The repository root (the Cargo workspace that holds this crate).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the hub-e2e crate lives one level below the workspace root")
}

/// `scripts/build-worker`, which builds the Worker into `worker/build/`.
pub fn build_script() -> PathBuf {
    root().join("scripts").join("build-worker")
}

/// The output directory of `scripts/build-worker`.
pub fn worker_build_dir() -> PathBuf {
    root().join("worker").join("build")
}

/// The wrangler that `npm ci` installs from package-lock.json.
pub fn wrangler() -> PathBuf {
    root().join("node_modules").join(".bin").join("wrangler")
}

/// The project's wrangler.toml (with its `[build]` step).
pub fn wrangler_toml() -> PathBuf {
    root().join("wrangler.toml")
}

/// The D1 schema applied to every fresh hub.
pub fn schema() -> PathBuf {
    root().join("schema.sql")
}

/// Environment that keeps wrangler offline and quiet: no metrics, no `cf` fetch, no banner.
pub const WRANGLER_ENV: [(&str, &str); 3] = [
    ("WRANGLER_SEND_METRICS", "false"),
    ("CLOUDFLARE_CF_FETCH_ENABLED", "false"),
    ("WRANGLER_HIDE_BANNER", "true"),
];
