//! Which log lines `edge-agent` prints, from `RUST_LOG`: a level (`debug`) or comma-separated `target=level`
//! directives with an optional default level (`edge_agent=debug,warn`), parsed as tracing-subscriber's
//! [`Targets`]. Unlike its `EnvFilter` (left out: its regex engine is about 155 KiB of the Pi binary), span and
//! field filters (`edge_agent[connect]=debug`) are not understood.

use tracing_subscriber::filter::{LevelFilter, Targets};

/// The level when `RUST_LOG` is unset, empty or not understood.
pub const DEFAULT_LEVEL: LevelFilter = LevelFilter::INFO;

/// The filter for `rust_log` (the variable's value, if set). An unparsable value gives the default level and
/// the reason, for one line on stderr.
pub fn log_filter(rust_log: Option<&str>) -> (Targets, Option<String>) {
    let default = || Targets::new().with_default(DEFAULT_LEVEL);
    match rust_log.map(str::trim) {
        None | Some("") => (default(), None),
        Some(value) => match value.parse::<Targets>() {
            Ok(targets) => (targets, None),
            Err(error) => (
                default(),
                Some(format!(
                    "RUST_LOG={value:?} is not understood ({error}); logging at info"
                )),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    fn filter(value: Option<&str>) -> Targets {
        let (targets, warning) = log_filter(value);
        assert_eq!(warning, None, "{value:?}");
        targets
    }

    #[test]
    fn unset_or_empty_is_info() {
        for targets in [filter(None), filter(Some("")), filter(Some("  "))] {
            assert!(targets.would_enable("edge_agent::link", &Level::INFO));
            assert!(!targets.would_enable("edge_agent::link", &Level::DEBUG));
        }
    }

    #[test]
    fn a_level_applies_to_every_target() {
        let targets = filter(Some("debug"));
        assert!(targets.would_enable("edge_agent::sampler", &Level::DEBUG));
        assert!(targets.would_enable("tokio_tungstenite", &Level::DEBUG));
        assert!(!targets.would_enable("edge_agent::sampler", &Level::TRACE));
        assert!(!filter(Some("warn")).would_enable("edge_agent", &Level::INFO));
    }

    #[test]
    fn target_directives_with_a_default() {
        let targets = filter(Some("edge_agent=debug,warn"));
        assert!(targets.would_enable("edge_agent::store", &Level::DEBUG));
        assert!(!targets.would_enable("edge_agent::store", &Level::TRACE));
        assert!(!targets.would_enable("rustls::client", &Level::INFO));
        assert!(targets.would_enable("rustls::client", &Level::WARN));
        let targets = filter(Some("info,edge_agent::link=trace"));
        assert!(targets.would_enable("edge_agent::link", &Level::TRACE));
        assert!(!targets.would_enable("edge_agent::store", &Level::DEBUG));
    }

    #[test]
    fn an_unparsable_value_falls_back_to_info_and_says_so() {
        let (targets, warning) = log_filter(Some("edge_agent=loud"));
        assert!(targets.would_enable("edge_agent", &Level::INFO));
        assert!(!targets.would_enable("edge_agent", &Level::DEBUG));
        let warning = warning.expect("a warning");
        assert!(
            warning.starts_with("RUST_LOG=\"edge_agent=loud\" is not understood"),
            "{warning}"
        );
    }
}
