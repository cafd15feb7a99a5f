//! One hub under comparison: a `wrangler dev` on a free port with one device and one dashboard token.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hub_e2e::dev_server::DevServer;
use hub_e2e::scratch_dir::scratch_dir;
use hub_e2e::{Access, DashboardScope, workspace};

use crate::connect::revision::WorkerRevision;

/// The device every contender connects as (and its dashboards watch).
pub const DEVICE_ID: &str = "bench-connect";

/// A running hub with the credentials to connect to it.
pub struct Contender {
    /// Short name in the table: `current`, `baseline`, `JS`.
    pub name: &'static str,
    /// What it runs, e.g. a commit and its subject.
    pub description: String,
    /// The running server.
    pub server: DevServer,
    /// Bearer token of [`DEVICE_ID`].
    pub device_token: String,
    /// Bearer token of a dashboard that may watch every device.
    pub dashboard_token: String,
}

impl Contender {
    /// The Rust Worker of `revision`, started with `vars` (see [`crate::connect::vars`]).
    pub fn rust_worker(
        name: &'static str,
        revision: &WorkerRevision,
        vars: &[(String, String)],
    ) -> Result<Self> {
        let dir = revision.dev_dir()?;
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let server = DevServer::start(name, dir, &revision.schema, &vars);
        Ok(Self::provisioned(
            name,
            revision.description.clone(),
            server,
        ))
    }

    /// The minimal JavaScript hub of `bench/js-hub/`, on the D1 schema of the current tree.
    pub fn js_hub() -> Result<Self> {
        let dir = scratch_dir();
        for file in ["wrangler.toml", "worker.js"] {
            let source = js_hub_dir().join(file);
            fs::copy(&source, dir.path().join(file))
                .with_context(|| format!("copy {}", source.display()))?;
        }
        let server = DevServer::start("JS", dir, &workspace::schema(), &[]);
        let description = "bench/js-hub, on the current tree's schema.sql".to_owned();
        Ok(Self::provisioned("JS", description, server))
    }

    /// Creates the device and the dashboard token with the current tree's hubctl.
    fn provisioned(name: &'static str, description: String, server: DevServer) -> Self {
        let provisioner = server.provisioner();
        let device = provisioner.devices(&[DEVICE_ID]).remove(0);
        let dashboard = provisioner.dashboard(&DashboardScope::All, Access::Read);
        Self {
            name,
            description,
            server,
            device_token: device.token,
            dashboard_token: dashboard.token,
        }
    }

    /// `ws://127.0.0.1:PORT{path}` of this hub.
    pub fn ws_url(&self, path: &str) -> String {
        self.server.ws_url(path)
    }

    /// The last `lines` lines of the hub's output, for an error report.
    pub fn log_tail(&self, lines: usize) -> String {
        let logs = self.server.logs();
        let all: Vec<&str> = logs.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// `bench/js-hub/` of this checkout.
fn js_hub_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("js-hub")
}
