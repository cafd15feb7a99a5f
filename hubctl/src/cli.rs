//! The command line: clap definitions and how the target flags become a [`Wrangler`].

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use clap::{Arg, Args, Parser, Subcommand};
use telemetry_protocol::DeviceId;

use crate::scope::{Access, DashboardScope, Label, parse_device_id};
use crate::wrangler::{Target, WranglerProgram};
use crate::{HubctlError, Wrangler};

/// Provisions devices and dashboard tokens of the telemetry hub in its D1 database, through wrangler.
///
/// Tokens are generated here from the OS random number generator and printed once; D1 receives only their
/// SHA-256 hashes. Nothing secret is passed on a command line or written to disk.
#[derive(Debug, Parser)]
#[command(name = "hubctl", version, about, long_about)]
pub struct Cli {
    /// Which database to use; these flags may come before or after the subcommand.
    #[command(flatten)]
    pub target: TargetArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Commands,
}

/// Where the D1 database is and how to run wrangler.
#[derive(Debug, Args)]
#[command(next_help_heading = "Target")]
pub struct TargetArgs {
    /// Use the local D1 database of `wrangler dev` (the default)
    #[arg(long, global = true, conflicts_with = "remote")]
    pub local: bool,
    /// Use the deployed D1 database (needs `wrangler login` or CLOUDFLARE_API_TOKEN)
    #[arg(long, global = true)]
    pub remote: bool,
    /// Local D1 state directory, passed to wrangler; use the same as `wrangler dev --persist-to`
    #[arg(long, value_name = "DIR", global = true, conflicts_with = "remote")]
    pub persist_to: Option<PathBuf>,
    /// D1 binding (or database name) in the wrangler config
    #[arg(long, value_name = "NAME", default_value = Wrangler::DEFAULT_DATABASE, global = true)]
    pub database: String,
    /// Wrangler config file; wrangler runs in its directory
    #[arg(
        long,
        value_name = "PATH",
        default_value = "wrangler.toml",
        global = true
    )]
    pub config: PathBuf,
    /// wrangler executable [default: node_modules/.bin/wrangler here or in a parent directory, else `npx wrangler`]
    #[arg(long, value_name = "PATH", env = "WRANGLER", global = true)]
    pub wrangler: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Devices (edge agents)
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Dashboard tokens
    #[command(subcommand)]
    Dashboard(DashboardCommand),
    /// Offline token checks
    #[command(subcommand)]
    Token(TokenCommand),
    /// The D1 schema
    #[command(subcommand)]
    Schema(SchemaCommand),
}

/// `hubctl device …`.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Create devices, all or none, and print each one's token once
    Create {
        /// Device ids: 1 to 64 characters of A-Z a-z 0-9 _ -
        #[arg(value_name = "ID", required = true, value_parser = Quiet(parse_device_id))]
        ids: Vec<DeviceId>,
        /// Print {"devices":[{"device_id":…,"token":…}]} instead of text
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
        /// Print {"token_id":…,"token":…,"devices":…,"access":…} instead of text
        #[arg(long)]
        json: bool,
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

/// A value parser whose errors never repeat the value (clap's own do), since a pasted token may be in it.
#[derive(Clone, Copy)]
struct Quiet<T>(fn(&str) -> Result<T, HubctlError>);

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Quiet<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let name = arg.map_or_else(|| "a value".to_owned(), |a| format!("'{a}'"));
        let fail = |why: &dyn std::fmt::Display| {
            cmd.clone()
                .error(ErrorKind::ValueValidation, format!("invalid {name}: {why}"))
        };
        let text = value.to_str().ok_or_else(|| fail(&"not valid UTF-8"))?;
        (self.0)(text).map_err(|error| fail(&error))
    }
}

impl TargetArgs {
    /// The wrangler these flags describe, with the program discovered from the current directory.
    pub fn wrangler(&self) -> Result<Wrangler, HubctlError> {
        Ok(self.wrangler_from(&std::env::current_dir()?))
    }

    /// The wrangler these flags describe, with the program discovered from `cwd` (no process is started).
    pub fn wrangler_from(&self, cwd: &Path) -> Wrangler {
        let program = match &self.wrangler {
            Some(path) => WranglerProgram::path(path),
            None => WranglerProgram::discover(cwd),
        };
        let target = if self.remote {
            Target::Remote
        } else {
            Target::Local {
                persist_to: self.persist_to.clone(),
            }
        };
        Wrangler::new(program, &self.config, &self.database, target)
    }

    /// `schema.sql` in the wrangler config's directory.
    pub fn default_schema(&self) -> PathBuf {
        let dir = self.config.parent().unwrap_or(Path::new(""));
        dir.join("schema.sql")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("hubctl").chain(args.iter().copied()))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn device_create_takes_ids_and_target_flags_anywhere() {
        let cli = parse(&[
            "--remote",
            "device",
            "create",
            "a",
            "b-2",
            "--json",
            "--database",
            "X",
        ])
        .expect("ok");
        let Commands::Device(DeviceCommand::Create { ids, json }) = &cli.command else {
            panic!("wrong command");
        };
        assert_eq!(
            ids.iter().map(DeviceId::as_str).collect::<Vec<_>>(),
            ["a", "b-2"]
        );
        assert!(*json && cli.target.remote);
        assert_eq!(cli.target.database, "X");
        let wrangler = cli.target.wrangler_from(Path::new("/"));
        assert_eq!(wrangler.target(), &Target::Remote);
        assert_eq!(wrangler.database(), "X");
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
    fn local_and_remote_conflict_and_persist_to_is_local_only() {
        assert!(parse(&["--local", "--remote", "schema", "apply"]).is_err());
        assert!(parse(&["--remote", "--persist-to", "d", "schema", "apply"]).is_err());
        let cli = parse(&[
            "schema",
            "apply",
            "--persist-to",
            "state",
            "--config",
            "conf/w.toml",
        ])
        .expect("ok");
        let wrangler = cli.target.wrangler_from(Path::new("/"));
        assert_eq!(
            wrangler.target(),
            &Target::Local {
                persist_to: Some("state".into())
            }
        );
        assert_eq!(
            cli.target.default_schema(),
            PathBuf::from("conf/schema.sql")
        );
    }

    #[test]
    fn defaults_are_local_db_and_wrangler_toml() {
        let cli = parse(&["token", "check", "-"]).expect("ok");
        assert!(!cli.target.remote);
        assert_eq!(cli.target.database, "DB");
        assert_eq!(cli.target.config, PathBuf::from("wrangler.toml"));
        assert_eq!(cli.target.default_schema(), PathBuf::from("schema.sql"));
        let Commands::Token(TokenCommand::Check { token }) = cli.command else {
            panic!("wrong command");
        };
        assert_eq!(token, "-");
    }

    #[test]
    fn an_explicit_wrangler_path_wins() {
        let cli = parse(&["--wrangler", "/opt/wrangler", "schema", "apply"]).expect("ok");
        let wrangler = cli.target.wrangler_from(Path::new("/"));
        let invocation = wrangler.invocation(
            &crate::wrangler::SqlInput::Command("x".into()),
            Path::new("/"),
        );
        assert_eq!(invocation.program, PathBuf::from("/opt/wrangler"));
    }
}
