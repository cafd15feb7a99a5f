//! The token's precedence, the checks on a token file, and both through the real loader.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;

use telemetry_protocol::{TokenKind, generate_token};
use tempfile::TempDir;

use super::*;
use crate::config::{AgentConfig, ConfigFile};

fn token(seed: u8) -> String {
    let mut n = seed;
    generate_token(TokenKind::Device, |buf| {
        for b in buf {
            n = n.wrapping_mul(29).wrapping_add(11);
            *b = n;
        }
    })
}

/// Writes `text` to `name` in `dir` with `mode`, and returns its path.
fn token_file(dir: &TempDir, name: &str, text: &str, mode: u32) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write the token file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

fn inputs(file: Option<&str>, credential: Option<&str>, inline: Option<&str>) -> TokenInputs {
    TokenInputs {
        file: file.map(PathBuf::from),
        credential: credential.map(PathBuf::from),
        inline: inline.map(str::to_owned),
        inline_from_env: true,
    }
}

#[test]
fn the_file_wins_over_the_credential_which_wins_over_the_environment() {
    let (choice, warnings) = choose(&inputs(Some("/f"), Some("/c"), Some("t"))).expect("chosen");
    assert_eq!(choice, Choice::File("/f".into()));
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("credential /c is ignored"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].starts_with("API_TOKEN is set too and ignored"),
        "{warnings:?}"
    );

    let (choice, warnings) = choose(&inputs(None, Some("/c"), None)).expect("chosen");
    assert_eq!(
        (choice, warnings),
        (Choice::Credential("/c".into()), vec![])
    );

    let (choice, warnings) = choose(&inputs(None, None, Some("t"))).expect("chosen");
    assert_eq!(choice, Choice::Inline(TokenSource::Environment));
    assert!(
        warnings[0].contains("processes of the same user can read"),
        "{warnings:?}"
    );

    let from_file = TokenInputs {
        inline_from_env: false,
        ..inputs(None, None, Some("t"))
    };
    let (choice, warnings) = choose(&from_file).expect("chosen");
    assert_eq!(
        (choice, warnings),
        (Choice::Inline(TokenSource::ConfigFile), vec![])
    );
}

#[test]
fn no_token_anywhere_names_every_place_it_may_come_from() {
    let message = choose(&inputs(None, None, None))
        .expect_err("missing")
        .to_string();
    for part in [
        "api_token (API_TOKEN)",
        "missing",
        "api_token_file",
        "LoadCredential=",
    ] {
        assert!(message.contains(part), "{message}");
    }
}

#[test]
fn a_token_file_is_read_with_its_trailing_newline_trimmed() {
    let dir = tempfile::tempdir().expect("scratch");
    let raw = token(1);
    let path = token_file(&dir, "api_token", &format!("{raw}\n"), 0o600);
    let (parsed, origin) =
        resolve(&inputs(Some(path.to_str().expect("utf-8")), None, None)).expect("read");
    assert_eq!(parsed.expose(), raw);
    assert_eq!(
        origin,
        TokenOrigin {
            source: TokenSource::File(path),
            warnings: vec![]
        }
    );
    let credential = token_file(&dir, "credential", &raw, 0o400);
    let (parsed, origin) = resolve(&inputs(None, credential.to_str(), None)).expect("read");
    assert_eq!(parsed.expose(), raw);
    assert_eq!(origin.source, TokenSource::Credential(credential));
}

#[test]
fn a_file_readable_by_others_is_used_with_a_warning() {
    let dir = tempfile::tempdir().expect("scratch");
    let raw = token(2);
    for (mode, warned) in [
        (0o600, false),
        (0o640, false),
        (0o440, false),
        (0o644, true),
        (0o660, true),
    ] {
        let path = token_file(&dir, "api_token", &raw, mode);
        let (_, origin) = resolve(&inputs(path.to_str(), None, None)).expect("read");
        assert_eq!(
            origin.warnings.len(),
            usize::from(warned),
            "{mode:o}: {origin:?}"
        );
        if warned {
            let warning = &origin.warnings[0];
            assert!(
                warning.contains(&format!("mode {mode:04o}")) && warning.contains("chmod 600"),
                "{warning}"
            );
            assert!(!warning.contains(&raw[5..]), "{warning}");
        }
    }
}

#[test]
fn unusable_files_are_refused_naming_the_file_and_never_the_content() {
    let dir = tempfile::tempdir().expect("scratch");
    let raw = token(3);
    let mut typo = raw.clone();
    typo.replace_range(12..13, if &raw[12..13] == "a" { "b" } else { "a" });
    let cases = [
        (token_file(&dir, "empty", "\n", 0o600), "is empty"),
        (
            token_file(&dir, "typo", &format!("{typo}\n"), 0o600),
            "does not hold a device token",
        ),
        (
            token_file(&dir, "big", &"x".repeat(5000), 0o600),
            "5000 bytes",
        ),
        (dir.path().join("missing"), "cannot read"),
        (dir.path().to_path_buf(), "not a regular file"),
    ];
    for (path, why) in cases {
        let message = resolve(&inputs(path.to_str(), None, None))
            .expect_err("refused")
            .to_string();
        assert!(
            message.starts_with("config key api_token_file (API_TOKEN_FILE): "),
            "{message}"
        );
        assert!(
            message.contains(&path.display().to_string()) && message.contains(why),
            "{message}"
        );
        assert!(
            !message.contains(&typo[5..]) && !message.contains(&raw[5..]),
            "{message}"
        );
    }
}

#[test]
fn the_credential_counts_only_when_its_file_exists() {
    let dir = tempfile::tempdir().expect("scratch");
    let directory = dir.path().to_str().expect("utf-8");
    assert_eq!(credential_in(Some(directory)), None);
    let path = token_file(&dir, CREDENTIAL_NAME, &token(4), 0o400);
    assert_eq!(credential_in(Some(directory)), Some(path));
    assert_eq!(credential_in(Some("")), None);
    assert_eq!(credential_in(None), None);
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    [
        ("DEVICE_ID", "ems_001"),
        ("SERVER_URL", "wss://hub.example.workers.dev"),
    ]
    .iter()
    .chain(pairs)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn the_loader_reads_the_file_from_every_place_it_may_be_named() {
    let dir = tempfile::tempdir().expect("scratch");
    let raw = token(5);
    let path = token_file(&dir, "api_token", &format!("{raw}\n"), 0o600);
    let named = path.to_str().expect("utf-8");
    let config_file = dir.path().join("config.toml");
    std::fs::write(&config_file, format!("api_token_file = {named:?}\n")).expect("write config");
    for (file, vars) in [
        (ConfigFile::None, env(&[("API_TOKEN_FILE", named)])),
        (ConfigFile::None, env(&[("EDGE_API_TOKEN_FILE", named)])),
        (ConfigFile::Required(config_file.clone()), env(&[])),
        (
            ConfigFile::None,
            env(&[("CREDENTIALS_DIRECTORY", dir.path().to_str().expect("utf-8"))]),
        ),
    ] {
        let config = AgentConfig::load(&file, vars).expect("loads");
        assert_eq!(config.api_token.expose(), raw);
        assert!(
            config.api_token_origin.warnings.is_empty(),
            "{:?}",
            config.api_token_origin
        );
    }
}

#[test]
fn with_a_file_and_api_token_the_file_wins_with_a_warning() {
    let dir = tempfile::tempdir().expect("scratch");
    let (in_file, in_env) = (token(6), token(7));
    let path = token_file(&dir, "api_token", &in_file, 0o600);
    let vars = env(&[
        ("API_TOKEN_FILE", path.to_str().expect("utf-8")),
        ("API_TOKEN", &in_env),
    ]);
    let config = AgentConfig::load(&ConfigFile::None, vars).expect("loads");
    assert_eq!(config.api_token.expose(), in_file);
    let warnings = config.api_token_origin.warnings.join("\n");
    assert!(
        warnings.contains("API_TOKEN is set too and ignored"),
        "{warnings}"
    );
    assert!(
        !warnings.contains(&in_env[5..]) && !warnings.contains(&in_file[5..]),
        "{warnings}"
    );
}

#[test]
fn a_missing_file_stops_the_loader_naming_it() {
    let vars = env(&[("API_TOKEN_FILE", "/nonexistent/api_token")]);
    let message = AgentConfig::load(&ConfigFile::None, vars)
        .expect_err("refused")
        .to_string();
    assert!(
        message.contains("api_token_file") && message.contains("/nonexistent/api_token"),
        "{message}"
    );
}
