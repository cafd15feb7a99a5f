//! Public ids of dashboard tokens: `dt_` and 12 lowercase hex digits. An id names a token (in listings, logs
//! and revocations) without revealing it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Prefix of every dashboard token id.
pub const TOKEN_ID_PREFIX: &str = "dt_";

/// Random bytes behind a token id; written as twice as many hex digits.
pub const TOKEN_ID_BYTES: usize = 6;

/// Length of a token id: the prefix and 12 hex digits.
pub const TOKEN_ID_LEN: usize = TOKEN_ID_PREFIX.len() + 2 * TOKEN_ID_BYTES;

/// A validated dashboard token id, such as `dt_0123456789ab`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenId(String);

/// Why a string is not a token id. The message never repeats the text (a token may have been pasted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTokenId;

impl fmt::Display for InvalidTokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a token id is dt_ followed by 12 lowercase hex digits")
    }
}

impl std::error::Error for InvalidTokenId {}

impl TokenId {
    /// Checks the shape of `raw`, exactly as given (no trimming).
    pub fn parse(raw: &str) -> Result<Self, InvalidTokenId> {
        let hex = raw.strip_prefix(TOKEN_ID_PREFIX).ok_or(InvalidTokenId)?;
        let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if hex.len() == 2 * TOKEN_ID_BYTES && hex.bytes().all(lower_hex) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidTokenId)
        }
    }

    /// The id of the random `bytes` (the caller draws them from a CSPRNG; this crate stays free of `rand`).
    pub fn from_random_bytes(bytes: [u8; TOKEN_ID_BYTES]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = String::with_capacity(TOKEN_ID_LEN);
        id.push_str(TOKEN_ID_PREFIX);
        for byte in bytes {
            id.push(char::from(HEX[usize::from(byte >> 4)]));
            id.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Self(id)
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TokenId {
    type Error = InvalidTokenId;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<TokenId> for String {
    fn from(id: TokenId) -> Self {
        id.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for TokenId {
    type Err = InvalidTokenId;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl AsRef<str> for TokenId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dt_and_twelve_lowercase_hex() {
        let id = TokenId::from_random_bytes([0x01, 0x23, 0x45, 0x67, 0x89, 0xab]);
        assert_eq!(id.as_str(), "dt_0123456789ab");
        assert_eq!(id.as_str().len(), TOKEN_ID_LEN);
        assert_eq!(TokenId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(id.to_string().parse::<TokenId>(), Ok(id));
    }

    #[test]
    fn other_shapes_are_refused() {
        for bad in [
            "",
            "dt_",
            "dt_0123456789a",
            "dt_0123456789abc",
            "dt_0123456789AB",
            "xx_0123456789ab",
            " dt_0123456789ab",
            "dt_01234567 9ab",
        ] {
            assert_eq!(TokenId::parse(bad), Err(InvalidTokenId), "{bad:?}");
        }
    }

    #[test]
    fn deserialising_validates() {
        let ok: TokenId = serde_json::from_str("\"dt_0123456789ab\"").expect("valid id");
        assert_eq!(ok.as_str(), "dt_0123456789ab");
        assert!(serde_json::from_str::<TokenId>("\"dt_nothex000000\"").is_err());
    }
}
