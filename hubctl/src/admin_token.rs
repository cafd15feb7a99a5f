//! `hubctl admin-token create`, and the admin token: loaded through [`TokenSource::ADMIN`] (never from an
//! argument), checked offline, and kept out of every `Debug` and error; new admin tokens come with the hash the
//! Worker stores.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;
use telemetry_protocol::token::TokenKind;

use crate::HubctlError;
use crate::credential::{TokenSource, new_token, token_sha256_hex};
use crate::output::{Format, Output, Text};
use crate::quiet::Quiet;
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
    let env = TokenSource::ADMIN.env;
    let text = Text::default()
        .token("admin token", &new.token)
        .plain(format!(
            "\nSHA-256 (the only thing the hub stores): {hash}\n\
         Install the hash on the deployed Worker:\n  printf %s {hash} | npx wrangler secret put \
         {ADMIN_HASH_SECRET}\nFor `wrangler dev`, put this line in .dev.vars instead:\n  \
         {ADMIN_HASH_SECRET}={hash}\nThen give hubctl the token through {env} or \
         --admin-token-file PATH, never as an argument.\n"
        ));
    Output::new(text, json!({"token": new.token, "sha256": hash}))
}

/// Name of the Worker secret (or `.dev.vars` entry) that holds the admin token's SHA-256.
pub const ADMIN_HASH_SECRET: &str = "ADMIN_TOKEN_SHA256";

/// A well-formed admin token (`tadm_…`). Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct AdminToken(String);

impl AdminToken {
    /// Checks `raw` (surrounding whitespace ignored) offline: prefix, length and checksum of an admin token;
    /// `origin` names where it came from in an error.
    pub fn parse(raw: &str, origin: &str) -> Result<Self, HubctlError> {
        TokenSource::ADMIN.check(raw, origin).map(Self)
    }

    /// The token from `file` if given, else from `env_value` (the value of `HUB_ADMIN_TOKEN`).
    pub fn load(file: Option<&Path>, env_value: Option<&str>) -> Result<Self, HubctlError> {
        TokenSource::ADMIN.load(file, env_value).map(Self)
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
    use crate::cli::{Environment, run_args, words};
    use crate::output::Delivery;
    use telemetry_protocol::check_token_format;

    #[test]
    fn admin_token_output_gives_the_hash_and_how_to_install_it() {
        let new = NewAdminToken {
            token: "tadm_x".into(),
            sha256: "ab12".into(),
        };
        let text = created(&new).render(false, Delivery::Printed);
        assert!(text.starts_with("admin token (shown once, store it now): tadm_x\n"));
        assert!(text.contains("\n  printf %s ab12 | npx wrangler secret put ADMIN_TOKEN_SHA256\n"));
        assert!(text.contains("\n  ADMIN_TOKEN_SHA256=ab12\n"));
        assert_eq!(text.matches("tadm_x").count(), 1);
        let json = |delivery| created(&new).render(true, delivery);
        assert_eq!(
            json(Delivery::Printed),
            "{\"token\":\"tadm_x\",\"sha256\":\"ab12\"}\n"
        );
        assert_eq!(
            json(Delivery::File(Path::new("admin.token"))),
            "{\"token_file\":\"admin.token\",\"sha256\":\"ab12\"}\n"
        );
    }

    #[test]
    fn admin_token_create_prints_a_new_token_once_with_its_hash() {
        let text =
            run_args(&words("admin-token create"), &Environment::default()).expect("offline");
        let line = text.lines().next().expect("first line");
        let token = line.rsplit(' ').next().expect("token");
        assert_eq!(check_token_format(token), Ok(TokenKind::Admin));
        let hash = token_sha256_hex(token);
        assert!(text.contains(&format!("\n  ADMIN_TOKEN_SHA256={hash}\n")));
        assert_eq!(text.matches(token).count(), 1);
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
        assert_eq!(value["sha256"], token_sha256_hex(token.trim()));
        assert!(!json.contains(token.trim()));
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let fresh = NewAdminToken::generate().expect("random");
        let parsed = AdminToken::parse(&fresh.token, "the caller").expect("valid");
        let shown = format!("{parsed:?} {fresh:?}");
        assert!(!shown.contains(&fresh.token[5..]));
        assert!(shown.contains(&fresh.sha256));
    }
}
