//! The `config` crate's errors as messages safe to print: a TOML syntax error gives the file, line, column and the
//! parser's reason but not the line of the file it is on, and anything shaped like a token is hidden in every one.

use std::path::Path;

use telemetry_protocol::TokenKind;

/// What hidden text becomes, as in an `ApiToken`'s `Display`.
const HIDDEN: &str = "[redacted]";

/// Letters and digits after a token prefix (`tdev_`, `tdash_`, `tadm_`) from which they are taken for a token,
/// even one cut short; fewer are left, so that an id such as `tdev_kitchen` still shows.
const MIN_TOKEN_TAIL: usize = 16;

/// Letters and digits in a row from which they are taken for a secret even without a prefix (a token's tail
/// has 49).
const MIN_BARE_SECRET: usize = 40;

/// How the toml crate begins an error that goes on to quote the line of the file it is on.
const TOML_EXCERPT_START: &str = "TOML parse error at ";

/// The message for `error`, met while loading the defaults, `file` and the environment.
pub(super) fn describe(error: &config::ConfigError, file: Option<&Path>) -> String {
    let message = match error {
        config::ConfigError::FileParse { uri, cause } => {
            let source = match (uri, file) {
                (Some(_), Some(path)) => format!("config file {}", path.display()),
                (Some(uri), None) => format!("config file {uri}"),
                (None, _) => "the built-in defaults".to_owned(),
            };
            format!("{source}: {}", parse_failure(&cause.to_string()))
        }
        other => other.to_string(),
    };
    hide_secrets(&message)
}

/// The reason a file could not be parsed, from the text of the parser's error, with the position if it gave one.
/// The toml crate quotes the line between the two, which is left out:
///
/// ```text
/// TOML parse error at line 2, column 68
///   |
/// 2 | api_token = "tdev_…
///   |                    ^
/// invalid basic string, expected `"`
/// ```
///
/// Text in any other layout after that first line is not shown at all.
fn parse_failure(cause: &str) -> String {
    let mut lines = cause.split('\n');
    let Some(position) = lines
        .next()
        .and_then(|first| first.strip_prefix(TOML_EXCERPT_START))
    else {
        // No excerpt: a number out of range, say.
        return cause.trim().to_owned();
    };
    let (gutter, _quoted_line, marker) = (lines.next(), lines.next(), lines.next());
    let reason: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
    let known_layout = is_line_and_column(position)
        && gutter.is_some_and(|gutter| gutter.trim() == "|")
        && marker.is_some_and(is_marker)
        && !reason.is_empty();
    if !known_layout {
        return "invalid TOML (the parser's message is not shown, as it may quote the file)"
            .to_owned();
    }
    format!("invalid TOML at {position}: {}", reason.join("; "))
}

/// Whether `text` is `line N, column M`.
fn is_line_and_column(text: &str) -> bool {
    let is_number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    text.strip_prefix("line ")
        .and_then(|rest| rest.split_once(", column "))
        .is_some_and(|(line, column)| is_number(line) && is_number(column))
}

/// Whether `line` is the gutter and carets under the quoted line: `  |      ^^^`.
fn is_marker(line: &str) -> bool {
    line.trim_start()
        .strip_prefix('|')
        .map(str::trim)
        .is_some_and(|carets| !carets.is_empty() && carets.bytes().all(|b| b == b'^'))
}

/// `text` with token-like runs of letters and digits replaced by [`HIDDEN`]: after `tdev_`, `tdash_` or `tadm_`
/// from [`MIN_TOKEN_TAIL`] characters on, anywhere from [`MIN_BARE_SECRET`].
pub(super) fn hide_secrets(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphanumeric()) {
        shown.push_str(&rest[..start]);
        let from_run = &rest[start..];
        let len = from_run
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(from_run.len());
        let secret =
            len >= MIN_BARE_SECRET || (len >= MIN_TOKEN_TAIL && ends_with_token_prefix(&shown));
        shown.push_str(if secret { HIDDEN } else { &from_run[..len] });
        rest = &from_run[len..];
    }
    shown.push_str(rest);
    shown
}

/// Whether `text` ends with a token's prefix and separator, e.g. `… "tdev_`.
fn ends_with_token_prefix(text: &str) -> bool {
    text.strip_suffix('_').is_some_and(|before| {
        TokenKind::ALL
            .iter()
            .any(|kind| before.ends_with(kind.prefix()))
    })
}

#[cfg(test)]
mod tests {
    use config::{Config, File, FileFormat};
    use telemetry_protocol::generate_token;

    use super::*;

    fn token(kind: TokenKind) -> String {
        let mut n = 11u8;
        generate_token(kind, |buf| {
            for b in buf {
                n = n.wrapping_mul(13).wrapping_add(5);
                *b = n;
            }
        })
    }

    /// The message for the error the `config` crate gives for a file holding `toml`.
    fn message_for(toml: &str) -> String {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let path = dir.path().join("edge.toml");
        std::fs::write(&path, toml).expect("write the file");
        let error = Config::builder()
            .add_source(File::from(path.as_path()).format(FileFormat::Toml))
            .build()
            .expect_err("a syntax error");
        describe(&error, Some(&path)).replace(&path.display().to_string(), "edge.toml")
    }

    #[test]
    fn a_syntax_error_gives_position_and_reason_but_not_the_line() {
        let token = token(TokenKind::Device);
        let toml = format!("sample_interval_secs = 1\napi_token = \"{token}\n");
        let message = message_for(&toml);
        assert!(
            message.starts_with("config file edge.toml: invalid TOML at line 2, column "),
            "the toml crate's layout has changed: {message}"
        );
        assert!(message.contains("invalid basic string"), "{message}");
        assert!(
            !message.contains(&token[5..21]) && !message.contains("api_token"),
            "{message}"
        );
    }

    #[test]
    fn every_kind_of_syntax_error_keeps_the_line_out() {
        let secret = "s3cretValueThatIsNotATokenAtAll";
        for toml in [
            format!("api_token = \"{secret}\"\napi_token = \"{secret}\"\n"),
            format!("api_token = {secret}\n"),
            format!("api_token = \"{secret}\" x\n"),
            format!("[store\napi_token = \"{secret}\"\n"),
            format!("api_token = [\"{secret}\"\n"),
        ] {
            let message = message_for(&toml);
            assert!(message.contains("invalid TOML at line "), "{message}");
            assert!(!message.contains(secret), "{message}");
        }
    }

    #[test]
    fn an_unknown_layout_after_the_position_is_not_shown() {
        let odd = "TOML parse error at line 1, column 2\napi_token = \"secret\"\nexpected `\"`\n";
        assert_eq!(
            parse_failure(odd),
            "invalid TOML (the parser's message is not shown, as it may quote the file)"
        );
        assert_eq!(
            parse_failure("number too large to fit in target type"),
            "number too large to fit in target type"
        );
    }

    #[test]
    fn tokens_of_every_kind_are_hidden_even_cut_short() {
        for kind in TokenKind::ALL {
            let token = token(kind);
            let text = format!("invalid type: string \"{token}\", expected a float");
            assert_eq!(
                hide_secrets(&text),
                format!(
                    "invalid type: string \"{}_[redacted]\", expected a float",
                    kind.prefix()
                )
            );
            let cut = &token[..kind.prefix().len() + 1 + MIN_TOKEN_TAIL];
            assert!(!hide_secrets(cut).contains(&cut[cut.len() - 10..]));
            let tail = &token[kind.prefix().len() + 1..];
            assert_eq!(hide_secrets(&format!("x={tail}")), "x=[redacted]");
        }
    }

    #[test]
    fn ordinary_messages_stay_as_they_are() {
        for text in [
            "unknown field `max_sample`, expected `path` or `max_samples` for key `store`",
            "invalid type: string \"soon\", expected a float for key `sample_interval_secs` in config.toml",
            "unknown variant `thermometer`, expected one of `simulated`, `ina219`",
            "device id tdev_kitchen is fine",
            "/var/lib/edge-agent/samples.redb",
        ] {
            assert_eq!(hide_secrets(text), text);
        }
    }
}
