//! Hides anything shaped like a bearer token in text about to be printed. clap's usage errors repeat stray
//! arguments, so a token pasted in the wrong place would otherwise reach the terminal and its logs.

/// What a hidden token is replaced with.
pub const REDACTED: &str = "<redacted token>";

/// Characters after a known prefix (`tdev_`, `tdash_`, `tadm_`) from which a word counts as a token.
const MIN_PREFIXED_TAIL: usize = 16;

/// Length from which a run of letters and digits counts as a secret even without a prefix.
const MIN_BARE_RUN: usize = 40;

/// `text` with every token-like word replaced by [`REDACTED`]. Words are runs of `A-Z a-z 0-9 _`.
pub fn redact_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_word_char) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let len = tail.find(|c| !is_word_char(c)).unwrap_or(tail.len());
        let word = &tail[..len];
        out.push_str(if is_secret(word) { REDACTED } else { word });
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A prefixed token (even mistyped or cut short), or a long random-looking run. Lowercase hex (a SHA-256)
/// is not secret and stays.
fn is_secret(word: &str) -> bool {
    let prefixed = word.split_once('_').is_some_and(|(prefix, tail)| {
        telemetry_protocol::TokenKind::from_prefix(prefix).is_some()
            && tail.len() >= MIN_PREFIXED_TAIL
    });
    let long_run = word.split('_').any(|part| {
        let hash_like = part
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        part.len() >= MIN_BARE_RUN && !hash_like
    });
    prefixed || long_run
}

#[cfg(test)]
mod tests {
    use super::*;
    use telemetry_protocol::{TokenKind, generate_token};

    #[test]
    fn tokens_of_every_kind_are_hidden_wherever_they_are() {
        for kind in TokenKind::ALL {
            let token = generate_token(kind, |b| b.fill(9));
            let text = format!("error: unexpected argument '{token}' found\n");
            assert_eq!(
                redact_tokens(&text),
                "error: unexpected argument '<redacted token>' found\n"
            );
            let bare = &token[kind.prefix().len() + 1..];
            assert!(!redact_tokens(&format!("x={bare}")).contains(bare));
            let cut = &token[..token.len() - 10];
            assert!(!redact_tokens(cut).contains(&cut[6..]));
        }
    }

    #[test]
    fn ordinary_text_ids_and_hashes_stay() {
        let hash = crate::token_sha256_hex("x");
        for text in [
            "error: invalid value 'ems_001' for '<ID>'",
            "tdev_kitchen is a fine device id",
            "dt_0123456789ab revoked",
            hash.as_str(),
            "Usage: hubctl [OPTIONS] <COMMAND>\n",
        ] {
            assert_eq!(redact_tokens(text), text);
        }
    }
}
