//! The Worker's log lines: one flat JSON object per line, `{"event":"auth_refused","device_id":…,"reason":…}`,
//! so Workers Logs can filter by any key. The vocabulary is in docs/operations.md.
//!
//! Values are escaped by serde_json. Nothing secret goes in: callers pass ids, reasons, codes and counts, never a
//! token or its hash; free text (an `error`) is scrubbed of anything shaped like a token or a SHA-256 on the way
//! out, in case a lower layer ever echoes one.

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

/// One event, built up field by field and rendered as one line of JSON with `event` first.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    fields: Vec<(&'static str, Value)>,
}

impl LogEvent {
    /// An event named `event` (a stable snake_case name).
    pub fn new(event: &'static str) -> Self {
        Self {
            fields: vec![("event", Value::from(event))],
        }
    }

    /// Adds `key: value`; a key set twice keeps the later value.
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        let value = value.into();
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((key, value)),
        }
        self
    }

    /// The device the event is about.
    pub fn device(self, device_id: &str) -> Self {
        self.with("device_id", device_id)
    }

    /// Why it happened (a refusal's reason, a presence reason).
    pub fn reason(self, reason: &str) -> Self {
        self.with("reason", reason)
    }

    /// A WebSocket close code or an HTTP status.
    pub fn code(self, code: u16) -> Self {
        self.with("code", code)
    }

    /// How long the step took, in milliseconds.
    pub fn latency_ms(self, ms: u64) -> Self {
        self.with("latency_ms", ms)
    }

    /// The client's address, as Cloudflare reports it.
    pub fn client(self, address: &str) -> Self {
        self.with("client", address)
    }

    /// A failure's text, scrubbed of token-shaped and hash-shaped words.
    pub fn error(self, error: impl std::fmt::Display) -> Self {
        self.with("error", scrub(&error.to_string()))
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        self.fields[0].1.as_str().unwrap_or_default()
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The line: one JSON object, `event` first, keys in the order they were added.
    pub fn render(&self) -> String {
        // Serialising strings, numbers and booleans cannot fail; the fallback keeps the line valid JSON.
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"event":"log_render_failed"}"#.into())
    }
}

impl Serialize for LogEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (key, value) in &self.fields {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The name a unit enum (an error code, a presence reason) has on the wire, e.g. `rate_limited`.
pub fn wire_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        _ => "unknown".to_owned(),
    }
}

/// Token prefixes (see `telemetry_protocol::token`): a word starting with one of these is a credential.
const TOKEN_PREFIXES: [&str; 3] = ["tdev_", "tdash_", "tadm_"];

/// Replaces every word that looks like a token, or like a hex SHA-256 (64 hex digits), with `<redacted>`.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            word.push(c);
            continue;
        }
        out.push_str(if is_secret_shaped(&word) {
            "<redacted>"
        } else {
            &word
        });
        word.clear();
        out.push(c);
    }
    out.pop();
    out
}

fn is_secret_shaped(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    TOKEN_PREFIXES.iter().any(|p| lower.contains(p))
        || (word.len() >= 64 && word.chars().filter(char::is_ascii_hexdigit).count() >= 64)
}

/// Writes `event` to the Worker's log (Workers Logs, or `wrangler dev`'s output).
#[cfg(target_arch = "wasm32")]
pub fn emit(event: LogEvent) {
    worker::console_log!("{}", event.render());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_flat_object_with_the_event_first() {
        let line = LogEvent::new("auth_refused")
            .device("ems_001")
            .reason("wrong token")
            .client("127.0.0.2")
            .code(403)
            .latency_ms(12)
            .with("endpoint", "device")
            .render();
        assert_eq!(
            line,
            r#"{"event":"auth_refused","device_id":"ems_001","reason":"wrong token","client":"127.0.0.2","code":403,"latency_ms":12,"endpoint":"device"}"#
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn strings_are_escaped_and_a_key_set_twice_keeps_the_later_value() {
        let event = LogEvent::new("internal_failure")
            .error("bad \"quote\"\nnext line")
            .reason("first")
            .reason("second");
        let parsed: Value = serde_json::from_str(&event.render()).expect("valid JSON");
        assert_eq!(parsed["error"], "bad \"quote\"\nnext line");
        assert_eq!(parsed["reason"], "second");
        assert_eq!(event.name(), "internal_failure");
        assert_eq!(event.get("reason"), Some(&Value::from("second")));
        assert_eq!(event.render().lines().count(), 1);
    }

    #[test]
    fn errors_never_carry_a_token_or_a_hash() {
        let hash = "a".repeat(64);
        let text =
            format!("lookup of tdev_AbC-12_x failed near {hash}; tdash_q and TADM_z, ok_word");
        let line = LogEvent::new("x").error(&text).render();
        for secret in ["tdev_AbC", "tdash_q", "TADM_z", hash.as_str()] {
            assert!(!line.contains(secret), "{line}");
        }
        assert!(line.contains(
            "lookup of <redacted> failed near <redacted>; <redacted> and <redacted>, ok_word"
        ));
        assert_eq!(scrub("plain text: 404"), "plain text: 404");
    }

    #[test]
    fn wire_names_are_the_serialised_names() {
        use telemetry_protocol::{ErrorCode, PresenceReason};
        assert_eq!(wire_name(&ErrorCode::RateLimited), "rate_limited");
        assert_eq!(wire_name(&PresenceReason::Timeout), "timeout");
        assert_eq!(wire_name(&42), "unknown");
    }
}
