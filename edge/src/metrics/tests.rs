//! Unit tests of the exposition text: the format's rules (one HELP and TYPE per family, before its samples;
//! names and escaping), and that each recording moves the family it should.

use std::collections::{HashMap, HashSet};

use super::*;

/// The value of the unlabelled sample `name`.
fn value(text: &str, name: &str) -> f64 {
    text.lines()
        .filter_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.parse::<f64>().expect("a number"))
        .next()
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Checks the text against the exposition format's rules and returns each family's type.
fn check_format(text: &str) -> HashMap<String, String> {
    assert!(text.ends_with('\n'), "the last line ends with a line feed");
    let mut types = HashMap::new();
    let mut helps = HashSet::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest.split_once(' ').expect("HELP has a text");
            assert!(helps.insert(name.to_owned()), "two HELP lines for {name}");
            assert!(!types.contains_key(name), "HELP after TYPE for {name}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            assert!(is_metric_name(name), "bad name {name:?}");
            assert!(["counter", "gauge"].contains(&kind), "{line}");
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "two TYPE lines for {name}"
            );
            assert!(helps.contains(name), "TYPE without HELP for {name}");
            current = Some(name.to_owned());
        } else {
            assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
            let name = line.split(['{', ' ']).next().expect("a sample has a name");
            assert_eq!(
                current.as_deref(),
                Some(name),
                "sample {name} not right after its family's TYPE"
            );
            let number = line.rsplit(' ').next().expect("a value");
            assert!(number.parse::<f64>().is_ok(), "{line}");
        }
    }
    for (name, kind) in &types {
        assert_eq!(
            name.ends_with("_total"),
            kind == "counter",
            "{name} is a {kind}: counters and only counters end in _total"
        );
    }
    types
}

#[test]
fn a_fresh_agent_renders_every_family_once_in_the_format() {
    let text = AgentMetrics::new("ems_001", 1_764_670_000_123).render();
    let types = check_format(&text);
    assert_eq!(types.len(), 18, "{text}");
    assert_eq!(value(&text, "edge_agent_samples_taken_total"), 0.0);
    assert_eq!(value(&text, "edge_agent_connected"), 0.0);
    assert_eq!(value(&text, "edge_agent_store_healthy"), 1.0);
    assert_eq!(
        value(&text, "edge_agent_start_time_seconds"),
        1_764_670_000.123
    );
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        text.contains(&format!(
            "edge_agent_build_info{{version=\"{version}\",device_id=\"ems_001\"}} 1\n"
        )),
        "{text}"
    );
}

#[test]
fn each_recording_moves_its_family() {
    let metrics = AgentMetrics::new("d", 0);
    metrics.on_sample(true, 1_764_670_001_500);
    metrics.on_sample(false, 1_764_670_002_500);
    metrics.on_sent(5);
    metrics.on_sent(2);
    metrics.on_confirmed(4);
    metrics.set_readings_refused(3);
    metrics.on_connect_attempt();
    metrics.on_connect_failed();
    metrics.on_connect_attempt();
    metrics.on_connected();
    metrics.set_sample_interval(Duration::from_millis(250));
    metrics.set_store(StoreFigures {
        backlog: 9,
        dropped: 2,
        health: StoreHealth {
            degraded: true,
            errors: 6,
            in_memory: 1,
        },
    });
    let text = metrics.render();
    check_format(&text);
    for (name, expected) in [
        ("edge_agent_samples_taken_total", 2.0),
        ("edge_agent_samples_stored_total", 1.0),
        ("edge_agent_samples_sent_total", 7.0),
        ("edge_agent_samples_stored_acked_total", 4.0),
        ("edge_agent_samples_dropped_total", 2.0),
        ("edge_agent_readings_refused_total", 3.0),
        ("edge_agent_connection_attempts_total", 2.0),
        ("edge_agent_connection_failures_total", 1.0),
        ("edge_agent_connections_total", 1.0),
        ("edge_agent_connected", 1.0),
        ("edge_agent_backlog_samples", 9.0),
        ("edge_agent_store_healthy", 0.0),
        ("edge_agent_store_errors_total", 6.0),
        ("edge_agent_store_in_memory_samples", 1.0),
        ("edge_agent_sample_interval_seconds", 0.25),
        ("edge_agent_last_sample_timestamp_seconds", 1_764_670_002.5),
    ] {
        assert_eq!(value(&text, name), expected, "{name}");
    }
    metrics.on_disconnected();
    assert_eq!(value(&metrics.render(), "edge_agent_connected"), 0.0);
}

#[test]
fn label_values_and_help_texts_are_escaped() {
    assert_eq!(label_value(r#"a"b\c"#), r#"a\"b\\c"#);
    assert_eq!(label_value("line\nbreak"), "line\\nbreak");
    assert_eq!(label_value("plain-id_1"), "plain-id_1");
    assert_eq!(help_text("a\\b\nc \"quoted\""), "a\\\\b\\nc \"quoted\"");
    let text = AgentMetrics::new("x\"y\\z\nw", 0).render();
    check_format(&text);
    assert!(
        text.contains(r#"device_id="x\"y\\z\nw"} 1"#),
        "escaped in the info line:\n{text}"
    );
}

#[test]
fn a_huge_interval_or_timestamp_still_renders_a_number() {
    let metrics = AgentMetrics::new("d", u64::MAX);
    metrics.set_sample_interval(Duration::MAX);
    metrics.on_sample(true, u64::MAX);
    check_format(&metrics.render());
}
