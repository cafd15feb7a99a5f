//! What a command hands back: one [`Output`] that renders as text or as one line of JSON, holds the new tokens
//! as slots, and is printed in one place ([`Output::print`]): each token exactly once, or into `--token-file`.

use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value};

use crate::HubctlError;
use crate::api_error::clean;
use crate::token_file::TokenFile;

/// Where a new token went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// Printed in the output, once.
    Printed,
    /// Written to this file (`--token-file`); the output names the file instead.
    File(&'a Path),
}

/// Text for a person in which new tokens are slots, filled in as the [`Delivery`] says.
#[derive(Default)]
pub struct Text(Vec<Piece>);

enum Piece {
    Plain(String),
    Token { noun: &'static str, token: String },
}

/// How a command's output is printed: `--json`, and `--token-file` for the one new token.
#[derive(Debug, Clone, Copy, Default)]
pub struct Format<'a> {
    /// One line of JSON instead of text.
    pub json: bool,
    /// The new file the new token goes to.
    pub token_file: Option<&'a Path>,
}

impl<'a> Format<'a> {
    /// `--json` and `--token-file` as given.
    pub fn new(json: bool, token_file: Option<&'a Path>) -> Self {
        Self { json, token_file }
    }
}

/// The result of a command, ready to print either way; a failure may follow what is printed.
pub struct Output {
    text: Text,
    json: Value,
    then: Option<HubctlError>,
}

impl Text {
    /// Appends plain text.
    pub fn plain(mut self, text: impl Into<String>) -> Self {
        self.0.push(Piece::Plain(text.into()));
        self
    }

    /// Appends a new token, shown as `noun (shown once, store it now): …` or where it was written.
    pub fn token(mut self, noun: &'static str, token: &str) -> Self {
        let token = token.to_owned();
        self.0.push(Piece::Token { noun, token });
        self
    }

    /// The text with every token slot filled.
    pub fn render(&self, delivery: Delivery<'_>) -> String {
        let fill = |piece: &Piece| match (piece, delivery) {
            (Piece::Plain(text), _) => text.clone(),
            (Piece::Token { noun, token }, Delivery::Printed) => {
                format!("{noun} (shown once, store it now): {token}")
            }
            (Piece::Token { noun, .. }, Delivery::File(path)) => {
                format!(
                    "{noun} written to {} (mode 0600, not shown)",
                    path.display()
                )
            }
        };
        self.0.iter().map(fill).collect()
    }

    fn tokens(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|piece| match piece {
            Piece::Token { token, .. } => Some(token.as_str()),
            Piece::Plain(_) => None,
        })
    }
}

impl Output {
    /// `text` for a person, `json` for `--json`; a new token sits in `text` as a slot and in `json` as `"token"`.
    pub fn new(text: Text, json: Value) -> Self {
        let then = None;
        Self { text, json, then }
    }

    /// Output of a command without `--json`.
    pub fn text(text: String) -> Self {
        Self::new(Text::default().plain(text), Value::Null)
    }

    /// The same output, after which the command fails with `error` (what it printed is still valid).
    pub fn then_fail(mut self, error: Option<HubctlError>) -> Self {
        self.then = error;
        self
    }

    /// The output as text or JSON, with its tokens delivered as `delivery` says.
    pub fn render(&self, json: bool, delivery: Delivery<'_>) -> String {
        match (json, delivery) {
            (false, _) => self.text.render(delivery),
            (true, Delivery::Printed) => format!("{}\n", self.json),
            (true, Delivery::File(path)) => format!("{}\n", token_to_file(&self.json, path)),
        }
    }

    /// The one place output is printed: the token goes into `file` (reserved before the command ran) if there
    /// is one, then the text or JSON goes to `out`; then any failure that followed.
    pub fn print(
        self,
        json: bool,
        file: Option<TokenFile>,
        out: &mut dyn Write,
    ) -> Result<(), HubctlError> {
        let written = match file {
            Some(file) => Some(file.write_token(self.text.tokens().next().unwrap_or_default())?),
            None => None,
        };
        let delivery = written.as_deref().map_or(Delivery::Printed, Delivery::File);
        out.write_all(self.render(json, delivery).as_bytes())?;
        out.flush()?;
        self.then.map_or(Ok(()), Err)
    }
}

/// `value` with every `"token": …` replaced by `"token_file": path`, in place.
fn token_to_file(value: &Value, path: &Path) -> Value {
    match value {
        Value::Object(object) => {
            let fields = object.iter().map(|(key, field)| match key.as_str() {
                "token" => ("token_file".to_owned(), path.display().to_string().into()),
                _ => (key.clone(), token_to_file(field, path)),
            });
            Value::Object(fields.collect::<Map<_, _>>())
        }
        Value::Array(items) => items.iter().map(|v| token_to_file(v, path)).collect(),
        other => other.clone(),
    }
}

/// A JSON field for a person: text cleaned, `yes`/`no`, numbers, and `-` for null or missing.
pub fn field(object: &Value, key: &str) -> String {
    match object.get(key) {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(text)) => clean(text),
        Some(Value::Bool(true)) => "yes".into(),
        Some(Value::Bool(false)) => "no".into(),
        Some(other) => clean(&other.to_string()),
    }
}

/// One row per object with a column per `(header, key)`, or `empty` when there are none.
pub fn rows_table(columns: &[(&str, &str)], objects: &[Value], empty: &str) -> String {
    if objects.is_empty() {
        return empty.to_owned();
    }
    let rows: Vec<Vec<String>> = objects
        .iter()
        .map(|o| columns.iter().map(|(_, key)| field(o, key)).collect())
        .collect();
    let headers: Vec<&str> = columns.iter().map(|(header, _)| *header).collect();
    table(&headers, &rows)
}

/// Left-aligned columns two spaces apart, with a header line unless `headers` is empty.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    let lines: Vec<&Vec<String>> = std::iter::once(&header)
        .filter(|h| !h.is_empty())
        .chain(rows)
        .collect();
    let columns = lines.iter().map(|line| line.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            let cells = lines.iter().filter_map(|line| line.get(c));
            cells.map(|cell| cell.chars().count()).max().unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for line in lines {
        let cells = line.iter().zip(&widths);
        let padded: Vec<String> = cells
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        text.push_str(padded.join("  ").trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn created() -> Output {
        let text = Text::default()
            .plain("device a created; ")
            .token("token", "tdev_one")
            .plain("\n");
        let json = json!({"devices": [{"device_id": "a", "token": "tdev_one"}]});
        Output::new(text, json)
    }

    #[test]
    fn print_writes_the_token_file_then_the_output_then_the_failure() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t");
        let file = TokenFile::reserve(&path).expect("new file");
        let mut out = Vec::new();
        let failing = created().then_fail(Some(HubctlError::NoDevices));
        let error = failing
            .print(false, Some(file), &mut out)
            .expect_err("fails after");
        assert!(matches!(error, HubctlError::NoDevices));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "tdev_one\n");
        assert!(!String::from_utf8_lossy(&out).contains("tdev_one"));
    }
}
