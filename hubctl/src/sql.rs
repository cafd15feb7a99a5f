//! The D1 side of provisioning: SQL text built from validated values only (device ids, token hashes, enum
//! words and escaped labels), and [`WranglerHub`], which runs it through [`Wrangler`].
//!
//! Every literal still goes through [`sql_text`], so even a value that escaped validation cannot end its
//! string. No SQL function here takes a token: rows carry a [`TokenHash`]. Tokens are made here, hashed, and
//! handed back once.

use telemetry_protocol::{DeviceId, TokenKind};

use crate::credential::{new_token, new_token_id};
use crate::hub::{CreatedDevices, Hub, check_device_batch};
use crate::scope::{Access, DashboardScope, Label};
use crate::wrangler::is_device_id_conflict;
use crate::{HubctlError, ProvisionedDashboardToken, ProvisionedDevice, TokenHash, Wrangler};

/// A `devices` row to insert.
#[derive(Debug, Clone, Copy)]
pub struct DeviceRow<'a> {
    /// The device id.
    pub id: &'a DeviceId,
    /// Hash of the device's new token.
    pub token_sha256: &'a TokenHash,
}

/// One multi-row `INSERT` (atomic: all devices are created or none). A plain `INSERT`, so an existing id
/// fails with a primary-key violation instead of replacing the device's token.
pub fn insert_devices_sql(rows: &[DeviceRow<'_>]) -> String {
    let values: Vec<String> = rows
        .iter()
        .map(|row| {
            format!(
                "({}, {})",
                sql_text(row.id.as_str()),
                sql_text(row.token_sha256.as_hex())
            )
        })
        .collect();
    format!(
        "INSERT INTO devices (id, token_sha256) VALUES\n  {};\n",
        values.join(",\n  ")
    )
}

/// The `INSERT` of one dashboard token, `token_id` (`dt_…`) hashed as `token_sha256`.
fn insert_dashboard_token_sql(
    token_id: &str,
    token_sha256: &TokenHash,
    scope: &DashboardScope,
    access: Access,
    label: Option<&Label>,
) -> String {
    let label = label.map_or_else(|| "NULL".to_owned(), |l| sql_text(l.as_str()));
    format!(
        "INSERT INTO dashboard_tokens (id, token_sha256, devices, access, label) VALUES\n  ({}, {}, {}, {}, {});\n",
        sql_text(token_id),
        sql_text(token_sha256.as_hex()),
        sql_text(&scope.to_string()),
        sql_text(access.as_str()),
        label
    )
}

/// `text` as an SQL string literal: wrapped in single quotes, each inner single quote doubled.
pub fn sql_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Wrangler {
    /// Creates all `ids` in one atomic statement, each with a new token. If any id exists, nothing is
    /// created and the error names the existing ones.
    pub fn create_devices(&self, ids: &[DeviceId]) -> Result<Vec<ProvisionedDevice>, HubctlError> {
        check_device_batch(ids)?;
        let tokens = ids.iter().map(|_| new_token(TokenKind::Device));
        let tokens = tokens.collect::<Result<Vec<_>, HubctlError>>()?;
        let hashes: Vec<TokenHash> = tokens.iter().map(|token| TokenHash::of(token)).collect();
        let rows: Vec<DeviceRow<'_>> = (ids.iter().zip(&hashes))
            .map(|(id, token_sha256)| DeviceRow { id, token_sha256 })
            .collect();
        let device_ids = ids.iter().cloned();
        let devices = device_ids
            .zip(tokens)
            .map(|(device_id, token)| ProvisionedDevice { device_id, token });
        match self.execute_sql(&insert_devices_sql(&rows)) {
            Ok(()) => Ok(devices.collect()),
            Err(error) if is_device_id_conflict(&error) => Err(self.name_existing(ids, error)),
            Err(error) => Err(error),
        }
    }

    /// Creates a dashboard token for `scope` with `access` and an optional `label`.
    pub fn create_dashboard_token(
        &self,
        scope: &DashboardScope,
        access: Access,
        label: Option<&str>,
    ) -> Result<ProvisionedDashboardToken, HubctlError> {
        scope.to_wire()?;
        let label = label.map(Label::parse).transpose()?;
        let token_id = new_token_id()?;
        let token = new_token(TokenKind::Dashboard)?;
        let hash = TokenHash::of(&token);
        let sql = insert_dashboard_token_sql(&token_id, &hash, scope, access, label.as_ref());
        self.execute_sql(&sql)?;
        Ok(ProvisionedDashboardToken { token_id, token })
    }

    /// After a primary-key violation: the error naming which of `ids` exist, or `original` if they cannot be
    /// read.
    fn name_existing(&self, ids: &[DeviceId], original: HubctlError) -> HubctlError {
        let list: Vec<String> = ids.iter().map(|id| sql_text(id.as_str())).collect();
        let sql = format!(
            "SELECT id FROM devices WHERE id IN ({}) ORDER BY id",
            list.join(", ")
        );
        let rows = self.query(&sql).unwrap_or_default();
        let names = rows.iter().filter_map(|row| row.get("id")?.as_str());
        let existing: Vec<DeviceId> = names.filter_map(|n| DeviceId::parse(n).ok()).collect();
        if existing.is_empty() {
            original
        } else {
            HubctlError::DeviceExists(existing)
        }
    }
}

/// wrangler as a [`Hub`]: devices and dashboard tokens are created in D1, the rest needs the admin API.
#[derive(Debug)]
pub struct WranglerHub {
    /// The database and how to run wrangler.
    pub wrangler: Wrangler,
    /// Whether `--admin-token-file` was given anyway (refused: wrangler needs no admin token).
    pub admin_token_file: bool,
    /// The command being run, named when it needs the admin API.
    pub command: &'static str,
}

impl WranglerHub {
    fn refuse_admin_token_file(&self) -> Result<(), HubctlError> {
        if !self.admin_token_file {
            return Ok(());
        }
        Err(HubctlError::FlagNotApplicable {
            flag: "--admin-token-file",
            why: "without --hub (or HUB_URL) this command runs through wrangler",
        })
    }
}

impl Hub for WranglerHub {
    fn admin_api_only(&self) -> HubctlError {
        HubctlError::NeedsHub(self.command)
    }

    /// All or none, in one statement.
    fn create_devices(&self, ids: &[DeviceId]) -> Result<CreatedDevices, HubctlError> {
        self.refuse_admin_token_file()?;
        let devices = self.wrangler.create_devices(ids)?;
        let stopped = None;
        Ok(CreatedDevices { devices, stopped })
    }

    fn create_dashboard_token(
        &self,
        scope: &DashboardScope,
        access: Access,
        label: Option<&str>,
    ) -> Result<ProvisionedDashboardToken, HubctlError> {
        self.refuse_admin_token_file()?;
        self.wrangler.create_dashboard_token(scope, access, label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn id(raw: &str) -> DeviceId {
        DeviceId::parse(raw).expect("valid")
    }

    #[test]
    fn text_literals_double_single_quotes() {
        assert_eq!(sql_text("it's"), "'it''s'");
        assert_eq!(
            sql_text("x'); DROP TABLE devices; --"),
            "'x''); DROP TABLE devices; --'"
        );
    }

    #[test]
    fn device_inserts_are_one_statement_with_ids_and_hashes_only() {
        let tokens = [TokenKind::Device; 2].map(|kind| new_token(kind).expect("random"));
        let hashes = tokens.each_ref().map(|t| TokenHash::of(t));
        let ids = [id("ems_001"), id("ems-002")];
        let rows = [0, 1].map(|i| DeviceRow {
            id: &ids[i],
            token_sha256: &hashes[i],
        });
        let sql = insert_devices_sql(&rows);
        let [one, two] = hashes.each_ref().map(TokenHash::as_hex);
        let expected = format!(
            "INSERT INTO devices (id, token_sha256) VALUES\n  ('ems_001', '{one}'),\n  ('ems-002', '{two}');\n"
        );
        assert_eq!(sql, expected);
        assert!(!sql.contains(&tokens[0][5..48]) && !sql.contains(&tokens[1][5..48]));
    }

    #[test]
    fn dashboard_inserts_escape_the_label_store_the_scope_and_hold_no_token() {
        let token = new_token(TokenKind::Dashboard).expect("random");
        let hash = TokenHash::of(&token);
        let scope = DashboardScope::parse("a,b").expect("scope");
        let label = Label::parse("Ops' wall; --").expect("label");
        let sql = |scope, access, label| {
            insert_dashboard_token_sql("dt_0123456789ab", &hash, scope, access, label)
        };
        let labelled = sql(&scope, Access::Control, Some(&label));
        let expected = format!(
            "('dt_0123456789ab', '{}', 'a,b', 'control', 'Ops'' wall; --');",
            hash.as_hex()
        );
        assert!(labelled.contains(&expected), "{labelled}");
        assert!(!labelled.contains(&token[6..40]));
        let all = sql(&DashboardScope::All, Access::Read, None);
        assert!(all.contains("'*', 'read', NULL);"), "{all}");
    }

    #[test]
    fn invalid_input_fails_before_wrangler_runs_and_a_missing_config_is_named() {
        let wrangler = Wrangler::local("/nonexistent/wrangler", "/nonexistent/w.toml", "/none");
        assert!(matches!(
            wrangler.create_devices(&[]),
            Err(HubctlError::NoDevices)
        ));
        let empty = DashboardScope::Devices(Vec::new());
        let error = wrangler.create_dashboard_token(&empty, Access::Read, None);
        assert!(matches!(error, Err(HubctlError::InvalidScope(_))));
        let error =
            wrangler.create_dashboard_token(&DashboardScope::All, Access::Read, Some("a\nb"));
        assert!(matches!(error, Err(HubctlError::InvalidLabel(_))));
        let error = wrangler.apply_schema(Path::new("/nonexistent/schema.sql"));
        let shown = error.expect_err("missing").to_string();
        assert_eq!(shown, "wrangler config not found: /nonexistent/w.toml");
    }
}
