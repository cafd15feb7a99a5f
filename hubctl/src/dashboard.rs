//! `hubctl dashboard …`: create, list and revoke dashboard tokens, and watch a device live
//! ([`watch`]), from the arguments to what is printed.

pub mod watch;

use std::path::PathBuf;

use clap::Subcommand;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use serde_json::json;

use crate::cli::Context;
use crate::credential::{TokenId, parse_token_id};
use crate::hub::RevokedDashboardToken;
use crate::output::{Format, Output, Text, rows_table};
use crate::quiet::Quiet;
use crate::scope::{Access, DashboardScope, Label};
use crate::token_file::parse_path;
use crate::{HubctlError, ProvisionedDashboardToken};

/// `hubctl dashboard …`.
#[derive(Debug, Subcommand)]
pub enum DashboardCommand {
    /// Create a dashboard token and print its id and the token once
    Create {
        /// Devices the token covers: `*` for all, or ids separated by commas
        #[arg(long, value_name = "ID,ID|*", value_parser = Quiet(DashboardScope::parse))]
        devices: DashboardScope,
        /// `read` (telemetry and presence) or `control` (also send commands)
        #[arg(long, value_parser = access_values())]
        access: Access,
        /// Who or what the token is for (at most 200 characters, no control characters)
        #[arg(long, value_name = "TEXT", value_parser = Quiet(Label::parse))]
        label: Option<Label>,
        /// Print {"token_id":…,"token":…,"devices":…,"access":…,"label":…} instead of text
        #[arg(long)]
        json: bool,
        /// Write the token to PATH (a new file, mode 0600) instead of printing it
        #[arg(long, value_name = "PATH", value_parser = Quiet(parse_path))]
        token_file: Option<PathBuf>,
    },
    /// List dashboard tokens by id, scope, access, label and state; never the tokens (--hub only)
    List {
        /// Print {"dashboard_tokens":[…]} instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Revoke a dashboard token and close the dashboards connected with it (--hub only)
    Revoke {
        /// The token's id (dt_…), as printed by `create` and `list`
        #[arg(value_name = "TOKEN_ID", value_parser = Quiet(parse_token_id))]
        token_id: TokenId,
        /// Print {"token_id":…,"revoked":true,"closed_sockets":…} instead of text
        #[arg(long)]
        json: bool,
    },
    /// Watch a device live as a dashboard does: print every frame, send each line typed (--hub only)
    Watch(watch::WatchArgs),
}

impl DashboardCommand {
    /// The command as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Create { .. } => "dashboard create",
            Self::List { .. } => "dashboard list",
            Self::Revoke { .. } => "dashboard revoke",
            Self::Watch(_) => "dashboard watch",
        }
    }

    /// `--json` and `--token-file`.
    pub fn format(&self) -> Format<'_> {
        match self {
            Self::Create {
                json, token_file, ..
            } => Format::new(*json, token_file.as_deref()),
            Self::List { json } | Self::Revoke { json, .. } => Format::new(*json, None),
            Self::Watch(_) => Format::default(),
        }
    }

    /// Runs the command against the hub `context` selects.
    pub fn run(&self, context: &Context<'_>) -> Result<Output, HubctlError> {
        let hub = || context.hub(self.name());
        match self {
            Self::Create {
                devices,
                access,
                label,
                ..
            } => {
                let label = label.as_ref().map(Label::as_str);
                let made = hub()?.create_dashboard_token(devices, *access, label)?;
                Ok(created(&made, devices, *access, label))
            }
            Self::List { .. } => {
                let tokens = hub()?.list_dashboard_tokens()?;
                let text = Text::default().plain(tokens_table(&tokens));
                Ok(Output::new(text, json!({ "dashboard_tokens": tokens })))
            }
            Self::Revoke { token_id, .. } => {
                Ok(revoked(&hub()?.revoke_dashboard_token(token_id.as_str())?))
            }
            Self::Watch(args) => watch::run(args, context),
        }
    }
}

/// `read` or `control`, each with what it grants.
fn access_values() -> impl TypedValueParser<Value = Access> {
    let values = [
        PossibleValue::new("read").help("Receive telemetry and presence"),
        PossibleValue::new("control").help("Read, and send commands to the devices"),
    ];
    PossibleValuesParser::new(values).try_map(|word| word.parse::<Access>())
}

/// The token id, scope, access and token, then how the id is used; as JSON `{"token_id":…,"token":…,
/// "devices":…,"access":…,"label":…}`.
fn created(
    made: &ProvisionedDashboardToken,
    scope: &DashboardScope,
    access: Access,
    label: Option<&str>,
) -> Output {
    let id = &made.token_id;
    let devices = match scope {
        DashboardScope::All => "all devices (*)".to_owned(),
        DashboardScope::Devices(_) => format!("devices {scope}"),
    };
    let text = Text::default()
        .plain(format!(
            "dashboard token {id} created for {devices} with {access} access; "
        ))
        .token("token", &made.token)
        .plain(format!(
            "\nThe id {id} names this token (e.g. to revoke it) without revealing it; the hub stores only \
             the token's SHA-256 hash.\n"
        ));
    let json = json!({"token_id": id, "token": made.token, "devices": scope.to_string(),
        "access": access.as_str(), "label": label});
    Output::new(text, json)
}

/// One row per dashboard token: id, access, created, revoked, devices, label. Never a token.
fn tokens_table(tokens: &[serde_json::Value]) -> String {
    let columns = [
        ("TOKEN ID", "token_id"),
        ("ACCESS", "access"),
        ("CREATED", "created_at"),
        ("REVOKED", "revoked_at"),
        ("DEVICES", "devices"),
        ("LABEL", "label"),
    ];
    rows_table(&columns, tokens, "no dashboard tokens\n")
}

/// What `dashboard revoke` did; as JSON the admin API's answer.
fn revoked(revoked: &RevokedDashboardToken) -> Output {
    let closed = revoked.closed_sockets;
    let connections = if closed == 1 {
        "connection"
    } else {
        "connections"
    };
    let mut text = format!(
        "dashboard token {} revoked; {closed} open dashboard {connections} closed (4001 revoked).\n",
        revoked.token_id
    );
    if revoked.pending_devices > 0 {
        text.push_str(&format!(
            "{} device connections not reached yet; the hub retries every minute.\n",
            revoked.pending_devices
        ));
    }
    let json = json!({"token_id": revoked.token_id, "revoked": true,
        "closed_sockets": closed, "pending_devices": revoked.pending_devices});
    Output::new(Text::default().plain(text), json)
}

#[cfg(test)]
mod tests;
