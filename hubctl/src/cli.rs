//! The command line: the global flags, how they and the environment select the [`Hub`] (the admin API with a
//! [`HubUrl`] and an [`AdminToken`], or wrangler), and [`run_with`], which hands each command group its
//! arguments and prints the [`Output`](crate::output::Output) it returns.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

pub use crate::admin_token::AdminTokenCommand;
pub use crate::dashboard::DashboardCommand;
pub use crate::device::DeviceCommand;
pub use crate::schema::SchemaCommand;
pub use crate::token::TokenCommand;

use crate::admin_token::AdminToken;
use crate::credential::TokenSource;
use crate::hub::Hub;
use crate::hub_url::HubUrl;
use crate::output::Format;
use crate::quiet::Quiet;
use crate::sql::WranglerHub;
use crate::token_file::{TokenFile, parse_path};
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

/// What a command runs with: the parsed command line and the environment.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The command line.
    pub cli: &'a Cli,
    /// The variables hubctl reads.
    pub env: &'a Environment,
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
    /// `DASHBOARD_TOKEN`, for `dashboard watch`.
    pub dashboard_token: Option<String>,
}

impl Environment {
    /// The variables of this process.
    pub fn from_process() -> Self {
        Self {
            hub_url: std::env::var(HUB_URL_ENV).ok(),
            admin_token: std::env::var(TokenSource::ADMIN.env).ok(),
            dashboard_token: std::env::var(TokenSource::DASHBOARD.env).ok(),
        }
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hub_url = &self.hub_url;
        let redacted = |token: &Option<String>| token.as_ref().map(|_| "<redacted>");
        let (admin_token, dashboard_token) =
            (redacted(&self.admin_token), redacted(&self.dashboard_token));
        write!(
            f,
            "Environment {{ hub_url: {hub_url:?}, admin_token: {admin_token:?}, dashboard_token: \
             {dashboard_token:?} }}"
        )
    }
}

impl Commands {
    /// How the output is printed; checked before anything runs.
    fn format(&self) -> Result<Format<'_>, HubctlError> {
        match self {
            Self::Device(command) => command.format(),
            Self::Dashboard(command) => Ok(command.format()),
            Self::AdminToken(command) => Ok(command.format()),
            Self::Token(_) | Self::Schema(_) => Ok(Format::default()),
        }
    }
}

/// Runs `cli` with this process's environment, reading a `-` token from `stdin` and printing to `out`
/// (`dashboard watch` uses the process's own standard input and output).
pub fn run(cli: &Cli, stdin: &mut dyn Read, out: &mut dyn Write) -> Result<(), HubctlError> {
    run_with(cli, &Environment::from_process(), stdin, out)
}

/// Runs `cli` with the variables in `env`: the token file is reserved first, so a bad path fails before any
/// credential exists; then the command runs and its output is printed.
pub fn run_with(
    cli: &Cli,
    env: &Environment,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    let format = cli.command.format()?;
    let file = format.token_file.map(TokenFile::reserve).transpose()?;
    let context = Context { cli, env };
    let output = match &cli.command {
        Commands::Device(command) => command.run(&context)?,
        Commands::Dashboard(command) => command.run(&context)?,
        Commands::AdminToken(command) => command.run()?,
        Commands::Token(command) => command.run(stdin)?,
        Commands::Schema(command) => command.run(&context)?,
    };
    output.print(format.json, file, out)
}

impl Context<'_> {
    /// The hub whose admin API to use, if any (see [`HubArgs::hub_url`]).
    pub fn hub_url(&self) -> Result<Option<HubUrl>, HubctlError> {
        self.cli.hub.hub_url(&self.cli.target, self.env)
    }

    /// The admin API if a hub is given, with the admin token from `--admin-token-file`, else `HUB_ADMIN_TOKEN`;
    /// else wrangler, for `command`.
    pub fn hub(&self, command: &'static str) -> Result<Box<dyn Hub>, HubctlError> {
        match self.hub_url()? {
            Some(hub) => {
                let file = self.cli.hub.admin_token_file.as_deref();
                let token = AdminToken::load(file, self.env.admin_token.as_deref())?;
                Ok(Box::new(AdminClient::with_token(hub, token)))
            }
            None => Ok(Box::new(WranglerHub {
                wrangler: self.cli.target.wrangler()?,
                admin_token_file: self.cli.hub.admin_token_file.is_some(),
                command,
            })),
        }
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

/// Parses `args`, the words after `hubctl` (test support).
#[cfg(test)]
pub(crate) fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("hubctl").chain(args.iter().copied()))
}

/// The words of a command line written as one string, none of which holds a space (test support).
#[cfg(test)]
pub(crate) fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Runs `args` with `env` and no standard input; what it printed (test support).
#[cfg(test)]
pub(crate) fn run_args(args: &[&str], env: &Environment) -> Result<String, HubctlError> {
    let mut out = Vec::new();
    run_with(
        &parse(args).expect("parses"),
        env,
        &mut "".as_bytes(),
        &mut out,
    )?;
    Ok(String::from_utf8(out).expect("utf-8"))
}

#[cfg(test)]
mod tests;
