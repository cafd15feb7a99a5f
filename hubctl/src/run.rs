//! Carries out a parsed command line: through the admin API when a hub is given, else through wrangler, or
//! offline; then prints the result.

use std::io::{Read, Write};
use std::path::Path;

use telemetry_protocol::DeviceId;
use telemetry_protocol::token::{MAX_TOKEN_LEN, check_token_format};

use crate::admin_token::NewAdminToken;
use crate::api_commands;
use crate::cli::{
    AdminTokenCommand, Cli, Commands, DashboardCommand, DeviceCommand, Environment, SchemaCommand,
    TokenCommand,
};
use crate::output::{self, Delivery, emit};
use crate::scope::{Access, DashboardScope, Label};
use crate::token_file::create_with;
use crate::{AdminClient, HubctlError, Wrangler};

/// Where provisioning happens.
enum Backend {
    /// The hub's admin API.
    Api(AdminClient),
    /// The D1 database, through wrangler.
    Wrangler(Wrangler),
}

/// Runs `cli` with this process's environment, reading a `-` token from `stdin` and printing to `out`.
pub fn run(cli: &Cli, stdin: &mut dyn Read, out: &mut dyn Write) -> Result<(), HubctlError> {
    run_with(cli, &Environment::from_process(), stdin, out)
}

/// Runs `cli` with the variables in `env`.
pub fn run_with(
    cli: &Cli,
    env: &Environment,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    match &cli.command {
        Commands::Device(command) => device(cli, env, command, out),
        Commands::Dashboard(command) => dashboard(cli, env, command, out),
        Commands::AdminToken(AdminTokenCommand::Create { json, token_file }) => {
            create_admin_token(*json, token_file.as_deref(), out)
        }
        Commands::Token(TokenCommand::Check { token }) => emit(out, &check_token(token, stdin)?),
        Commands::Schema(SchemaCommand::Apply { file }) => apply_schema(cli, file.as_deref(), out),
    }
}

/// `device …`: create on either path, everything else through the API only.
fn device(
    cli: &Cli,
    env: &Environment,
    command: &DeviceCommand,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    match command {
        DeviceCommand::Create {
            ids,
            json,
            token_file,
        } => create_devices(&backend(cli, env)?, ids, *json, token_file.as_deref(), out),
        DeviceCommand::List { json } => {
            api_commands::list_devices(&api_client(cli, env)?, *json, out)
        }
        DeviceCommand::Show { id, json } => {
            api_commands::show_device(&api_client(cli, env)?, id, *json, out)
        }
        DeviceCommand::Rotate {
            id,
            grace,
            json,
            token_file,
        } => {
            let client = api_client(cli, env)?;
            let file = token_file.as_deref();
            api_commands::rotate_device(&client, id, *grace, *json, file, out)
        }
        DeviceCommand::Disable { id, json } => {
            api_commands::set_disabled(&api_client(cli, env)?, id, true, *json, out)
        }
        DeviceCommand::Enable { id, json } => {
            api_commands::set_disabled(&api_client(cli, env)?, id, false, *json, out)
        }
    }
}

/// `dashboard …`: create on either path, list and revoke through the API only.
fn dashboard(
    cli: &Cli,
    env: &Environment,
    command: &DashboardCommand,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    match command {
        DashboardCommand::Create {
            devices,
            access,
            label,
            json,
            token_file,
        } => {
            let new = NewDashboardToken {
                scope: devices,
                access: *access,
                label: label.as_ref(),
            };
            create_dashboard_token(&backend(cli, env)?, &new, *json, token_file.as_deref(), out)
        }
        DashboardCommand::List { json } => {
            api_commands::list_dashboard_tokens(&api_client(cli, env)?, *json, out)
        }
        DashboardCommand::Revoke { token_id, json } => {
            api_commands::revoke_dashboard_token(&api_client(cli, env)?, token_id, *json, out)
        }
    }
}

/// The admin API if a hub is given (then the admin token is required), else wrangler.
fn backend(cli: &Cli, env: &Environment) -> Result<Backend, HubctlError> {
    match cli.hub.hub_url(&cli.target, env)? {
        Some(hub) => Ok(Backend::Api(cli.hub.client(hub, env)?)),
        None if cli.hub.admin_token_file.is_some() => Err(HubctlError::FlagNotApplicable {
            flag: "--admin-token-file",
            why: "without --hub (or HUB_URL) this command runs through wrangler",
        }),
        None => Ok(Backend::Wrangler(cli.target.wrangler()?)),
    }
}

/// The admin API client, or an error saying that this command needs one.
fn api_client(cli: &Cli, env: &Environment) -> Result<AdminClient, HubctlError> {
    match cli.hub.hub_url(&cli.target, env)? {
        Some(hub) => cli.hub.client(hub, env),
        None => Err(HubctlError::NeedsHub(cli.command.name())),
    }
}

/// `device create` on either path; `--token-file` takes the token of exactly one device.
fn create_devices(
    backend: &Backend,
    ids: &[DeviceId],
    json: bool,
    token_file: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    if token_file.is_some() && ids.len() != 1 {
        return Err(HubctlError::TokenFileNeedsOneDevice);
    }
    match backend {
        Backend::Api(client) => api_commands::create_devices(client, ids, json, token_file, out),
        Backend::Wrangler(wrangler) => {
            // With a token file there is exactly one device.
            let create = || wrangler.create_devices(ids);
            let (devices, written) = create_with(token_file, create, |devices| {
                devices.first().map_or("", |device| device.token.as_str())
            })?;
            emit(
                out,
                &output::devices(&devices, Delivery::of(written.as_deref()), json),
            )
        }
    }
}

/// What `dashboard create` asks for.
struct NewDashboardToken<'a> {
    scope: &'a DashboardScope,
    access: Access,
    label: Option<&'a Label>,
}

/// `dashboard create` on either path.
fn create_dashboard_token(
    backend: &Backend,
    new: &NewDashboardToken<'_>,
    json: bool,
    token_file: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    let label = new.label.map(Label::as_str);
    let create = || match backend {
        Backend::Api(client) => client.create_dashboard_token(new.scope, new.access, label),
        Backend::Wrangler(w) => w.create_dashboard_token(new.scope, new.access, label),
    };
    let (created, written) = create_with(token_file, create, |c| c.token.as_str())?;
    let delivery = Delivery::of(written.as_deref());
    let text = if json {
        output::dashboard_json(&created, new.scope, new.access, label, delivery)
    } else {
        output::dashboard_text(&created, new.scope, new.access, delivery)
    };
    emit(out, &text)
}

/// `admin-token create`: offline; the token once (or into `--token-file`), its hash and how to install it.
fn create_admin_token(
    json: bool,
    token_file: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    let (new, written) = create_with(token_file, NewAdminToken::generate, |n| n.token.as_str())?;
    let delivery = Delivery::of(written.as_deref());
    if json {
        emit(out, &output::admin_token_json(&new, delivery))
    } else {
        emit(out, &output::admin_token_text(&new, delivery))
    }
}

/// `schema apply`: through wrangler only.
fn apply_schema(cli: &Cli, file: Option<&Path>, out: &mut dyn Write) -> Result<(), HubctlError> {
    if cli.hub.hub.is_some() {
        return Err(HubctlError::FlagNotApplicable {
            flag: "--hub",
            why: "the schema is applied through wrangler (--local or --remote)",
        });
    }
    let wrangler = cli.target.wrangler()?;
    let schema = file.map_or_else(|| cli.target.default_schema(), Path::to_owned);
    wrangler.apply_schema(&schema)?;
    emit(
        out,
        &output::schema_text(wrangler.target(), wrangler.database()),
    )
}

/// `token check`: the argument, or for `-` the first line of `stdin`, checked offline.
fn check_token(argument: &str, stdin: &mut dyn Read) -> Result<String, HubctlError> {
    let kind = if argument == "-" {
        check_token_format(&read_token(stdin)?)?
    } else {
        check_token_format(argument.trim())?
    };
    Ok(output::token_check_text(kind))
}

/// The token on `stdin`, without surrounding whitespace; reads a bounded amount.
fn read_token(stdin: &mut dyn Read) -> Result<String, HubctlError> {
    let mut raw = String::new();
    let limit = u64::try_from(MAX_TOKEN_LEN * 4).unwrap_or(u64::MAX);
    stdin.take(limit).read_to_string(&mut raw)?;
    Ok(raw.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use telemetry_protocol::{TokenFormatError, TokenKind, generate_token};

    fn check(args: &[&str], stdin: &str) -> Result<String, HubctlError> {
        let cli = Cli::try_parse_from(args).expect("parses");
        let mut out = Vec::new();
        run(&cli, &mut stdin.as_bytes(), &mut out)?;
        Ok(String::from_utf8(out).expect("utf-8"))
    }

    fn run_in(args: &[&str], env: &Environment) -> Result<String, HubctlError> {
        let cli = Cli::try_parse_from(std::iter::once("hubctl").chain(args.iter().copied()))
            .expect("parses");
        let mut out = Vec::new();
        run_with(&cli, env, &mut "".as_bytes(), &mut out)?;
        Ok(String::from_utf8(out).expect("utf-8"))
    }

    fn hub_env() -> Environment {
        Environment {
            hub_url: Some("https://hub.example.com".into()),
            admin_token: None,
        }
    }

    #[test]
    fn api_only_commands_say_they_need_a_hub() {
        let none = Environment::default();
        for (args, name) in [
            (&["device", "list"][..], "device list"),
            (&["device", "show", "a"], "device show"),
            (&["device", "rotate", "a", "--grace", "1h"], "device rotate"),
            (&["device", "disable", "a"], "device disable"),
            (&["device", "enable", "a"], "device enable"),
            (&["dashboard", "list"], "dashboard list"),
            (
                &["dashboard", "revoke", "dt_0123456789ab"],
                "dashboard revoke",
            ),
            (&["--local", "device", "list"], "device list"),
        ] {
            let error = run_in(args, &none).expect_err("needs a hub");
            assert!(
                matches!(error, HubctlError::NeedsHub(n) if n == name),
                "{args:?}"
            );
            assert!(
                error
                    .to_string()
                    .contains("only works through the admin API: pass --hub URL")
            );
        }
        let overridden = run_in(&["--remote", "device", "list"], &hub_env()).expect_err("wrangler");
        assert!(matches!(overridden, HubctlError::NeedsHub(_)));
    }

    #[test]
    fn a_hub_needs_a_well_formed_admin_token_before_any_request() {
        let missing = run_in(&["device", "list"], &hub_env()).expect_err("no token");
        assert!(matches!(missing, HubctlError::AdminTokenMissing));
        let device = generate_token(TokenKind::Device, |b| b.fill(1));
        let env = Environment {
            admin_token: Some(device.clone()),
            ..hub_env()
        };
        let wrong = run_in(&["dashboard", "list"], &env).expect_err("wrong kind");
        assert!(matches!(wrong, HubctlError::AdminTokenFormat { .. }));
        assert!(!wrong.to_string().contains(&device[5..]));
    }

    #[test]
    fn flags_of_the_other_path_are_refused() {
        let none = Environment::default();
        let args = ["--admin-token-file", "adm", "device", "create", "a"];
        let error = run_in(&args, &none).expect_err("wrangler path");
        assert!(matches!(
            error,
            HubctlError::FlagNotApplicable {
                flag: "--admin-token-file",
                ..
            }
        ));
        let args = ["--hub", "https://hub.example.com", "schema", "apply"];
        let error = run_in(&args, &none).expect_err("schema is wrangler's");
        assert!(matches!(
            error,
            HubctlError::FlagNotApplicable { flag: "--hub", .. }
        ));
    }

    #[test]
    fn a_token_file_takes_one_device_and_is_checked_before_anything_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t");
        let path = path.to_str().expect("utf-8");
        let args = ["device", "create", "a", "b", "--token-file", path];
        let error = run_in(&args, &Environment::default()).expect_err("two devices");
        assert!(matches!(error, HubctlError::TokenFileNeedsOneDevice));
        std::fs::write(path, "old").expect("write");
        let args = ["admin-token", "create", "--token-file", path];
        let error = run_in(&args, &Environment::default()).expect_err("exists");
        assert!(matches!(error, HubctlError::TokenFileExists(_)));
        assert_eq!(std::fs::read_to_string(path).expect("read"), "old");
    }

    #[test]
    fn admin_token_create_prints_the_token_once_with_its_hash() {
        let text = run_in(&["admin-token", "create"], &Environment::default()).expect("offline");
        let token = text
            .lines()
            .next()
            .and_then(|l| l.rsplit(' ').next())
            .expect("token");
        assert_eq!(check_token_format(token), Ok(TokenKind::Admin));
        let hash = crate::token_sha256_hex(token);
        assert!(text.contains(&format!(
            "printf %s {hash} | npx wrangler secret put ADMIN_TOKEN_SHA256"
        )));
        assert!(text.contains(&format!("\n  ADMIN_TOKEN_SHA256={hash}\n")));
        assert_eq!(text.matches(token).count(), 1);
        let json = run_in(&["admin-token", "create", "--json"], &hub_env()).expect("offline");
        let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let token = value["token"].as_str().expect("token");
        assert_eq!(value["sha256"], crate::token_sha256_hex(token));
    }

    #[test]
    fn admin_token_create_can_write_the_token_to_a_file_instead() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("admin.token");
        let path_text = path.to_str().expect("utf-8");
        let args = ["admin-token", "create", "--json", "--token-file", path_text];
        let json = run_in(&args, &Environment::default()).expect("offline");
        let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(value["token_file"], path_text);
        assert!(value.get("token").is_none());
        let token = std::fs::read_to_string(&path).expect("read");
        assert_eq!(value["sha256"], crate::token_sha256_hex(token.trim()));
        assert!(!json.contains(token.trim()));
    }

    #[test]
    fn token_check_reads_the_argument_or_stdin() {
        let token = generate_token(TokenKind::Device, |b| b.fill(3));
        let shown = check(&["hubctl", "token", "check", &token], "").expect("valid");
        assert!(shown.starts_with("device token"));
        assert!(!shown.contains(&token[5..]));
        let piped =
            check(&["hubctl", "token", "check", "-"], &format!("{token}\n")).expect("valid");
        assert_eq!(piped, shown);
    }

    #[test]
    fn token_check_reports_a_typo_without_the_token() {
        let mut token = generate_token(TokenKind::Dashboard, |b| b.fill(9));
        token.replace_range(10..11, if &token[10..11] == "a" { "b" } else { "a" });
        let error = check(&["hubctl", "token", "check", "-"], &token).expect_err("typo");
        assert!(matches!(
            error,
            HubctlError::TokenFormat(TokenFormatError::ChecksumMismatch)
        ));
        assert!(!error.to_string().contains(&token[6..]));
    }
}
