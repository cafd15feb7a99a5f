//! `hubctl admin-token create`, and the admin token: loaded from `--admin-token-file` or `HUB_ADMIN_TOKEN`
//! (never from an argument), checked offline, and kept out of every `Debug` and error; new admin tokens come
//! with the hash the Worker stores.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;
use telemetry_protocol::token::{MAX_TOKEN_LEN, TokenKind, check_token_of_kind};

use crate::HubctlError;
use crate::cli::Quiet;
use crate::credential::{new_token, token_sha256_hex};
use crate::output::{Format, Output, Text};
use crate::token_file::parse_path;

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

impl AdminTokenCommand {
    /// `--json` and `--token-file`.
    pub fn format(&self) -> Format<'_> {
        let Self::Create { json, token_file } = self;
        Format::new(*json, token_file.as_deref())
    }

    /// Offline: a new token, made here.
    pub fn run(&self) -> Result<Output, HubctlError> {
        Ok(created(&NewAdminToken::generate()?))
    }
}

/// The new admin token once, its hash, and the commands that install the hash; as JSON `{"token":…,
/// "sha256":…}`.
fn created(new: &NewAdminToken) -> Output {
    let hash = &new.sha256;
    let text = Text::default()
        .token("admin token", &new.token)
        .plain(format!(
            "\nSHA-256 (the only thing the hub stores): {hash}\n\
         Install the hash on the deployed Worker:\n  printf %s {hash} | npx wrangler secret put \
         {ADMIN_HASH_SECRET}\nFor `wrangler dev`, put this line in .dev.vars instead:\n  \
         {ADMIN_HASH_SECRET}={hash}\nThen give hubctl the token through {ADMIN_TOKEN_ENV} or \
         --admin-token-file PATH, never as an argument.\n"
        ));
    Output::new(text, json!({"token": new.token, "sha256": hash}))
}

/// Environment variable that holds the admin token when no file is given.
pub const ADMIN_TOKEN_ENV: &str = "HUB_ADMIN_TOKEN";

/// Name of the Worker secret (or `.dev.vars` entry) that holds the admin token's SHA-256.
pub const ADMIN_HASH_SECRET: &str = "ADMIN_TOKEN_SHA256";

/// Most bytes read from an admin token file: a token, surrounding whitespace, and some slack.
const MAX_TOKEN_FILE_BYTES: u64 = (MAX_TOKEN_LEN * 4) as u64;

/// Where an admin token came from, to name it in messages instead of the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOrigin {
    /// The file given with `--admin-token-file`.
    File(PathBuf),
    /// The environment variable [`ADMIN_TOKEN_ENV`].
    Environment,
    /// A program that called [`crate::AdminClient::new`].
    Caller,
}

impl fmt::Display for TokenOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "--admin-token-file {}", path.display()),
            Self::Environment => f.write_str(ADMIN_TOKEN_ENV),
            Self::Caller => f.write_str("the caller"),
        }
    }
}

/// A well-formed admin token (`tadm_…`). Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct AdminToken(String);

impl AdminToken {
    /// Checks `raw` (surrounding whitespace ignored) offline: prefix, length and checksum of an admin token.
    pub fn parse(raw: &str, origin: &TokenOrigin) -> Result<Self, HubctlError> {
        let token = raw.trim();
        check_token_of_kind(token, TokenKind::Admin).map_err(|source| {
            HubctlError::AdminTokenFormat {
                origin: origin.to_string(),
                source,
            }
        })?;
        Ok(Self(token.to_owned()))
    }

    /// The token from `file` if given, else from `env_value` (the value of [`ADMIN_TOKEN_ENV`]).
    pub fn load(file: Option<&Path>, env_value: Option<&str>) -> Result<Self, HubctlError> {
        match (file, env_value) {
            (Some(path), _) => Self::parse(&read_file(path)?, &TokenOrigin::File(path.into())),
            (None, Some(value)) if !value.trim().is_empty() => {
                Self::parse(value, &TokenOrigin::Environment)
            }
            (None, _) => Err(HubctlError::AdminTokenMissing),
        }
    }

    /// The `Authorization` header value: `Bearer tadm_…`.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// The start of `path`, bounded, as text.
fn read_file(path: &Path) -> Result<String, HubctlError> {
    read_token_file(path).map_err(|source| HubctlError::AdminTokenFile {
        path: path.to_owned(),
        source,
    })
}

/// The start of a file that holds a token, bounded, as text.
pub(crate) fn read_token_file(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    File::open(path)?
        .take(MAX_TOKEN_FILE_BYTES)
        .read_to_string(&mut text)?;
    Ok(text)
}

/// A new admin token and the hash to install as [`ADMIN_HASH_SECRET`].
#[derive(Clone, PartialEq, Eq)]
pub struct NewAdminToken {
    /// The token (`tadm_…`); show it once, never store or log it.
    pub token: String,
    /// Lowercase hex SHA-256 of the token.
    pub sha256: String,
}

impl NewAdminToken {
    /// A token from the OS CSPRNG, with its hash.
    pub fn generate() -> Result<Self, HubctlError> {
        let token = new_token(TokenKind::Admin)?;
        let sha256 = token_sha256_hex(&token);
        Ok(Self { token, sha256 })
    }
}

impl fmt::Debug for NewAdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sha256 = &self.sha256;
        write!(f, "NewAdminToken {{ token: <redacted>, sha256: {sha256} }}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Environment, run_args};
    use crate::output::Delivery;
    use std::io::Write;
    use telemetry_protocol::{check_token_format, generate_token};

    fn admin_token_text(new: &NewAdminToken, delivery: Delivery<'_>) -> String {
        created(new).render(false, delivery)
    }

    fn admin_token_json(new: &NewAdminToken, delivery: Delivery<'_>) -> String {
        created(new).render(true, delivery)
    }

    fn hub_env() -> Environment {
        Environment {
            hub_url: Some("https://hub.example.com".into()),
            admin_token: None,
        }
    }

    #[test]
    fn admin_token_output_gives_the_hash_and_how_to_install_it() {
        let new = NewAdminToken {
            token: "tadm_x".into(),
            sha256: "ab12".into(),
        };
        let text = admin_token_text(&new, Delivery::Printed);
        assert!(text.starts_with("admin token (shown once, store it now): tadm_x\n"));
        assert!(text.contains("\n  printf %s ab12 | npx wrangler secret put ADMIN_TOKEN_SHA256\n"));
        assert!(text.contains("\n  ADMIN_TOKEN_SHA256=ab12\n"));
        assert_eq!(text.matches("tadm_x").count(), 1);
        assert_eq!(
            admin_token_json(&new, Delivery::Printed),
            "{\"token\":\"tadm_x\",\"sha256\":\"ab12\"}\n"
        );
        let filed = admin_token_json(&new, Delivery::File(Path::new("admin.token")));
        assert_eq!(
            filed,
            "{\"token_file\":\"admin.token\",\"sha256\":\"ab12\"}\n"
        );
    }

    #[test]
    fn admin_token_create_prints_the_token_once_with_its_hash() {
        let text = run_args(&["admin-token", "create"], &Environment::default()).expect("offline");
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
        let json = run_args(&["admin-token", "create", "--json"], &hub_env()).expect("offline");
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
        let json = run_args(&args, &Environment::default()).expect("offline");
        let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(value["token_file"], path_text);
        assert!(value.get("token").is_none());
        let token = std::fs::read_to_string(&path).expect("read");
        assert_eq!(value["sha256"], crate::token_sha256_hex(token.trim()));
        assert!(!json.contains(token.trim()));
    }

    fn admin_token() -> String {
        generate_token(TokenKind::Admin, |b| b.fill(5))
    }

    #[test]
    fn a_file_wins_over_the_environment_and_whitespace_is_ignored() {
        let token = admin_token();
        let other = generate_token(TokenKind::Admin, |b| b.fill(6));
        let mut file = tempfile::NamedTempFile::new().expect("tempfile");
        writeln!(file, "  {token}").expect("write");
        let loaded = AdminToken::load(Some(file.path()), Some(&other)).expect("valid");
        assert_eq!(loaded.bearer(), format!("Bearer {token}"));
        let from_env = AdminToken::load(None, Some(&format!("{other}\n"))).expect("valid");
        assert_eq!(from_env.bearer(), format!("Bearer {other}"));
    }

    #[test]
    fn missing_malformed_and_wrong_kind_tokens_are_named_by_origin_only() {
        assert!(matches!(
            AdminToken::load(None, None),
            Err(HubctlError::AdminTokenMissing)
        ));
        assert!(matches!(
            AdminToken::load(None, Some("  ")),
            Err(HubctlError::AdminTokenMissing)
        ));
        let device = generate_token(TokenKind::Device, |b| b.fill(5));
        let shown = AdminToken::load(None, Some(&device))
            .expect_err("a device token")
            .to_string();
        assert!(shown.starts_with(
            "the admin token from HUB_ADMIN_TOKEN is malformed: expected a admin token"
        ));
        assert!(!shown.contains(&device[5..]), "{shown}");
        let mut typo = admin_token();
        typo.replace_range(9..10, if &typo[9..10] == "a" { "b" } else { "a" });
        let shown = AdminToken::load(None, Some(&typo))
            .expect_err("typo")
            .to_string();
        assert!(
            shown.contains("checksum") && !shown.contains(&typo[5..]),
            "{shown}"
        );
        let missing = AdminToken::load(Some(Path::new("/nonexistent/admin")), None);
        assert!(matches!(missing, Err(HubctlError::AdminTokenFile { .. })));
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let token = admin_token();
        let parsed = AdminToken::parse(&token, &TokenOrigin::Caller).expect("valid");
        let fresh = NewAdminToken::generate().expect("random");
        let shown = format!("{parsed:?} {fresh:?}");
        assert!(!shown.contains(&token[5..]) && !shown.contains(&fresh.token[5..]));
        assert!(shown.contains(&fresh.sha256));
    }

    #[test]
    fn new_admin_tokens_are_well_formed_with_their_hash() {
        let fresh = NewAdminToken::generate().expect("random");
        assert_eq!(check_token_of_kind(&fresh.token, TokenKind::Admin), Ok(()));
        assert_eq!(fresh.sha256, token_sha256_hex(&fresh.token));
    }
}
