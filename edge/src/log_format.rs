//! How `edge-agent` writes its log lines to stderr: [`LogFormat::Text`], one human line per event (the default),
//! or [`LogFormat::Json`], one JSON object per line with `timestamp`, `level`, `target`, `message` and the
//! event's fields beside them, for journald and log shippers to filter on. Chosen by `--log-format`, else
//! `log_format` (`EDGE_LOG_FORMAT`); which lines are written is `RUST_LOG`'s business ([`crate::log_filter`]).

use std::io::IsTerminal;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The shape of the log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `2026-…Z  INFO connected url=…`, coloured on a terminal.
    #[default]
    Text,
    /// `{"timestamp":"2026-…Z","level":"INFO","message":"connected","url":"…","target":"edge_agent::event_loop"}`.
    Json,
}

impl LogFormat {
    /// `text` or `json` (any case, surrounding spaces ignored); the error says what is expected.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(format!(
                "{value:?} is not a log format; use \"text\" or \"json\""
            )),
        }
    }

    /// Installs the global subscriber that writes this format to stderr, keeping what `filter` lets through.
    pub fn init(self, filter: Targets) {
        let builder = tracing_subscriber::fmt()
            .with_max_level(LevelFilter::TRACE) // `filter` decides
            .with_writer(std::io::stderr);
        match self {
            Self::Text => builder
                .with_ansi(std::io::stderr().is_terminal())
                .with_target(false)
                .finish()
                .with(filter)
                .init(),
            Self::Json => builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_target(true)
                .finish()
                .with(filter)
                .init(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_in_any_case_are_understood() {
        assert_eq!(LogFormat::parse("text"), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(" JSON "), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse("Json"), Ok(LogFormat::Json));
        assert_eq!(LogFormat::default(), LogFormat::Text);
    }

    #[test]
    fn anything_else_is_refused_with_what_is_expected() {
        for value in ["", "logfmt", "jsonl", "text json"] {
            let error = LogFormat::parse(value).expect_err(value);
            assert!(error.contains("use \"text\" or \"json\""), "{error}");
            assert!(error.contains(&format!("{value:?}")), "{error}");
        }
    }
}
