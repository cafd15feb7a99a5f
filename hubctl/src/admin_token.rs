//! The admin token: loaded from `--admin-token-file` or `HUB_ADMIN_TOKEN` (never from an argument), checked
//! offline, and kept out of every `Debug` and error; and new admin tokens with the hash the Worker stores.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use telemetry_protocol::token::{MAX_TOKEN_LEN, TokenKind, check_token_of_kind};

use crate::HubctlError;
use crate::credential::{new_token, token_sha256_hex};

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
    let failed = |source| HubctlError::AdminTokenFile {
        path: path.to_owned(),
        source,
    };
    let mut text = String::new();
    File::open(path)
        .and_then(|file| file.take(MAX_TOKEN_FILE_BYTES).read_to_string(&mut text))
        .map_err(failed)?;
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
    use std::io::Write;
    use telemetry_protocol::generate_token;

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
