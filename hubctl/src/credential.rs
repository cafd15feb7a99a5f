//! New credentials from the OS CSPRNG, and the SHA-256 hashes that are the only thing ever stored.

use std::fmt;

use sha2::{Digest, Sha256};
pub use telemetry_protocol::TokenId;
use telemetry_protocol::token::{TokenKind, generate_token};
use telemetry_protocol::token_id::TOKEN_ID_BYTES;

use crate::HubctlError;
use crate::scope::looks_like_token;

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

#[cfg(test)]
mod tests {
    use super::*;
    use telemetry_protocol::token::check_token_format;

    #[test]
    fn hashes_match_known_sha256_vectors() {
        assert_eq!(
            token_sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            token_sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_hash_is_64_lowercase_hex_and_not_the_token() {
        let token = new_token(TokenKind::Device).expect("random");
        let hash = TokenHash::of(&token);
        assert_eq!(hash.as_hex().len(), 64);
        assert!(
            hash.as_hex()
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert!(!hash.as_hex().contains(&token[5..20]));
    }

    #[test]
    fn new_tokens_are_well_formed_and_distinct() {
        for kind in TokenKind::ALL {
            let a = new_token(kind).expect("random");
            let b = new_token(kind).expect("random");
            assert_eq!(check_token_format(&a).expect("well-formed"), kind);
            assert_ne!(a, b);
        }
    }

    #[test]
    fn token_ids_are_dt_and_twelve_lowercase_hex() {
        let id = new_token_id().expect("random");
        assert_eq!(id.len(), 15);
        assert!(id.starts_with("dt_"));
        assert!(
            id[3..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(id, new_token_id().expect("random"));
    }

    #[test]
    fn token_ids_parse_only_in_their_own_shape() {
        let id = new_token_id().expect("random");
        assert_eq!(parse_token_id(&id).expect("valid").as_str(), id);
        for bad in [
            "",
            "dt_",
            "dt_0123456789a",
            "dt_0123456789ABC",
            "dt_0123456789AB",
            "xx_0123456789ab",
        ] {
            assert!(
                matches!(parse_token_id(bad), Err(HubctlError::InvalidTokenId)),
                "{bad:?}"
            );
        }
        let token = new_token(TokenKind::Dashboard).expect("random");
        let error = parse_token_id(&token).expect_err("a token is not an id");
        assert!(matches!(error, HubctlError::ArgumentLooksLikeToken(_)));
        assert!(!error.to_string().contains(&token[6..]));
    }
}
