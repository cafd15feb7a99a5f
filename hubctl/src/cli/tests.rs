//! Tests of the command line: global flags, hub selection, and what every command refuses before it runs.

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
    let error = parse(&["--hub", "http://hub.example.com", "device", "list"]).expect_err("clear");
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
    assert!(matches!(missing, Err(HubctlError::TokenMissing(_))));
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

fn run_in(args: &[&str], env: &Environment) -> Result<String, HubctlError> {
    run_args(args, env)
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
    assert!(matches!(missing, HubctlError::TokenMissing(_)));
    let device = generate_token(TokenKind::Device, |b| b.fill(1));
    let env = Environment {
        admin_token: Some(device.clone()),
        ..hub_env()
    };
    let wrong = run_in(&["dashboard", "list"], &env).expect_err("wrong kind");
    assert!(matches!(wrong, HubctlError::TokenFormatFrom { .. }));
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
fn value_errors_never_echo_a_pasted_token() {
    let token =
        telemetry_protocol::generate_token(telemetry_protocol::TokenKind::Device, |b| b.fill(1));
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
    let Commands::AdminToken(AdminTokenCommand::Create { json, token_file }) = cli.command else {
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
        telemetry_protocol::generate_token(telemetry_protocol::TokenKind::Dashboard, |b| b.fill(4));
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
