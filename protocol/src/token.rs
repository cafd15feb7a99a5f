//! Bearer token format: `<prefix>_<43 base62 chars><6 base62 chars of CRC-32>`, generated and checked offline.
//!
//! The body carries 43 · log2(62) ≈ 256.03 bits drawn from randomness the caller supplies (this crate stays
//! free of `rand`). The checksum lets a client, the CLI or the hub reject a mistyped or truncated token
//! without any lookup. Nothing here ever puts a token's text into an error message.

use std::fmt;

/// The 62 characters a token body and checksum are written in, in digit order: `0-9A-Za-z`.
pub const TOKEN_ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Random characters in a token body: 43 base62 characters carry at least 256 bits.
pub const TOKEN_BODY_LEN: usize = 43;

/// Base62 digits of the CRC-32 checksum that ends a token (62^6 > 2^32).
pub const TOKEN_CHECKSUM_LEN: usize = 6;

/// Separator between a token's prefix and its body.
pub const TOKEN_SEPARATOR: char = '_';

/// Length of everything after the separator: body and checksum.
pub const TOKEN_TAIL_LEN: usize = TOKEN_BODY_LEN + TOKEN_CHECKSUM_LEN;

/// Length of the longest token of any kind (a dashboard token), for bounding what a reader accepts.
pub const MAX_TOKEN_LEN: usize = TokenKind::Dashboard.token_len();

/// Random bytes at or above this value are rejected, so `byte % 62` is uniform (248 = 4 · 62).
const ACCEPT_BELOW: u8 = 248;

/// Random bytes requested from the caller's source at a time.
const RANDOM_CHUNK: usize = 64;

/// What a token grants, as told by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A device (edge agent) credential: `tdev_…`.
    Device,
    /// A dashboard credential, scoped to devices with read or control access: `tdash_…`.
    Dashboard,
    /// An administrator credential: `tadm_…`.
    Admin,
}

impl TokenKind {
    /// Every kind.
    pub const ALL: [TokenKind; 3] = [TokenKind::Device, TokenKind::Dashboard, TokenKind::Admin];

    /// The prefix before the separator: `tdev`, `tdash` or `tadm`.
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Device => "tdev",
            Self::Dashboard => "tdash",
            Self::Admin => "tadm",
        }
    }

    /// The kind whose prefix is exactly `prefix`.
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.prefix() == prefix)
    }

    /// Total length of a token of this kind, in bytes (all ASCII).
    pub const fn token_len(self) -> usize {
        self.prefix().len() + 1 + TOKEN_TAIL_LEN
    }

    /// A lowercase word for messages: `device`, `dashboard` or `admin`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::Dashboard => "dashboard",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a well-formed token. No variant holds, and no message shows, any of the token's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFormatError {
    /// The text before the first `_` is not `tdev`, `tdash` or `tadm` (or there is no `_`).
    UnknownPrefix,
    /// The token is well-formed but of another kind than the one expected here.
    WrongKind {
        /// The kind this place accepts.
        expected: TokenKind,
        /// The kind the token's prefix names.
        found: TokenKind,
    },
    /// The part after the prefix does not have [`TOKEN_TAIL_LEN`] characters.
    WrongLength {
        /// Characters found after the separator.
        found: usize,
    },
    /// A character after the prefix is outside `0-9A-Za-z`.
    BadCharacter {
        /// 1-based position of the first offending character in the whole token.
        position: usize,
    },
    /// The checksum does not match the body: the token was mistyped or damaged.
    ChecksumMismatch,
}

impl fmt::Display for TokenFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownPrefix => f.write_str("token does not start with tdev_, tdash_ or tadm_"),
            Self::WrongKind { expected, found } => write!(
                f,
                "expected a {expected} token ({}_), got a {found} token ({}_)",
                expected.prefix(),
                found.prefix()
            ),
            Self::WrongLength { found } => write!(
                f,
                "token has {found} characters after its prefix, expected {TOKEN_TAIL_LEN}"
            ),
            Self::BadCharacter { position } => write!(
                f,
                "token has a character outside 0-9, A-Z, a-z at position {position}"
            ),
            Self::ChecksumMismatch => {
                f.write_str("token checksum does not match: it was mistyped or damaged")
            }
        }
    }
}

impl std::error::Error for TokenFormatError {}

/// Generates a token of `kind` from random bytes that `fill_random` writes into the slices it is given.
///
/// `fill_random` must be a cryptographically secure source (the OS CSPRNG in production). Each body character
/// is drawn uniformly from [`TOKEN_ALPHABET`] by rejection sampling: a byte `b < 248` gives `b % 62`, any
/// other byte is discarded. Slices are zeroed before each call, so a source that writes nothing still ends.
pub fn generate_token(kind: TokenKind, mut fill_random: impl FnMut(&mut [u8])) -> String {
    let mut token = String::with_capacity(kind.token_len());
    token.push_str(kind.prefix());
    token.push(TOKEN_SEPARATOR);
    let mut chunk = [0u8; RANDOM_CHUNK];
    let mut drawn = 0;
    while drawn < TOKEN_BODY_LEN {
        chunk.fill(0);
        fill_random(&mut chunk);
        for &byte in chunk.iter().filter(|&&b| b < ACCEPT_BELOW) {
            if drawn == TOKEN_BODY_LEN {
                break;
            }
            token.push(char::from(TOKEN_ALPHABET[usize::from(byte % 62)]));
            drawn += 1;
        }
    }
    let checksum = encode_checksum(crc32(token.as_bytes()));
    token.extend(checksum.iter().map(|&b| char::from(b)));
    token
}

/// Checks a token's prefix, length, alphabet and checksum, offline; returns the kind its prefix names.
pub fn check_token_format(token: &str) -> Result<TokenKind, TokenFormatError> {
    let (prefix, tail) = token
        .split_once(TOKEN_SEPARATOR)
        .ok_or(TokenFormatError::UnknownPrefix)?;
    let kind = TokenKind::from_prefix(prefix).ok_or(TokenFormatError::UnknownPrefix)?;
    let found = tail.chars().count();
    if found != TOKEN_TAIL_LEN {
        return Err(TokenFormatError::WrongLength { found });
    }
    if let Some(index) = tail.bytes().position(|b| !b.is_ascii_alphanumeric()) {
        let position = prefix.len() + 1 + index + 1;
        return Err(TokenFormatError::BadCharacter { position });
    }
    let (signed, checksum) = token.split_at(token.len() - TOKEN_CHECKSUM_LEN);
    if encode_checksum(crc32(signed.as_bytes())) != checksum.as_bytes() {
        return Err(TokenFormatError::ChecksumMismatch);
    }
    Ok(kind)
}

/// Like [`check_token_format`], and also requires the token to be of the `expected` kind.
pub fn check_token_of_kind(token: &str, expected: TokenKind) -> Result<(), TokenFormatError> {
    let found = check_token_format(token)?;
    if found == expected {
        Ok(())
    } else {
        Err(TokenFormatError::WrongKind { expected, found })
    }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320: the one zlib and gzip use).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// `value` as [`TOKEN_CHECKSUM_LEN`] base62 digits, most significant first, zero-padded.
fn encode_checksum(mut value: u32) -> [u8; TOKEN_CHECKSUM_LEN] {
    let mut digits = [TOKEN_ALPHABET[0]; TOKEN_CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = TOKEN_ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64: a deterministic stand-in for the OS CSPRNG, so statistical tests cannot flake.
    fn splitmix(seed: u64) -> impl FnMut(&mut [u8]) {
        let mut state = seed;
        move |buf: &mut [u8]| {
            for byte in buf {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                *byte = (z ^ (z >> 31)) as u8;
            }
        }
    }

    fn sample(kind: TokenKind) -> String {
        generate_token(kind, splitmix(7))
    }

    #[test]
    fn crc32_matches_the_zlib_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn checksum_is_six_zero_padded_base62_digits() {
        assert_eq!(&encode_checksum(0), b"000000");
        assert_eq!(&encode_checksum(61), b"00000z");
        assert_eq!(&encode_checksum(62), b"000010");
        assert_eq!(&encode_checksum(u32::MAX), b"4gfFC3");
    }

    #[test]
    fn generated_tokens_round_trip_for_every_kind() {
        for kind in TokenKind::ALL {
            let token = sample(kind);
            assert_eq!(token.len(), kind.token_len());
            assert!(token.starts_with(&format!("{}_", kind.prefix())));
            assert_eq!(check_token_format(&token), Ok(kind));
            assert_eq!(check_token_of_kind(&token, kind), Ok(()));
        }
        assert_eq!(MAX_TOKEN_LEN, 55);
        assert!(
            TokenKind::ALL
                .iter()
                .all(|k| k.token_len() <= MAX_TOKEN_LEN)
        );
    }

    #[test]
    fn every_single_character_substitution_is_rejected() {
        for kind in TokenKind::ALL {
            let token = sample(kind);
            for position in 0..token.len() {
                for &replacement in TOKEN_ALPHABET.iter().chain(b"_-") {
                    let mut bytes = token.clone().into_bytes();
                    if bytes[position] == replacement {
                        continue;
                    }
                    bytes[position] = replacement;
                    let typo = String::from_utf8(bytes).expect("ASCII");
                    assert!(check_token_format(&typo).is_err(), "{position}");
                }
            }
        }
    }

    #[test]
    fn a_body_typo_is_reported_as_a_checksum_mismatch() {
        let token = sample(TokenKind::Device);
        let mut bytes = token.into_bytes();
        bytes[10] = if bytes[10] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(bytes).expect("ASCII");
        assert_eq!(
            check_token_format(&typo),
            Err(TokenFormatError::ChecksumMismatch)
        );
    }

    #[test]
    fn wrong_kind_and_unknown_prefixes_are_rejected() {
        let dashboard = sample(TokenKind::Dashboard);
        assert_eq!(
            check_token_of_kind(&dashboard, TokenKind::Device),
            Err(TokenFormatError::WrongKind {
                expected: TokenKind::Device,
                found: TokenKind::Dashboard
            })
        );
        let tail = &dashboard["tdash_".len()..];
        for bad in [
            format!("tdevx_{tail}"),
            format!("TDEV_{tail}"),
            format!("ghp_{tail}"),
            tail.to_owned(),
        ] {
            assert_eq!(
                check_token_format(&bad),
                Err(TokenFormatError::UnknownPrefix)
            );
        }
    }

    #[test]
    fn wrong_lengths_are_rejected() {
        let token = sample(TokenKind::Admin);
        let short = &token[..token.len() - 1];
        assert_eq!(
            check_token_format(short),
            Err(TokenFormatError::WrongLength { found: 48 })
        );
        let long = format!("{token}0");
        assert_eq!(
            check_token_format(&long),
            Err(TokenFormatError::WrongLength { found: 50 })
        );
        assert_eq!(
            check_token_format("tadm_"),
            Err(TokenFormatError::WrongLength { found: 0 })
        );
        let padded = format!("{token}\n");
        assert!(check_token_format(&padded).is_err());
    }

    #[test]
    fn characters_outside_the_alphabet_are_rejected() {
        let token = sample(TokenKind::Device);
        for bad in ['-', '_', '+', '/', '=', ' ', 'é'] {
            let mut chars: Vec<char> = token.chars().collect();
            chars[20] = bad;
            let typo: String = chars.into_iter().collect();
            assert_eq!(
                check_token_format(&typo),
                Err(TokenFormatError::BadCharacter { position: 21 }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rejection_sampling_discards_high_bytes_and_maps_low_ones() {
        let mut calls = 0;
        let token = generate_token(TokenKind::Device, |buf| {
            calls += 1;
            let byte = if calls == 1 { 255 } else { 62 + 10 };
            buf.fill(byte);
        });
        assert_eq!(calls, 2);
        assert_eq!(&token[5..5 + TOKEN_BODY_LEN], "A".repeat(TOKEN_BODY_LEN));
        let last = generate_token(TokenKind::Device, |buf| buf.fill(247));
        assert_eq!(&last[5..5 + TOKEN_BODY_LEN], "z".repeat(TOKEN_BODY_LEN));
        assert!(check_token_format(&last).is_ok());
    }

    #[test]
    fn a_source_that_writes_nothing_still_terminates() {
        let token = generate_token(TokenKind::Admin, |_| {});
        assert_eq!(check_token_format(&token), Ok(TokenKind::Admin));
    }

    #[test]
    fn body_characters_are_roughly_uniform() {
        let mut counts = [0u32; 62];
        let mut fill = splitmix(42);
        for _ in 0..2000 {
            let token = generate_token(TokenKind::Device, &mut fill);
            for byte in token[5..5 + TOKEN_BODY_LEN].bytes() {
                let index = TOKEN_ALPHABET.iter().position(|&a| a == byte);
                counts[index.expect("alphabet")] += 1;
            }
        }
        let expected = f64::from(2000 * TOKEN_BODY_LEN as u32) / 62.0;
        let chi_squared: f64 = counts
            .iter()
            .map(|&c| (f64::from(c) - expected).powi(2) / expected)
            .sum();
        assert!(chi_squared < 150.0, "chi² = {chi_squared} over 61 dof");
        for count in counts {
            assert!((f64::from(count) - expected).abs() < expected * 0.15);
        }
    }

    #[test]
    fn error_messages_never_contain_the_token() {
        let token = sample(TokenKind::Dashboard);
        let body = &token[6..6 + TOKEN_BODY_LEN];
        let errors = [
            TokenFormatError::UnknownPrefix,
            TokenFormatError::WrongKind {
                expected: TokenKind::Device,
                found: TokenKind::Dashboard,
            },
            TokenFormatError::WrongLength { found: 48 },
            TokenFormatError::BadCharacter { position: 9 },
            TokenFormatError::ChecksumMismatch,
        ];
        for error in errors {
            let shown = format!("{error} {error:?}");
            assert!(
                !shown.contains(body) && !shown.contains(&body[..8]),
                "{shown}"
            );
        }
        let mut typo = token.clone();
        typo.push('x');
        let error = check_token_format(&typo).expect_err("too long");
        assert!(!error.to_string().contains(&body[..8]));
    }
}
