//! Credentials: new ones from the OS CSPRNG, the SHA-256 hashes that are the only thing ever stored, and
//! existing tokens loaded from a file or an environment variable (never from an argument) and checked offline.

use std::fmt;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};
pub use telemetry_protocol::TokenId;
use telemetry_protocol::token::{MAX_TOKEN_LEN, TokenKind, check_token_of_kind, generate_token};
use telemetry_protocol::token_id::TOKEN_ID_BYTES;

use crate::HubctlError;
use crate::scope::looks_like_token;

/// Most bytes read from a token file or standard input: a token, surrounding whitespace, and some slack.
const MAX_TOKEN_INPUT_BYTES: u64 = (MAX_TOKEN_LEN * 4) as u64;

/// Lowercase hex SHA-256 of a token: the form stored in D1. Built only by hashing, so SQL that is given a
/// `TokenHash` can never hold the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    /// Hashes the whole token string.
    pub fn of(token: &str) -> Self {
        Self(hex::encode(Sha256::digest(token.as_bytes())))
    }

    /// The 64 lowercase hex characters.
    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({})", self.0)
    }
}

/// Lowercase hex SHA-256 of the whole token string, as stored in `token_sha256` columns.
pub fn token_sha256_hex(token: &str) -> String {
    TokenHash::of(token).0
}

/// A new token of `kind` from the OS CSPRNG.
pub fn new_token(kind: TokenKind) -> Result<String, HubctlError> {
    let mut failure = None;
    let token = generate_token(kind, |buf| {
        if let Err(error) = getrandom::fill(buf) {
            failure.get_or_insert(error);
        }
    });
    match failure {
        Some(error) => Err(HubctlError::Randomness(error)),
        None => Ok(token),
    }
}

/// A new public dashboard token id: `dt_` and 12 lowercase hex characters from the OS CSPRNG.
pub fn new_token_id() -> Result<String, HubctlError> {
    let mut bytes = [0u8; TOKEN_ID_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(TokenId::from_random_bytes(bytes).into())
}

/// Parses a dashboard token's public id (`dt_` and 12 lowercase hex characters) typed by a person; the error
/// never repeats the text (a token may have been pasted).
pub fn parse_token_id(raw: &str) -> Result<TokenId, HubctlError> {
    let raw = raw.trim();
    if looks_like_token(raw) {
        return Err(HubctlError::ArgumentLooksLikeToken("token id"));
    }
    TokenId::parse(raw).map_err(|_| HubctlError::InvalidTokenId)
}

/// Where a command finds an existing token: the file of a flag if given, else an environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSource {
    /// The kind of token expected.
    pub kind: TokenKind,
    /// The environment variable read when no file is given.
    pub env: &'static str,
    /// The flag that names a file holding the token.
    pub flag: &'static str,
}

impl TokenSource {
    /// The admin token: `--admin-token-file` or `HUB_ADMIN_TOKEN`.
    pub const ADMIN: Self = Self {
        kind: TokenKind::Admin,
        env: "HUB_ADMIN_TOKEN",
        flag: "--admin-token-file",
    };

    /// `dashboard watch`'s token: `--dashboard-token-file` or `DASHBOARD_TOKEN`.
    pub const DASHBOARD: Self = Self {
        kind: TokenKind::Dashboard,
        env: "DASHBOARD_TOKEN",
        flag: "--dashboard-token-file",
    };

    /// The token from `file` if given, else from `env_value` (the value of [`TokenSource::env`]), checked
    /// offline. Errors name where it came from, never the token.
    pub fn load(
        &self,
        file: Option<&Path>,
        env_value: Option<&str>,
    ) -> Result<String, HubctlError> {
        match (file, env_value) {
            (Some(path), _) => {
                let raw = std::fs::File::open(path).and_then(|mut file| read_token(&mut file));
                let raw = raw.map_err(|source| HubctlError::TokenFileRead {
                    kind: self.kind,
                    path: path.to_owned(),
                    source,
                })?;
                self.check(&raw, &format!("{} {}", self.flag, path.display()))
            }
            (None, Some(value)) if !value.trim().is_empty() => self.check(value, self.env),
            (None, _) => Err(HubctlError::TokenMissing(*self)),
        }
    }

    /// `raw` without surrounding whitespace if it is a well-formed token of this kind; `origin` names it.
    pub fn check(&self, raw: &str, origin: &str) -> Result<String, HubctlError> {
        let token = raw.trim();
        check_token_of_kind(token, self.kind).map_err(|source| HubctlError::TokenFormatFrom {
            kind: self.kind,
            origin: origin.to_owned(),
            source,
        })?;
        Ok(token.to_owned())
    }
}

/// The start of `input` (a token file or standard input), bounded, as text without surrounding whitespace.
pub(crate) fn read_token(input: &mut dyn Read) -> std::io::Result<String> {
    let mut text = String::new();
    input
        .take(MAX_TOKEN_INPUT_BYTES)
        .read_to_string(&mut text)?;
    Ok(text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use telemetry_protocol::token::check_token_format;

    #[test]
    fn hashes_match_known_sha256_vectors_and_never_hold_the_token() {
        assert_eq!(
            token_sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let token = new_token(TokenKind::Device).expect("random");
        let hash = TokenHash::of(&token);
        assert_eq!(hash.as_hex(), token_sha256_hex(&token));
        assert!(!hash.as_hex().contains(&token[5..20]));
    }

    #[test]
    fn new_tokens_and_ids_are_well_formed_and_distinct() {
        for kind in TokenKind::ALL {
            let a = new_token(kind).expect("random");
            assert_eq!(check_token_format(&a).expect("well-formed"), kind);
            assert_ne!(a, new_token(kind).expect("random"));
        }
        let id = new_token_id().expect("random");
        assert_eq!(parse_token_id(&id).expect("valid").as_str(), id);
        assert_ne!(id, new_token_id().expect("random"));
    }

    #[test]
    fn a_token_is_not_a_token_id() {
        assert!(matches!(
            parse_token_id("dt_0123456789AB"),
            Err(HubctlError::InvalidTokenId)
        ));
        let token = new_token(TokenKind::Dashboard).expect("random");
        let error = parse_token_id(&token).expect_err("a token is not an id");
        assert!(matches!(error, HubctlError::ArgumentLooksLikeToken(_)));
        assert!(!error.to_string().contains(&token[6..]));
    }

    #[test]
    fn a_file_wins_over_the_environment_and_whitespace_is_ignored() {
        let token = new_token(TokenKind::Admin).expect("random");
        let other = new_token(TokenKind::Admin).expect("random");
        let mut file = tempfile::NamedTempFile::new().expect("tempfile");
        writeln!(file, "  {token}").expect("write");
        let admin = TokenSource::ADMIN;
        assert_eq!(
            admin.load(Some(file.path()), Some(&other)).ok(),
            Some(token)
        );
        let from_env = admin.load(None, Some(&format!("{other}\n")));
        assert_eq!(from_env.ok(), Some(other));
    }

    #[test]
    fn missing_malformed_and_wrong_kind_tokens_are_named_by_origin_only() {
        let admin = TokenSource::ADMIN;
        for env in [None, Some("  ")] {
            let missing = admin.load(None, env).expect_err("missing").to_string();
            assert_eq!(
                missing,
                "no admin token: set HUB_ADMIN_TOKEN or pass --admin-token-file PATH"
            );
        }
        let device = new_token(TokenKind::Device).expect("random");
        let shown = admin.load(None, Some(&device)).expect_err("a device token");
        let shown = shown.to_string();
        assert!(shown.starts_with(
            "the admin token from HUB_ADMIN_TOKEN is malformed: expected a admin token"
        ));
        assert!(!shown.contains(&device[5..]), "{shown}");
        let mut typo = new_token(TokenKind::Admin).expect("random");
        typo.replace_range(9..10, if &typo[9..10] == "a" { "b" } else { "a" });
        let shown = admin.load(None, Some(&typo)).expect_err("typo").to_string();
        assert!(
            shown.contains("checksum") && !shown.contains(&typo[5..]),
            "{shown}"
        );
        let missing = TokenSource::DASHBOARD.load(Some(Path::new("/nonexistent/t")), None);
        let shown = missing.expect_err("no file").to_string();
        assert!(shown.starts_with("cannot read the dashboard token file /nonexistent/t: "));
    }
}
