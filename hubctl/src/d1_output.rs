//! Reads what `wrangler d1 execute --json` printed: per-statement results, or an error worth showing a person.

use serde_json::Value;

use crate::HubctlError;

/// The message SQLite gives when an inserted device id already exists.
const DEVICE_ID_CONFLICT: &str = "UNIQUE constraint failed: devices.id";

/// wrangler's results on success; otherwise its error text as a [`HubctlError`].
///
/// With `--json`, wrangler prints `[{"results": [...], "success": true, ...}, ...]` on success and
/// `{"error": {"text": ...}}` on failure; failures before that (a bad config) only reach stderr.
pub fn interpret(
    exit_code: Option<i32>,
    stdout: &str,
    stderr: &str,
) -> Result<Vec<Value>, HubctlError> {
    let parsed = parse_json(stdout);
    if let Some(message) = parsed.as_ref().and_then(json_error_text) {
        return Err(classify(message));
    }
    if exit_code != Some(0) {
        return Err(classify(fallback_message(exit_code, stdout, stderr)));
    }
    match parsed {
        Some(Value::Array(results)) => Ok(results),
        _ => Ok(Vec::new()),
    }
}

/// Whether `error` is wrangler reporting that a device id already exists.
pub fn is_device_id_conflict(error: &HubctlError) -> bool {
    matches!(error, HubctlError::Wrangler(message) if message.contains(DEVICE_ID_CONFLICT))
}

/// The rows of the first statement's result.
pub fn first_result_rows(results: &[Value]) -> Vec<Value> {
    results
        .first()
        .and_then(|result| result.get("results"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The JSON document in `stdout`, tolerating lines printed before it.
fn parse_json(stdout: &str) -> Option<Value> {
    if let Ok(value) = serde_json::from_str(stdout) {
        return Some(value);
    }
    let start = stdout.find("\n[").or_else(|| stdout.find("\n{"))?;
    serde_json::from_str(&stdout[start..]).ok()
}

/// `error.text` and any `error.notes[].text` of a JSON error report.
fn json_error_text(value: &Value) -> Option<String> {
    let error = value.get("error")?;
    let text = error
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or("unknown error");
    let notes = error
        .get("notes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let notes = notes.filter_map(|note| note.get("text").and_then(Value::as_str));
    Some(
        std::iter::once(text)
            .chain(notes)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// stderr without colours, blank lines and the log-file pointer; stdout or the exit code when it is empty.
fn fallback_message(exit_code: Option<i32>, stdout: &str, stderr: &str) -> String {
    let useful = |text: &str| -> String {
        let clean = strip_ansi(text);
        let lines = clean
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("🪵"));
        lines.collect::<Vec<_>>().join("\n")
    };
    let from_stderr = useful(stderr);
    if !from_stderr.is_empty() {
        return from_stderr;
    }
    let from_stdout = useful(stdout);
    if !from_stdout.is_empty() {
        return from_stdout;
    }
    match exit_code {
        Some(code) => format!("wrangler exited with status {code} and printed nothing"),
        None => "wrangler was killed by a signal".to_owned(),
    }
}

/// A missing table means the schema was never applied; anything else is passed on as wrangler said it.
fn classify(message: String) -> HubctlError {
    if message.contains("no such table") {
        HubctlError::SchemaMissing(message)
    } else {
        HubctlError::Wrangler(message)
    }
}

/// `text` without ANSI escape sequences (CSI `ESC [ … final-byte`, and lone `ESC x` pairs).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
        } else if chars.next_if_eq(&'[').is_some() {
            while chars.next().is_some_and(|c| !('@'..='~').contains(&c)) {}
        } else {
            chars.next();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_returns_the_per_statement_results() {
        let stdout = r#"[{"results":[{"id":"a"}],"success":true,"meta":{"duration":0}}]"#;
        let results = interpret(Some(0), stdout, "").expect("success");
        assert_eq!(
            first_result_rows(&results),
            vec![serde_json::json!({"id": "a"})]
        );
    }

    #[test]
    fn a_json_error_becomes_the_error_text() {
        let stdout = "\n{\n  \"error\": {\n    \"text\": \"UNIQUE constraint failed: devices.id: SQLITE_CONSTRAINT\"\n  }\n}\n";
        let error = interpret(Some(1), stdout, "").expect_err("failure");
        assert!(is_device_id_conflict(&error), "{error}");
        let notes = r#"{"error":{"text":"bad","notes":[{"text":"hint one"}]}}"#;
        let error = interpret(Some(1), notes, "").expect_err("failure");
        assert_eq!(error.to_string(), "wrangler failed: bad\nhint one");
    }

    #[test]
    fn a_missing_table_asks_for_the_schema() {
        let stdout = r#"{"error":{"text":"no such table: devices: SQLITE_ERROR"}}"#;
        let error = interpret(Some(1), stdout, "").expect_err("failure");
        assert!(matches!(error, HubctlError::SchemaMissing(_)));
        assert!(error.to_string().contains("hubctl schema apply"));
    }

    #[test]
    fn without_json_the_cleaned_stderr_is_shown() {
        let stderr = "\u{1b}[31m✘ \u{1b}[41;31m[\u{1b}[41;97mERROR\u{1b}[41;31m]\u{1b}[0m \u{1b}[1mCould not read file: /x.toml\u{1b}[0m\n\n\
                      🪵  Logs were written to \"/root/log\"\n";
        let error = interpret(Some(1), "", stderr).expect_err("failure");
        assert_eq!(
            error.to_string(),
            "wrangler failed: ✘ [ERROR] Could not read file: /x.toml"
        );
        let silent = interpret(Some(2), "", "").expect_err("failure");
        assert!(silent.to_string().contains("status 2"));
    }

    #[test]
    fn json_after_a_preamble_is_still_found() {
        let stdout = "note: something\n[{\"results\":[],\"success\":true}]";
        assert_eq!(interpret(Some(0), stdout, "").expect("success").len(), 1);
        assert!(
            interpret(Some(0), "not json", "")
                .expect("success")
                .is_empty()
        );
    }
}
