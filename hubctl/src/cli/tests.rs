//! Tests of the command line: global flags, hub selection, and what every command refuses before it runs.

use super::*;
use clap::CommandFactory;
use clap::error::ErrorKind;
use telemetry_protocol::{TokenKind, generate_token};

/// The environment with `hub_url`, and `token` as both the admin and the dashboard token.
fn env(hub_url: Option<&str>, token: Option<&str>) -> Environment {
    Environment {
        hub_url: hub_url.map(str::to_owned),
        admin_token: token.map(str::to_owned),
        dashboard_token: token.map(str::to_owned),
    }
}

#[test]
fn the_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn target_flags_work_anywhere_and_default_to_the_local_db() {
    let args = words("--remote device create a b-2 --json --database X");
    let cli = parse(&args).expect("ok");
    let Commands::Device(DeviceCommand::Create { ids, json, .. }) = &cli.command else {
        panic!("wrong command");
    };
    assert_eq!(
        ids.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        ["a", "b-2"]
    );
    assert!(*json);
    let wrangler = cli.target.wrangler_from(Path::new("/"));
    assert_eq!(
        (wrangler.target(), wrangler.database()),
        (&Target::Remote, "X")
    );
    let cli = parse(&words("token check -")).expect("ok");
    let wrangler = cli.target.wrangler_from(Path::new("/"));
    let local = Target::Local { persist_to: None };
    assert_eq!((wrangler.target(), wrangler.database()), (&local, "DB"));
    assert_eq!(cli.target.config, PathBuf::from("wrangler.toml"));
    assert_eq!(cli.target.default_schema(), PathBuf::from("schema.sql"));
    let args = words("schema apply --persist-to state --config conf/w.toml");
    let cli = parse(&args).expect("ok");
    let wrangler = cli.target.wrangler_from(Path::new("/"));
    let persisted = Target::Local {
        persist_to: Some("state".into()),
    };
    assert_eq!(wrangler.target(), &persisted);
    assert_eq!(
        cli.target.default_schema(),
        PathBuf::from("conf/schema.sql")
    );
    assert!(parse(&words("--local --remote schema apply")).is_err());
    assert!(parse(&words("--remote --persist-to d schema apply")).is_err());
}

#[test]
fn an_explicit_wrangler_path_wins() {
    let cli = parse(&words("--wrangler /opt/wrangler schema apply")).expect("ok");
    let wrangler = cli.target.wrangler_from(Path::new("/"));
    let input = crate::wrangler::SqlInput::Command("x".into());
    let command = wrangler.command(&input, Path::new("/"));
    assert_eq!(command.get_program(), "/opt/wrangler");
}

#[test]
fn hub_flags_work_anywhere_and_conflict_with_wrangler_targets() {
    let cli = parse(&words("device list --hub https://hub.example.com")).expect("ok");
    let hub = cli.hub.hub.as_ref().map(ToString::to_string);
    assert_eq!(hub.as_deref(), Some("https://hub.example.com"));
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
    let filed = parse(&words("--admin-token-file adm device list")).expect("ok");
    assert_eq!(filed.hub.admin_token_file, Some(PathBuf::from("adm")));
    assert!(parse(&words("--hub http://127.0.0.1:8787 device list")).is_ok());
    let error = parse(&words("--hub http://hub.example.com device list")).expect_err("clear");
    assert_eq!(error.kind(), ErrorKind::ValueValidation);
    assert!(error.to_string().contains("in clear"));
}

#[test]
fn hub_url_comes_from_the_flag_then_the_environment_unless_wrangler_is_named() {
    let hub = |line: &str, env: &Environment| {
        let cli = parse(&words(line)).expect("ok");
        let url = cli.hub.hub_url(&cli.target, env).expect("valid");
        url.map(|u| u.to_string())
    };
    let set = env(Some("https://env.example.com"), None);
    let from_env = Some("https://env.example.com".to_owned());
    let flag = Some("https://flag.example.com".to_owned());
    let cases = [
        ("device list", env(None, None), None),
        ("device list", env(Some("  "), None), None),
        ("device list", set.clone(), from_env),
        (
            "--hub https://flag.example.com device list",
            set.clone(),
            flag,
        ),
        ("--local device list", set.clone(), None),
        ("--remote device list", set.clone(), None),
        ("--persist-to s device list", set, None),
    ];
    for (line, env, expected) in cases {
        assert_eq!(hub(line, &env), expected, "{line}");
    }
    let cli = parse(&words("device list")).expect("ok");
    let bad = cli
        .hub
        .hub_url(&cli.target, &env(Some("http://hub.example.com"), None));
    assert!(matches!(bad, Err(HubctlError::InvalidHubUrl(_))));
}

#[test]
fn api_only_commands_say_they_need_a_hub() {
    let none = Environment::default();
    for (line, name) in [
        ("device list", "device list"),
        ("device show a", "device show"),
        ("device rotate a --grace 1h", "device rotate"),
        ("device disable a", "device disable"),
        ("device enable a", "device enable"),
        ("dashboard list", "dashboard list"),
        ("dashboard revoke dt_0123456789ab", "dashboard revoke"),
        ("--local device list", "device list"),
    ] {
        let error = run_args(&words(line), &none).expect_err("needs a hub");
        assert!(
            matches!(error, HubctlError::NeedsHub(n) if n == name),
            "{line}"
        );
        let shown = error.to_string();
        assert!(shown.contains("only works through the admin API: pass --hub URL"));
    }
    let hub_env = env(Some("https://hub.example.com"), None);
    let overridden = run_args(&words("--remote device list"), &hub_env).expect_err("wrangler");
    assert!(matches!(overridden, HubctlError::NeedsHub(_)));
}

#[test]
fn a_hub_needs_a_well_formed_admin_token_before_any_request() {
    let hub_env = env(Some("https://hub.example.com"), None);
    let missing = run_args(&words("device list"), &hub_env).expect_err("no token");
    assert!(matches!(missing, HubctlError::TokenMissing(_)));
    let device = generate_token(TokenKind::Device, |b| b.fill(1));
    let env = env(Some("https://hub.example.com"), Some(&device));
    let wrong = run_args(&words("dashboard list"), &env).expect_err("wrong kind");
    assert!(matches!(wrong, HubctlError::TokenFormatFrom { .. }));
    let shown = wrong.to_string();
    assert!(
        shown.contains("HUB_ADMIN_TOKEN") && !shown.contains(&device[5..]),
        "{shown}"
    );
    let debug = format!("{env:?}");
    assert!(!debug.contains(&device[5..]), "{debug}");
}

#[test]
fn flags_of_the_other_path_are_refused() {
    let none = Environment::default();
    let args = words("--admin-token-file adm device create a");
    let error = run_args(&args, &none).expect_err("wrangler path");
    let flag = "--admin-token-file";
    assert!(matches!(error, HubctlError::FlagNotApplicable { flag: f, .. } if f == flag));
    let args = words("--hub https://hub.example.com schema apply");
    let error = run_args(&args, &none).expect_err("schema is wrangler's");
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
    let error = run_args(&args, &Environment::default()).expect_err("two devices");
    assert!(matches!(error, HubctlError::TokenFileNeedsOneDevice));
    std::fs::write(path, "old").expect("write");
    let args = ["admin-token", "create", "--token-file", path];
    let error = run_args(&args, &Environment::default()).expect_err("exists");
    assert!(matches!(error, HubctlError::TokenFileExists(_)));
    assert_eq!(std::fs::read_to_string(path).expect("read"), "old");
}

#[test]
fn commands_parse_with_their_flags() {
    let create = words("dashboard create --devices * --access read");
    assert!(parse(&[&create[..], &["--token-file", "d"]].concat()).is_ok());
    assert!(parse(&words("device enable a --json")).is_ok());
    for line in [
        "device show",
        "device show a b",
        "device list --token-file t",
        "dashboard revoke dt_XYZ",
    ] {
        assert!(parse(&words(line)).is_err(), "{line}");
    }
}

#[test]
fn no_argument_takes_a_token_and_value_errors_never_echo_one() {
    let help = Cli::command().render_long_help().to_string();
    assert!(!help.contains("--admin-token "), "{help}");
    let token = generate_token(TokenKind::Dashboard, |b| b.fill(4));
    for line in [
        "device create {}",
        "dashboard create --access read --devices a,{}",
        "device show {}",
        "device rotate {}",
        "device rotate a --grace {}",
        "admin-token create --token-file {}",
        "--admin-token-file {} device list",
    ] {
        let line = line.replace("{}", &token);
        let error = parse(&words(&line)).expect_err("token refused");
        assert_eq!(error.kind(), ErrorKind::ValueValidation, "{line}");
        let shown = error.render().to_string();
        let says = if line.contains("--grace") {
            "invalid grace period"
        } else {
            "bearer token"
        };
        assert!(
            shown.contains(says) && !shown.contains(&token[6..]),
            "{shown}"
        );
    }
}
