//! Provisioning through wrangler: the schema, devices and dashboard tokens, and wrangler as a [`Hub`]. Tokens
//! are made here, hashed, and handed back once; only their hashes reach the SQL file and wrangler.

use std::fmt;
use std::path::Path;

use telemetry_protocol::{DeviceId, TokenKind};

use crate::credential::{TokenHash, new_token, new_token_id};
use crate::hub::{CreatedDevices, Hub};
use crate::scope::{Access, DashboardScope, Label};
use crate::sql::{
    DashboardTokenRow, DeviceRow, check_device_batch, existing_devices_sql,
    insert_dashboard_token_sql, insert_devices_sql,
};
use crate::wrangler::is_device_id_conflict;
use crate::{HubctlError, Wrangler};

/// A device that was just created, with its token: the only time the token exists outside the device.
#[derive(Clone, PartialEq, Eq)]
pub struct ProvisionedDevice {
    /// The new device's id.
    pub device_id: DeviceId,
    /// Its bearer token (`tdev_…`); show it once, never store or log it.
    pub token: String,
}

/// A dashboard token that was just created.
#[derive(Clone, PartialEq, Eq)]
pub struct ProvisionedDashboardToken {
    /// Public id (`dt_…`) that names the token without revealing it.
    pub token_id: String,
    /// The bearer token (`tdash_…`); show it once, never store or log it.
    pub token: String,
}

impl fmt::Debug for ProvisionedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let device_id = &self.device_id;
        write!(
            f,
            "ProvisionedDevice {{ device_id: {device_id}, token: <redacted> }}"
        )
    }
}

impl fmt::Debug for ProvisionedDashboardToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token_id = &self.token_id;
        write!(
            f,
            "ProvisionedDashboardToken {{ token_id: {token_id}, token: <redacted> }}"
        )
    }
}

impl Wrangler {
    /// Applies `schema_sql` (idempotent `CREATE … IF NOT EXISTS` statements).
    pub fn apply_schema(&self, schema_sql: &Path) -> Result<(), HubctlError> {
        self.execute_file(schema_sql).map(drop)
    }

    /// Creates all `ids` in one atomic statement, each with a new token. If any id exists, nothing is
    /// created and the error names the existing ones.
    pub fn create_devices(&self, ids: &[DeviceId]) -> Result<Vec<ProvisionedDevice>, HubctlError> {
        check_device_batch(ids)?;
        let devices = ids
            .iter()
            .map(|id| {
                let token = new_token(TokenKind::Device)?;
                Ok(ProvisionedDevice {
                    device_id: id.clone(),
                    token,
                })
            })
            .collect::<Result<Vec<_>, HubctlError>>()?;
        let hashes: Vec<TokenHash> = devices.iter().map(|d| TokenHash::of(&d.token)).collect();
        let rows: Vec<DeviceRow<'_>> = devices
            .iter()
            .zip(&hashes)
            .map(|(d, hash)| DeviceRow {
                id: &d.device_id,
                token_sha256: hash,
            })
            .collect();
        match self.execute_sql(&insert_devices_sql(&rows)) {
            Ok(_) => Ok(devices),
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
        if scope.is_empty() {
            return Err(HubctlError::InvalidScope("the device list is empty".into()));
        }
        let label = label.map(Label::parse).transpose()?;
        let token_id = new_token_id()?;
        let token = new_token(TokenKind::Dashboard)?;
        let hash = TokenHash::of(&token);
        let row = DashboardTokenRow {
            token_id: &token_id,
            token_sha256: &hash,
            scope,
            access,
            label: label.as_ref(),
        };
        self.execute_sql(&insert_dashboard_token_sql(&row))?;
        Ok(ProvisionedDashboardToken { token_id, token })
    }

    /// Which of `ids` exist in `devices`.
    pub fn existing_devices(&self, ids: &[DeviceId]) -> Result<Vec<DeviceId>, HubctlError> {
        let rows = self.query(&existing_devices_sql(ids))?;
        let names = rows.iter().filter_map(|row| row.get("id")?.as_str());
        Ok(names
            .filter_map(|name| DeviceId::parse(name).ok())
            .collect())
    }

    /// After a primary-key violation: the error naming the existing ids, or `original` if they cannot be read.
    fn name_existing(&self, ids: &[DeviceId], original: HubctlError) -> HubctlError {
        match self.existing_devices(ids) {
            Ok(existing) if !existing.is_empty() => HubctlError::DeviceExists(existing),
            _ => original,
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
        Ok(CreatedDevices {
            devices,
            stopped: None,
        })
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

    #[test]
    fn debug_output_never_shows_tokens() {
        let device = ProvisionedDevice {
            device_id: DeviceId::parse("ems_001").expect("valid"),
            token: "tdev_secret".into(),
        };
        let dashboard = ProvisionedDashboardToken {
            token_id: "dt_0123456789ab".into(),
            token: "tdash_secret".into(),
        };
        let shown = format!("{device:?} {dashboard:?}");
        assert!(shown.contains("ems_001") && shown.contains("dt_0123456789ab"));
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn invalid_input_fails_before_wrangler_runs() {
        let wrangler = Wrangler::local(
            "/nonexistent/wrangler",
            "/nonexistent/w.toml",
            "/nonexistent",
        );
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
    }

    #[test]
    fn a_missing_config_is_reported_by_path() {
        let wrangler = Wrangler::local(
            "/nonexistent/wrangler",
            "/nonexistent/w.toml",
            "/nonexistent",
        );
        let error = wrangler.apply_schema(Path::new("/nonexistent/schema.sql"));
        let shown = error.expect_err("missing").to_string();
        assert_eq!(shown, "wrangler config not found: /nonexistent/w.toml");
    }
}
