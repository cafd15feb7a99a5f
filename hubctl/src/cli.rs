//! The command line: the global flags, and how they and the environment select the admin API (a [`HubUrl`]
//! and an [`AdminToken`]) or wrangler (a [`Wrangler`]). The subcommands are in [`crate::commands`].

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use clap::{Arg, Args, Parser};

pub use crate::commands::{
    AdminTokenCommand, Commands, DashboardCommand, DeviceCommand, SchemaCommand, TokenCommand,
};

use crate::admin_token::{ADMIN_TOKEN_ENV, AdminToken};
use crate::hub_url::HubUrl;
use crate::token_file::parse_path;
use crate::wrangler::{Target, WranglerProgram};
use crate::{AdminClient, HubctlError, Wrangler};

/// Environment variable that selects the admin API when no wrangler target flag is given.
pub const HUB_URL_ENV: &str = "HUB_URL";

/// Provisions devices, dashboard tokens and admin tokens of the telemetry hub.
///
/// With --hub URL (or HUB_URL) hubctl uses the hub's admin API over HTTPS, authenticated with the admin token
/// from HUB_ADMIN_TOKEN or --admin-token-file. Without it, it writes the D1 database through wrangler: the
/// local database of `wrangler dev` by default, the deployed one with --remote.
///
/// New tokens come from the OS random number generator and are printed once, or written to a new file with
/// --token-file; the hub stores only their SHA-256 hashes. No token is ever taken as an argument.
#[derive(Debug, Parser)]
#[command(name = "hubctl", version, about, long_about)]
pub struct Cli {
    /// Which database to use through wrangler; these flags may come before or after the subcommand.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Which hub's admin API to use instead, and its admin token.
    #[command(flatten)]
    pub hub: HubArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Commands,
}

/// Where the D1 database is and how to run wrangler.
#[derive(Debug, Args)]
#[command(next_help_heading = "Target")]
pub struct TargetArgs {
    /// Use the local D1 database of `wrangler dev` (the default when no hub is given)
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

/// The hub's admin API and its admin token; flags of the same name work before or after the subcommand.
#[derive(Debug, Args)]
#[command(next_help_heading = "Admin API")]
pub struct HubArgs {
    /// Use the admin API of the hub at URL instead of wrangler [env: HUB_URL, unless --local, --remote or
    /// --persist-to is given]. https:// except on loopback: http://127.0.0.1:8787 for `wrangler dev`
    #[arg(
        long,
        value_name = "URL",
        global = true,
        value_parser = Quiet(HubUrl::parse),
        conflicts_with_all = ["local", "remote", "persist_to"]
    )]
    pub hub: Option<HubUrl>,
    /// File holding the admin token (tadm_…) [default: the HUB_ADMIN_TOKEN environment variable]
    #[arg(long, value_name = "PATH", global = true, value_parser = Quiet(parse_path))]
    pub admin_token_file: Option<PathBuf>,
}

/// The environment variables hubctl reads itself rather than through clap, so that flags can override them
/// and the admin token can never appear in help text. Its `Debug` hides the token.
#[derive(Clone, Default)]
pub struct Environment {
    /// `HUB_URL`.
    pub hub_url: Option<String>,
    /// `HUB_ADMIN_TOKEN`.
    pub admin_token: Option<String>,
}

/// A value parser whose errors never repeat the value (clap's own do), since a pasted token may be in it.
#[derive(Clone, Copy)]
pub(crate) struct Quiet<T>(pub(crate) fn(&str) -> Result<T, HubctlError>);

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

impl Environment {
    /// The variables of this process.
    pub fn from_process() -> Self {
        Self {
            hub_url: std::env::var(HUB_URL_ENV).ok(),
            admin_token: std::env::var(ADMIN_TOKEN_ENV).ok(),
        }
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hub_url = &self.hub_url;
        let admin_token = self.admin_token.as_ref().map(|_| "<redacted>");
        write!(
            f,
            "Environment {{ hub_url: {hub_url:?}, admin_token: {admin_token:?} }}"
        )
    }
}

impl HubArgs {
    /// The hub whose admin API to use: `--hub`, else `HUB_URL` unless a wrangler target flag was given.
    /// `None` means wrangler.
    pub fn hub_url(
        &self,
        target: &TargetArgs,
        env: &Environment,
    ) -> Result<Option<HubUrl>, HubctlError> {
        if let Some(hub) = &self.hub {
            // clap misses this conflict when the flags sit on different sides of the subcommand.
            if target.names_wrangler() {
                return Err(HubctlError::HubAndWrangler);
            }
            return Ok(Some(hub.clone()));
        }
        let from_env = env.hub_url.as_deref().map(str::trim);
        match from_env.filter(|url| !url.is_empty()) {
            Some(_) if target.names_wrangler() => Ok(None),
            Some(url) => HubUrl::parse(url).map(Some),
            None => Ok(None),
        }
    }

    /// A client of `hub` with the admin token from `--admin-token-file`, else `HUB_ADMIN_TOKEN`.
    pub fn client(&self, hub: HubUrl, env: &Environment) -> Result<AdminClient, HubctlError> {
        let file = self.admin_token_file.as_deref();
        let token = AdminToken::load(file, env.admin_token.as_deref())?;
        Ok(AdminClient::with_token(hub, token))
    }
}

impl TargetArgs {
    /// Whether a flag that selects wrangler's database was given (it overrides `HUB_URL`).
    pub fn names_wrangler(&self) -> bool {
        self.local || self.remote || self.persist_to.is_some()
    }

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
    use telemetry_protocol::DeviceId;
    use telemetry_protocol::{TokenKind, generate_token};

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("hubctl").chain(args.iter().copied()))
    }

    fn env(hub_url: Option<&str>, admin_token: Option<&str>) -> Environment {
        Environment {
            hub_url: hub_url.map(str::to_owned),
            admin_token: admin_token.map(str::to_owned),
        }
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
        let Commands::Device(DeviceCommand::Create { ids, json, .. }) = &cli.command else {
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
    #[test]
    fn hub_flags_work_anywhere_and_conflict_with_wrangler_targets() {
        let cli = parse(&["device", "list", "--hub", "https://hub.example.com"]).expect("ok");
        assert_eq!(
            cli.hub.hub.as_ref().map(ToString::to_string).as_deref(),
            Some("https://hub.example.com")
        );
        for target in [&["--local"][..], &["--remote"], &["--persist-to", "s"]] {
            let mut before = vec!["--hub", "https://hub.example.com"];
            before.extend_from_slice(target);
            before.extend(["device", "list"]);
            let error = parse(&before).expect_err("conflict");
            assert_eq!(error.kind(), ErrorKind::ArgumentConflict, "{target:?}");
            let mut after = vec!["--hub", "https://hub.example.com", "device", "list"];
            after.extend_from_slice(target);
            let cli = parse(&after).expect("clap misses it");
            let error = cli.hub.hub_url(&cli.target, &Environment::default());
            assert!(
                matches!(error, Err(HubctlError::HubAndWrangler)),
                "{target:?}"
            );
        }
        let filed = parse(&["--admin-token-file", "adm", "device", "list"]).expect("ok");
        assert_eq!(filed.hub.admin_token_file, Some(PathBuf::from("adm")));
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        assert!(parse(&["--hub", "http://127.0.0.1:8787", "device", "list"]).is_ok());
        let error =
            parse(&["--hub", "http://hub.example.com", "device", "list"]).expect_err("clear");
        assert_eq!(error.kind(), ErrorKind::ValueValidation);
        assert!(error.to_string().contains("in clear"));
    }

    #[test]
    fn hub_url_comes_from_the_flag_then_the_environment_unless_wrangler_is_named() {
        let hub = |args: &[&str], env: &Environment| {
            let cli = parse(args).expect("ok");
            let url = cli.hub.hub_url(&cli.target, env).expect("valid");
            url.map(|u| u.to_string())
        };
        let set = env(Some("https://env.example.com"), None);
        assert_eq!(hub(&["device", "list"], &env(None, None)), None);
        assert_eq!(
            hub(&["device", "list"], &set).as_deref(),
            Some("https://env.example.com")
        );
        let flag = ["--hub", "https://flag.example.com", "device", "list"];
        assert_eq!(
            hub(&flag, &set).as_deref(),
            Some("https://flag.example.com")
        );
        for target in ["--local", "--remote"] {
            assert_eq!(hub(&[target, "device", "list"], &set), None);
        }
        assert_eq!(hub(&["--persist-to", "s", "device", "list"], &set), None);
        assert_eq!(hub(&["device", "list"], &env(Some("  "), None)), None);
        let cli = parse(&["device", "list"]).expect("ok");
        let bad = cli
            .hub
            .hub_url(&cli.target, &env(Some("http://hub.example.com"), None));
        assert!(matches!(bad, Err(HubctlError::InvalidHubUrl(_))));
    }

    #[test]
    fn the_admin_token_comes_from_a_file_or_the_environment_and_is_checked_offline() {
        let token = generate_token(TokenKind::Admin, |b| b.fill(2));
        let cli = parse(&["--hub", "https://hub.example.com", "device", "list"]).expect("ok");
        let hub = || HubUrl::parse("https://hub.example.com").expect("valid");
        assert!(cli.hub.client(hub(), &env(None, Some(&token))).is_ok());
        let missing = cli.hub.client(hub(), &env(None, None));
        assert!(matches!(missing, Err(HubctlError::AdminTokenMissing)));
        let device = generate_token(TokenKind::Device, |b| b.fill(2));
        let wrong = cli.hub.client(hub(), &env(None, Some(&device)));
        let shown = wrong.expect_err("wrong kind").to_string();
        assert!(
            shown.contains("HUB_ADMIN_TOKEN") && !shown.contains(&device[5..]),
            "{shown}"
        );
        let debug = format!("{:?}", env(None, Some(&token)));
        assert!(!debug.contains(&token[5..]), "{debug}");
    }

    #[test]
    fn there_is_no_way_to_pass_the_admin_token_as_a_value() {
        let token = generate_token(TokenKind::Admin, |b| b.fill(3));
        let help = Cli::command().render_long_help().to_string();
        assert!(!help.contains("--admin-token "), "{help}");
        for args in [
            vec!["--admin-token", token.as_str(), "device", "list"],
            vec!["--hub", token.as_str(), "device", "list"],
            vec!["--admin-token-file", token.as_str(), "device", "list"],
            vec!["device", "list", token.as_str()],
        ] {
            let error = parse(&args).expect_err("refused");
            let shown = crate::redact::redact_tokens(&error.render().to_string());
            assert!(!shown.contains(&token[5..]), "{args:?}: {shown}");
        }
    }
}
