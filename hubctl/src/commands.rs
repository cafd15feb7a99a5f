//! The subcommands and their arguments. Every value parser is quiet: its errors never repeat the value, since
//! a pasted token may be in it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use telemetry_protocol::DeviceId;

use crate::cli::Quiet;
use crate::credential::TokenId;
use crate::grace::parse_grace;
use crate::scope::{Access, DashboardScope, Label, parse_device_id};
use crate::token_file::parse_path;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Devices (edge agents)
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Dashboard tokens
    #[command(subcommand)]
    Dashboard(DashboardCommand),
    /// The admin API's own token
    #[command(subcommand)]
    AdminToken(AdminTokenCommand),
    /// Offline token checks
    #[command(subcommand)]
    Token(TokenCommand),
    /// The D1 schema (through wrangler)
    #[command(subcommand)]
    Schema(SchemaCommand),
}

/// `hubctl device …`.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Create devices and print each one's token once (wrangler: all or none; --hub: one request per id)
    Create {
        /// Device ids: 1 to 64 characters of A-Z a-z 0-9 _ -
        #[arg(value_name = "ID", required = true, value_parser = Quiet(parse_device_id))]
        ids: Vec<DeviceId>,
        /// Print {"devices":[{"device_id":…,"token":…}]} instead of text
        #[arg(long)]
        json: bool,
        /// Write the token to PATH (a new file, mode 0600) instead of printing it; one device only
        #[arg(long, value_name = "PATH", value_parser = Quiet(parse_path))]
        token_file: Option<PathBuf>,
    },
    /// List every device: online, last seen, last seq, disabled, grace (--hub only)
    List {
        /// Print {"devices":[…]} (every page) instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show one device (--hub only)
    Show {
        /// The device id
        #[arg(value_name = "ID", value_parser = Quiet(parse_device_id))]
        id: DeviceId,
        /// Print the admin API's JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Give a device a new token and print it once; the old one works on for --grace (--hub only)
    Rotate {
        /// The device id
        #[arg(value_name = "ID", value_parser = Quiet(parse_device_id))]
        id: DeviceId,
        /// How long the old token keeps working: 0, 90s, 10m, 2h, 1d, 1h30m…; at most 30 days
        #[arg(long, value_name = "DURATION", default_value = "0", value_parser = Quiet(parse_grace))]
        grace: Duration,
        /// Print {"device_id":…,"token":…,"previous_token_valid_until":…} instead of text
        #[arg(long)]
        json: bool,
        /// Write the new token to PATH (a new file, mode 0600) instead of printing it
        #[arg(long, value_name = "PATH", value_parser = Quiet(parse_path))]
        token_file: Option<PathBuf>,
    },
    /// Refuse a device's token and close its live connection (--hub only)
    Disable {
        /// The device id
        #[arg(value_name = "ID", value_parser = Quiet(parse_device_id))]
        id: DeviceId,
        /// Print the admin API's JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Accept a disabled device's token again (--hub only)
    Enable {
        /// The device id
        #[arg(value_name = "ID", value_parser = Quiet(parse_device_id))]
        id: DeviceId,
        /// Print the admin API's JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

/// `hubctl dashboard …`.
#[derive(Debug, Subcommand)]
pub enum DashboardCommand {
    /// Create a dashboard token and print its id and the token once
    Create {
        /// Devices the token covers: `*` for all, or ids separated by commas
        #[arg(long, value_name = "ID,ID|*", value_parser = Quiet(DashboardScope::parse))]
        devices: DashboardScope,
        /// `read` (telemetry and presence) or `control` (also send commands)
        #[arg(long, value_enum)]
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
        #[arg(value_name = "TOKEN_ID", value_parser = Quiet(TokenId::parse))]
        token_id: TokenId,
        /// Print {"token_id":…,"revoked":true,"closed_sockets":…} instead of text
        #[arg(long)]
        json: bool,
    },
}

/// `hubctl admin-token …`.
#[derive(Debug, Subcommand)]
pub enum AdminTokenCommand {
    /// Generate an admin token offline; print it once with its SHA-256 and how to install the hash
    Create {
        /// Print {"token":…,"sha256":…} instead of text
        #[arg(long)]
        json: bool,
        /// Write the token to PATH (a new file, mode 0600) instead of printing it
        #[arg(long, value_name = "PATH", value_parser = Quiet(parse_path))]
        token_file: Option<PathBuf>,
    },
}

/// `hubctl token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Check a token's prefix, length and checksum offline; prints its kind, never the token
    Check {
        /// The token, or `-` to read it from standard input (keeps it out of shell history)
        #[arg(value_name = "TOKEN")]
        token: String,
    },
}

/// `hubctl schema …`.
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Create the tables if they do not exist (safe to repeat)
    Apply {
        /// Schema file [default: schema.sql beside the wrangler config]
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
}

impl Commands {
    /// The command as typed (`device list`), for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Device(command) => command.name(),
            Self::Dashboard(DashboardCommand::Create { .. }) => "dashboard create",
            Self::Dashboard(DashboardCommand::List { .. }) => "dashboard list",
            Self::Dashboard(DashboardCommand::Revoke { .. }) => "dashboard revoke",
            Self::AdminToken(AdminTokenCommand::Create { .. }) => "admin-token create",
            Self::Token(TokenCommand::Check { .. }) => "token check",
            Self::Schema(SchemaCommand::Apply { .. }) => "schema apply",
        }
    }
}

impl DeviceCommand {
    /// The command as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Create { .. } => "device create",
            Self::List { .. } => "device list",
            Self::Show { .. } => "device show",
            Self::Rotate { .. } => "device rotate",
            Self::Disable { .. } => "device disable",
            Self::Enable { .. } => "device enable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cli;
    use clap::Parser;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("hubctl").chain(args.iter().copied()))
    }

    #[test]
    fn device_create_rejects_no_ids_and_bad_ids() {
        let missing = parse(&["device", "create"]).expect_err("no ids");
        assert_eq!(missing.kind(), ErrorKind::MissingRequiredArgument);
        let bad = parse(&["device", "create", "ok", "not ok"]).expect_err("bad id");
        assert_eq!(bad.kind(), ErrorKind::ValueValidation);
    }

    #[test]
    fn value_errors_never_echo_a_pasted_token() {
        let token =
            telemetry_protocol::generate_token(telemetry_protocol::TokenKind::Device, |b| {
                b.fill(1)
            });
        let scope = format!("a,{token}");
        for args in [
            vec!["device", "create", token.as_str()],
            vec![
                "dashboard",
                "create",
                "--access",
                "read",
                "--devices",
                scope.as_str(),
            ],
        ] {
            let error = parse(&args).expect_err("token refused");
            assert_eq!(error.kind(), ErrorKind::ValueValidation);
            let shown = error.render().to_string();
            assert!(
                shown.contains("bearer token") && !shown.contains(&token[5..]),
                "{shown}"
            );
        }
    }

    #[test]
    fn dashboard_create_parses_scope_access_and_label() {
        let args = [
            "dashboard",
            "create",
            "--devices",
            "a,b",
            "--access",
            "control",
            "--label",
            "Ops",
        ];
        let cli = parse(&args).expect("ok");
        let Commands::Dashboard(DashboardCommand::Create {
            devices,
            access,
            label,
            json,
            ..
        }) = cli.command
        else {
            panic!("wrong command");
        };
        assert_eq!(devices.to_string(), "a,b");
        assert_eq!(access, Access::Control);
        assert_eq!(label.as_ref().map(Label::as_str), Some("Ops"));
        assert!(!json);
        let star =
            parse(&["dashboard", "create", "--devices", "*", "--access", "read"]).expect("ok");
        assert!(matches!(
            star.command,
            Commands::Dashboard(DashboardCommand::Create {
                devices: DashboardScope::All,
                ..
            })
        ));
    }

    #[test]
    fn dashboard_create_rejects_bad_values() {
        for args in [
            &["dashboard", "create", "--devices", "a", "--access", "write"][..],
            &[
                "dashboard",
                "create",
                "--devices",
                "a,,b",
                "--access",
                "read",
            ],
            &[
                "dashboard",
                "create",
                "--devices",
                "a",
                "--access",
                "read",
                "--label",
                "x\ny",
            ],
            &["dashboard", "create", "--access", "read"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn rotate_takes_a_grace_period_that_defaults_to_zero() {
        let cli = parse(&["device", "rotate", "ems_001"]).expect("ok");
        let Commands::Device(DeviceCommand::Rotate {
            id,
            grace,
            json,
            token_file,
        }) = &cli.command
        else {
            panic!("wrong command");
        };
        assert_eq!(
            (id.as_str(), *grace, *json),
            ("ems_001", Duration::ZERO, false)
        );
        assert_eq!(token_file, &None);
        let args = [
            "device",
            "rotate",
            "a",
            "--grace",
            "1h30m",
            "--token-file",
            "new.token",
        ];
        let Commands::Device(DeviceCommand::Rotate {
            grace, token_file, ..
        }) = parse(&args).expect("ok").command
        else {
            panic!("wrong command");
        };
        assert_eq!(grace, Duration::from_secs(5400));
        assert_eq!(token_file, Some(PathBuf::from("new.token")));
        for bad in ["31d", "10x", "-1s"] {
            let grace = format!("--grace={bad}");
            let error = parse(&["device", "rotate", "a", &grace]).expect_err(bad);
            assert_eq!(error.kind(), ErrorKind::ValueValidation, "{bad}");
        }
    }

    #[test]
    fn list_show_disable_enable_and_revoke_parse() {
        let name = |args: &[&str]| parse(args).expect("ok").command.name();
        assert_eq!(name(&["device", "list", "--json"]), "device list");
        assert_eq!(name(&["device", "show", "a"]), "device show");
        assert_eq!(name(&["device", "disable", "a"]), "device disable");
        assert_eq!(name(&["device", "enable", "a", "--json"]), "device enable");
        assert_eq!(name(&["dashboard", "list"]), "dashboard list");
        assert_eq!(
            name(&["dashboard", "revoke", "dt_0123456789ab"]),
            "dashboard revoke"
        );
        assert_eq!(
            name(&["admin-token", "create", "--json"]),
            "admin-token create"
        );
        assert!(parse(&["device", "show"]).is_err());
        assert!(parse(&["device", "show", "a", "b"]).is_err());
        let bad_id = parse(&["dashboard", "revoke", "dt_XYZ"]).expect_err("bad id");
        assert_eq!(bad_id.kind(), ErrorKind::ValueValidation);
    }

    #[test]
    fn token_creating_commands_take_a_token_file() {
        let cli = parse(&["admin-token", "create", "--token-file", "admin.token"]).expect("ok");
        let Commands::AdminToken(AdminTokenCommand::Create { json, token_file }) = cli.command
        else {
            panic!("wrong command");
        };
        assert!(!json);
        assert_eq!(token_file, Some(PathBuf::from("admin.token")));
        let args = [
            "dashboard",
            "create",
            "--devices",
            "*",
            "--access",
            "read",
            "--token-file",
            "d",
        ];
        assert!(parse(&args).is_ok());
        assert!(parse(&["device", "create", "a", "--token-file", "t"]).is_ok());
        assert!(parse(&["device", "list", "--token-file", "t"]).is_err());
    }

    #[test]
    fn ids_token_ids_and_paths_never_echo_a_pasted_token() {
        let token =
            telemetry_protocol::generate_token(telemetry_protocol::TokenKind::Dashboard, |b| {
                b.fill(4)
            });
        for args in [
            vec!["device", "show", token.as_str()],
            vec!["device", "rotate", token.as_str()],
            vec!["device", "rotate", "a", "--grace", token.as_str()],
            vec!["dashboard", "revoke", token.as_str()],
            vec!["admin-token", "create", "--token-file", token.as_str()],
        ] {
            let error = parse(&args).expect_err("token refused");
            assert_eq!(error.kind(), ErrorKind::ValueValidation, "{args:?}");
            let shown = error.render().to_string();
            assert!(!shown.contains(&token[6..]), "{shown}");
        }
    }
}
