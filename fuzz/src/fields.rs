//! The layout of structured fuzz inputs: `name: value` lines, then one last field that runs to the end.
//!
//! A seed stays readable and a byte-level mutation of it stays meaningful:
//!
//! ```text
//! cursor-epoch: e1
//! cursor-seq: 5
//! frame: {"type":"telemetry","epoch":"e1","seq":3,"ts":"2026-02-03T12:00:00Z","data":{}}
//! ```
//!
//! One space after the colon is dropped, so a value can still start with spaces (`name:  x` is ` x`). Lines
//! without a colon are ignored. The body field takes everything after its `name:` up to the end, newlines
//! included.

use std::borrow::Cow;

/// A structured input, split into its named lines and its body.
#[derive(Debug, Clone, Default)]
pub struct Fields<'a> {
    lines: Vec<(&'a str, &'a str)>,
    body: Option<&'a str>,
}

impl<'a> Fields<'a> {
    /// Splits `text` into `name: value` lines up to the first line named `body_name`, which runs to the end.
    pub fn parse(text: &'a str, body_name: &str) -> Self {
        Self::split(text, Some(body_name))
    }

    /// Splits `text` into `name: value` lines only, without a body.
    pub fn lines(text: &'a str) -> Self {
        Self::split(text, None)
    }

    fn split(text: &'a str, body_name: Option<&str>) -> Self {
        let mut fields = Fields::default();
        let mut rest = text;
        while !rest.is_empty() {
            let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
            if let Some((name, value)) = line.split_once(':') {
                if Some(name) == body_name {
                    let body = &rest[name.len() + 1..];
                    fields.body = Some(body.strip_prefix(' ').unwrap_or(body));
                    break;
                }
                fields
                    .lines
                    .push((name, value.strip_prefix(' ').unwrap_or(value)));
            }
            rest = after;
        }
        fields
    }

    /// The value of the first line called `name`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.all(name).next()
    }

    /// The values of every line called `name`, in order.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.lines
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// The value of `name` as a number; `None` when absent or not a decimal `u64`.
    pub fn number(&self, name: &str) -> Option<u64> {
        self.get(name).and_then(|v| v.trim().parse().ok())
    }

    /// Whether a line `name: true` is present.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v.trim() == "true")
    }

    /// The body, if its line is present.
    pub fn body(&self) -> Option<&'a str> {
        self.body
    }
}

/// Bytes either side of a size limit that a `pad:` line reaches: padding to `limit - PAD_SPAN + N % (2 *
/// PAD_SPAN)` bytes puts the input just under, at or just over the limit.
pub const PAD_SPAN: usize = 2048;

/// `text` with spaces appended up to `limit - PAD_SPAN + pad % (2 * PAD_SPAN)` bytes, when `pad` is given
/// (`pad: 2048` is exactly at the limit, `pad: 2049` one byte over); longer text is left as it is.
pub fn pad_near_limit(text: &str, limit: usize, pad: Option<u64>) -> String {
    let mut padded = text.to_owned();
    if let Some(pad) = pad {
        let offset = usize::try_from(pad % (2 * PAD_SPAN as u64)).unwrap_or(0);
        let target = limit - PAD_SPAN + offset;
        padded.extend(std::iter::repeat_n(
            ' ',
            target.saturating_sub(padded.len()),
        ));
    }
    padded
}

/// The fuzz input as text. Invalid UTF-8 is replaced rather than skipped, so every input reaches the code.
pub fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_then_a_body_that_runs_to_the_end() {
        let fields = Fields::parse(
            "a: 1\nnoise\nb:  two\na: 3\nbody: {\"x\":\n1}\nc: 4",
            "body",
        );
        assert_eq!(fields.get("a"), Some("1"));
        assert_eq!(fields.all("a").collect::<Vec<_>>(), ["1", "3"]);
        assert_eq!(fields.get("b"), Some(" two"));
        assert_eq!(fields.number("a"), Some(1));
        assert_eq!(fields.body(), Some("{\"x\":\n1}\nc: 4"));
        assert_eq!(fields.get("c"), None);
    }

    #[test]
    fn no_body_and_empty_input() {
        assert_eq!(Fields::parse("a: 1", "body").body(), None);
        assert_eq!(Fields::parse("", "body").get("a"), None);
        assert_eq!(Fields::parse("body:", "body").body(), Some(""));
        assert!(Fields::parse("f: true", "body").flag("f"));
    }

    #[test]
    fn padding_lands_on_either_side_of_a_limit() {
        assert_eq!(pad_near_limit("{}", 10_000, None), "{}");
        assert_eq!(pad_near_limit("{}", 10_000, Some(2048)).len(), 10_000);
        assert_eq!(pad_near_limit("{}", 10_000, Some(2049)).len(), 10_001);
        assert_eq!(
            pad_near_limit("{}", 10_000, Some(4096)).len(),
            10_000 - 2048
        );
        assert_eq!(
            pad_near_limit(&"x".repeat(20_000), 10_000, Some(0)).len(),
            20_000
        );
    }
}
