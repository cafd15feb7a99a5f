//! Provisioning a hub's local D1 through hubctl's library: schema, devices, dashboard tokens.
//!
//! `wrangler d1 execute --local` works while `wrangler dev` runs on the same `--persist-to` directory (both
//! open the same SQLite file), so tests provision on the fly. Calls are serialised process-wide anyway: each
//! is a wrangler process of its own, and two writers at once would only contend for the database lock.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde_json::Value;

use hubctl::{Access, DashboardScope, ProvisionedDashboardToken, ProvisionedDevice, Wrangler};
use telemetry_protocol::DeviceId;

use crate::workspace;

/// Where a hub's configuration and local state are; builds hubctl handles for them.
#[derive(Debug, Clone)]
pub struct Provisioner {
    config: PathBuf,
    persist_to: PathBuf,
}

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

impl Provisioner {
    /// Provisions the hub whose wrangler config is `config` and whose local state is in `persist_to`.
    pub fn new(config: &Path, persist_to: &Path) -> Self {
        Self {
            config: config.to_owned(),
            persist_to: persist_to.to_owned(),
        }
    }

    /// A hubctl handle on this hub's local D1, for what the helpers below do not cover (disable, revoke, …).
    /// Hold [`Provisioner::lock`] while using it if other tests may provision at the same time.
    pub fn hubctl(&self) -> Wrangler {
        Wrangler::local(workspace::wrangler(), &self.config, &self.persist_to)
    }

    /// Serialises provisioning across the process; the guard releases on drop.
    pub fn lock() -> std::sync::MutexGuard<'static, ()> {
        ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `schema.sql` from the repository root.
    pub fn apply_schema(&self) {
        let schema = workspace::schema();
        let _one = Self::lock();
        self.hubctl()
            .apply_schema(&schema)
            .unwrap_or_else(|e| panic!("apply {}: {e}", schema.display()));
    }

    /// Creates devices with fresh tokens. Panics on an invalid id or a failed insert (e.g. a duplicate id).
    pub fn devices(&self, ids: &[&str]) -> Vec<ProvisionedDevice> {
        let ids: Vec<DeviceId> = ids
            .iter()
            .map(|id| DeviceId::parse(id).unwrap_or_else(|e| panic!("device id {id:?}: {e}")))
            .collect();
        let _one = Self::lock();
        self.hubctl()
            .create_devices(&ids)
            .unwrap_or_else(|e| panic!("create devices {ids:?}: {e}"))
    }

    /// Creates a dashboard token with `scope` and `access`.
    pub fn dashboard(&self, scope: &DashboardScope, access: Access) -> ProvisionedDashboardToken {
        let _one = Self::lock();
        self.hubctl()
            .create_dashboard_token(scope, access, Some("hub-e2e"))
            .unwrap_or_else(|e| panic!("create a dashboard token ({scope:?}, {access:?}): {e}"))
    }

    /// Runs one read-only SQL statement on this hub's local D1 and returns its rows; for asserting on stored
    /// state, e.g. `SELECT id FROM devices`.
    pub fn query(&self, sql: &str) -> Vec<Value> {
        let _one = Self::lock();
        self.hubctl()
            .query(sql)
            .unwrap_or_else(|e| panic!("query {sql:?}: {e}"))
    }
}
