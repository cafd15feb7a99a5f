//! One hub of the history benchmark: a Worker revision under `wrangler dev` with an admin token (to read a device
//! object's storage meter), a read token for every device, and devices provisioned in bulk with one wrangler
//! call.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use hub_e2e::dev_server::DevServer;
use hub_e2e::http::{HttpResponse, request_within};
use hub_e2e::hub_server::ADMIN_HASH_VAR;
use hub_e2e::{Access, DashboardScope, Provisioner};
use hubctl::credential::new_token;
use hubctl::sql::{DeviceRow, insert_devices_sql};
use hubctl::{TokenHash, token_sha256_hex};
use serde_json::Value;
use telemetry_protocol::{DeviceId, TokenKind};

use crate::clients::Target;
use crate::connect::revision::WorkerRevision;

/// How long one HTTP request may take (a day of history is decoded per query).
const HTTP_WAIT: Duration = Duration::from_secs(60);
/// Devices per `INSERT` (SQLite caps the rows of one `VALUES`); all statements go in one wrangler call.
const DEVICES_PER_INSERT: usize = 100;

/// A running hub with its credentials.
pub struct BenchHub {
    /// Short name in the tables: `current` or `baseline`.
    pub name: &'static str,
    /// What it runs: a commit and its subject.
    pub description: String,
    server: DevServer,
    admin_token: String,
    dashboard_token: String,
    device_tokens: HashMap<String, String>,
}

impl BenchHub {
    /// Starts the Worker of `revision` with `vars` (and an admin token's hash) and creates the dashboard token.
    /// Blocks for seconds: call it off the async runtime.
    pub fn start(
        name: &'static str,
        revision: &WorkerRevision,
        vars: &[(&str, &str)],
    ) -> Result<Self> {
        let admin_token = new_token(TokenKind::Admin)?;
        let admin_hash = token_sha256_hex(&admin_token);
        let mut all = vars.to_vec();
        all.push((ADMIN_HASH_VAR, &admin_hash));
        let server = DevServer::start(name, revision.dev_dir()?, &revision.schema, &all);
        let dashboard_token = server
            .provisioner()
            .dashboard(&DashboardScope::All, Access::Read)
            .token;
        Ok(Self {
            name,
            description: revision.description.clone(),
            server,
            admin_token,
            dashboard_token,
            device_tokens: HashMap::new(),
        })
    }

    /// Creates `ids` with fresh tokens in one wrangler call. Blocks: call it off the async runtime.
    pub fn provision(&mut self, ids: &[String]) -> Result<()> {
        let parsed: Vec<DeviceId> = ids
            .iter()
            .map(|id| DeviceId::parse(id).map_err(|e| anyhow::anyhow!("device id {id:?}: {e}")))
            .collect::<Result<_>>()?;
        let tokens: Vec<String> = ids
            .iter()
            .map(|_| new_token(TokenKind::Device))
            .collect::<Result<_, _>>()?;
        let hashes: Vec<TokenHash> = tokens.iter().map(|t| TokenHash::of(t)).collect();
        let rows: Vec<DeviceRow<'_>> = parsed
            .iter()
            .zip(&hashes)
            .map(|(id, hash)| DeviceRow {
                id,
                token_sha256: hash,
            })
            .collect();
        let sql: String = rows
            .chunks(DEVICES_PER_INSERT)
            .map(insert_devices_sql)
            .collect();
        {
            let _one = Provisioner::lock();
            self.server
                .provisioner()
                .hubctl()
                .execute_sql(&sql)
                .with_context(|| format!("{}: creating {} devices", self.name, ids.len()))?;
        }
        self.device_tokens.extend(ids.iter().cloned().zip(tokens));
        Ok(())
    }

    /// The token of a provisioned device.
    pub fn token(&self, device_id: &str) -> Result<&str> {
        self.device_tokens
            .get(device_id)
            .map(String::as_str)
            .with_context(|| format!("{device_id} is not provisioned on {}", self.name))
    }

    /// Where clients connect, with the read token for every device.
    pub fn target(&self) -> Target {
        Target {
            port: self.server.port(),
            dashboard_token: self.dashboard_token.clone(),
        }
    }

    /// `GET path` with the read token as bearer.
    pub async fn dashboard_get(&self, path: &str) -> HttpResponse {
        let auth = format!("Bearer {}", self.dashboard_token);
        self.get(path, &auth).await
    }

    /// The storage meter of `device_id`'s object, from the admin API.
    pub async fn meter(&self, device_id: &str) -> Result<Meter> {
        let auth = format!("Bearer {}", self.admin_token);
        let response = self
            .get(&format!("/admin/devices/{device_id}"), &auth)
            .await;
        if response.status != 200 {
            bail!(
                "{}: GET /admin/devices/{device_id}: {}: {}",
                self.name,
                response.status,
                response.body
            );
        }
        let status: Value = serde_json::from_str(&response.body)?;
        meter_of(&status).with_context(|| format!("{}: no storage meter in {status}", self.name))
    }

    /// The last `lines` lines of the hub's output, for an error report.
    pub fn log_tail(&self, lines: usize) -> String {
        let logs = self.server.logs();
        let all: Vec<&str> = logs.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    async fn get(&self, path: &str, authorization: &str) -> HttpResponse {
        request_within(
            HTTP_WAIT,
            None,
            self.server.port(),
            "GET",
            path,
            &[("Authorization", authorization)],
            &[],
        )
        .await
    }
}

/// A device object's storage meter, the hub's own type: counts since the object started.
pub use telemetry_protocol::StorageMeter as Meter;

/// The meter in the `storage` object of a `GET /admin/devices/{id}` answer; `None` when it has none.
pub fn meter_of(status: &Value) -> Option<Meter> {
    serde_json::from_value(status.get("storage")?.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_meter_and_subtracts_counts_only() {
        let status = |read: u64, bytes: u64| {
            json!({"online": true, "storage": {"rows_read": read, "rows_written": 7, "groups_written": 2,
                   "samples_written": 1200, "alarms_set": 1, "database_bytes": bytes}})
        };
        let before = meter_of(&status(10, 4096)).expect("a meter");
        let after = meter_of(&status(25, 8192)).expect("a meter");
        assert_eq!(after.since(&before).rows_read, 15);
        assert_eq!(after.since(&before).rows_written, 0);
        assert_eq!(after.since(&before).database_bytes, 8192);
        assert_eq!(meter_of(&json!({"storage": null})), None);
    }
}
