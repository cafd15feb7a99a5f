//! Targets for the token format (`telemetry_protocol::token`) and the hub's stored-hash comparison.
//!
//! `token_format` input: a first byte that picks what to do, then either a candidate token (checked as it is) or
//! the random bytes `generate_token` draws from. Any token that passes the check is then damaged once, at a
//! place and with a character the input chooses, and must fail. `token_hash` input: `token: ..` and
//! `stored: ..` lines; `matches_hex` must agree with parsing the stored hex and comparing.

use telemetry_hub::access::TokenHash;
use telemetry_protocol::token::TOKEN_SEPARATOR;
use telemetry_protocol::{
    TokenFormatError, TokenKind, check_token_format, check_token_of_kind, generate_token,
};

use crate::fields::{Fields, text};

/// `check_token_format` and `check_token_of_kind` on any text, and on generated tokens.
pub fn token_format(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let candidate = match mode % 4 {
        kind @ 0..=2 => generated(TokenKind::ALL[usize::from(kind)], rest),
        _ => text(rest).into_owned(),
    };
    let Ok(kind) = check_token_format(&candidate) else {
        for kind in TokenKind::ALL {
            assert!(check_token_of_kind(&candidate, kind).is_err());
        }
        return;
    };
    check_valid_token(&candidate, kind);
    let damage = rest.get(rest.len().saturating_sub(4)..).unwrap_or(&[]);
    check_damage_is_caught(&candidate, damage);
}

/// `TokenHash::matches_hex` against any stored text.
pub fn token_hash(data: &[u8]) {
    let text = text(data);
    let fields = Fields::parse(&text, "stored");
    let token = fields.get("token").unwrap_or("");
    let stored = fields.body().unwrap_or("");
    let hash = TokenHash::of(token);
    let expected = TokenHash::from_hex(stored).is_some_and(|parsed| parsed == hash);
    assert_eq!(
        hash.matches_hex(stored),
        expected,
        "matches_hex({stored:?})"
    );
    let own = hash.to_hex();
    assert!(hash.matches_hex(&own) && hash.matches_hex(&own.to_uppercase()));
    assert_eq!(own.len(), 64);
}

/// A token of `kind` whose first chunk of randomness is `bytes`, repeated. Later chunks are left as
/// `generate_token` zeroed them, so a run of rejected bytes (all 248 or more) cannot keep it drawing forever.
fn generated(kind: TokenKind, bytes: &[u8]) -> String {
    let mut first_call = true;
    let token = generate_token(kind, |buf| {
        if std::mem::take(&mut first_call) {
            buf.iter_mut()
                .zip(bytes.iter().cycle())
                .for_each(|(b, &random)| *b = random);
        }
    });
    assert_eq!(check_token_format(&token), Ok(kind), "generated {token:?}");
    token
}

fn check_valid_token(token: &str, kind: TokenKind) {
    assert_eq!(token.len(), kind.token_len());
    assert!(token.starts_with(kind.prefix()));
    for other in TokenKind::ALL {
        let expected = if other == kind {
            Ok(())
        } else {
            Err(TokenFormatError::WrongKind {
                expected: other,
                found: kind,
            })
        };
        assert_eq!(check_token_of_kind(token, other), expected);
    }
}

/// Substitutes, deletes or inserts one character at a place the input picks; each must fail the check.
fn check_damage_is_caught(token: &str, damage: &[u8]) {
    let pick = |i: usize| usize::from(damage.get(i).copied().unwrap_or(0));
    let chars: Vec<char> = token.chars().collect();
    let position = (pick(0) << 8 | pick(1)) % chars.len();
    let replacement = replacement_char(pick(2) << 8 | pick(3), chars[position]);
    let mut substituted = chars.clone();
    substituted[position] = replacement;
    let mut deleted = chars.clone();
    deleted.remove(position);
    let mut inserted = chars;
    inserted.insert(position, replacement);
    for (what, damaged) in [
        ("substituting", substituted),
        ("deleting at", deleted),
        ("inserting at", inserted),
    ] {
        let damaged: String = damaged.into_iter().collect();
        assert!(
            check_token_format(&damaged).is_err(),
            "{what} position {position} ({replacement:?}) still passes: {damaged:?}"
        );
    }
}

/// A character other than `original`: mostly from the token alphabet, sometimes `_`, `-` or a non-ASCII one.
fn replacement_char(choice: usize, original: char) -> char {
    const ALPHABET: &[u8] = telemetry_protocol::token::TOKEN_ALPHABET;
    let candidates = [TOKEN_SEPARATOR, '-', 'é', '\u{1F600}', ' '];
    let c = match choice % 80 {
        i if i < ALPHABET.len() => char::from(ALPHABET[i]),
        i => candidates[(i - ALPHABET.len()) % candidates.len()],
    };
    if c == original {
        if original == '0' { '1' } else { '0' }
    } else {
        c
    }
}
