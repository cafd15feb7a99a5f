//! The device's bearer token, held so that it cannot be printed by accident.
//!
//! `Debug` and `Display` show `[redacted]`; the only way to the text is [`ApiToken::expose`], used in exactly
//! one place: building the `Authorization` header of the handshake. The token never goes into a URL.

use std::fmt;

use telemetry_protocol::{TokenFormatError, TokenKind, check_token_of_kind};

/// A device token (`tdev_…`), checked offline for shape and checksum.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Checks `raw` (surrounding whitespace is ignored) and wraps it. The error never contains the token.
    pub fn parse(raw: &str) -> Result<Self, TokenFormatError> {
        let token = raw.trim();
        check_token_of_kind(token, TokenKind::Device)?;
        Ok(Self(token.to_owned()))
    }

    /// The token's text, for the `Authorization: Bearer` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken([redacted])")
    }
}

impl fmt::Display for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use telemetry_protocol::generate_token;

    fn token(kind: TokenKind) -> String {
        let mut n = 0u8;
        generate_token(kind, |buf| {
            for b in buf {
                n = n.wrapping_add(37);
                *b = n;
            }
        })
    }

    #[test]
    fn a_device_token_parses_and_never_prints() {
        let raw = token(TokenKind::Device);
        let parsed = ApiToken::parse(&format!("  {raw}\n")).expect("valid");
        assert_eq!(parsed.expose(), raw);
        assert_eq!(parsed.to_string(), "[redacted]");
        assert_eq!(format!("{parsed:?}"), "ApiToken([redacted])");
        assert!(!format!("{:?}", Some(&parsed)).contains(&raw[5..20]));
    }

    #[test]
    fn other_kinds_and_typos_are_refused_without_echoing() {
        let dashboard = token(TokenKind::Dashboard);
        let error = ApiToken::parse(&dashboard).expect_err("wrong kind");
        assert!(!error.to_string().contains(&dashboard[6..20]));
        let mut typo = token(TokenKind::Device);
        typo.replace_range(10..11, if &typo[10..11] == "a" { "b" } else { "a" });
        assert_eq!(
            ApiToken::parse(&typo).err(),
            Some(TokenFormatError::ChecksumMismatch)
        );
    }
}
