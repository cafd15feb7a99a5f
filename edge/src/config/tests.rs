//! Unit tests of config layering, validation messages and the committed example file.

use std::collections::HashMap;

use telemetry_protocol::{TokenKind, generate_token};

use super::*;

const EXAMPLE: &str = include_str!("../../config.example.toml");

fn token() -> String {
    let mut n = 3u8;
    generate_token(TokenKind::Device, |buf| {
        for b in buf {
            n = n.wrapping_mul(31).wrapping_add(7);
            *b = n;
        }
    })
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut map: HashMap<String, String> = [
        ("DEVICE_ID", "ems_001"),
        ("SERVER_URL", "wss://hub.example.workers.dev"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    map.insert("API_TOKEN".into(), token());
    map.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    map
}

fn load_env(pairs: &[(&str, &str)]) -> Result<AgentConfig, ConfigError> {
    AgentConfig::load(&ConfigFile::None, env(pairs))
}

fn load_file(text: &str, pairs: &[(&str, &str)]) -> Result<AgentConfig, ConfigError> {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).expect("write config");
    AgentConfig::load(&ConfigFile::Required(path), env(pairs))
}

fn error(result: Result<AgentConfig, ConfigError>) -> String {
    result.expect_err("should be refused").to_string()
}

#[test]
fn defaults_are_the_documented_production_values() {
    let config = load_env(&[]).expect("valid");
    assert_eq!(config.device_id.as_str(), "ems_001");
    assert_eq!(
        config.device_url(),
        "wss://hub.example.workers.dev/ws/device/ems_001"
    );
    assert_eq!(config.sample_interval, Duration::from_secs(1));
    assert_eq!(
        config.store.path,
        PathBuf::from("/var/lib/edge-agent/samples")
    );
    assert_eq!(config.store.max_samples, 86_400);
    assert_eq!(config.store.sync_interval, Duration::ZERO);
    assert_eq!(config.store.segment_bytes, 1024 * 1024);
    let c = config.connection;
    assert_eq!(c.connect_timeout, Duration::from_secs(10));
    assert_eq!(c.ping_interval, Duration::from_secs(20));
    assert_eq!(c.read_timeout, Duration::from_secs(45));
    assert_eq!(c.ack_timeout, Duration::from_secs(30));
    assert_eq!(c.backoff, BackoffPolicy::default());
    assert_eq!(c.backoff_reset_after, Duration::from_secs(30));
    assert_eq!(config.sensors, crate::sensors::default_sensors());
    assert!(config.gpio_outputs.is_empty() && config.ca_file.is_none());
}

#[test]
fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
    let file = "sample_interval_secs = 5\ndevice_id = \"from-file\"\n[store]\nmax_samples = 100\n";
    let config = load_file(file, &[]).expect("valid");
    assert_eq!(config.sample_interval, Duration::from_secs(5));
    assert_eq!(config.store.max_samples, 100);
    assert_eq!(
        config.device_id.as_str(),
        "ems_001",
        "plain DEVICE_ID beats the file"
    );
    let config = load_file(
        file,
        &[
            ("EDGE_SAMPLE_INTERVAL_SECS", "0.25"),
            ("EDGE_STORE__MAX_SAMPLES", "7"),
            ("EDGE_CONNECTION__PING_INTERVAL_SECS", "2"),
            ("EDGE_ALLOW_INSECURE", "true"),
            ("EDGE_GPIO_OUTPUTS", "17, 27"),
        ],
    )
    .expect("valid");
    assert_eq!(config.sample_interval, Duration::from_millis(250));
    assert_eq!(config.store.max_samples, 7);
    assert_eq!(config.connection.ping_interval, Duration::from_secs(2));
    assert_eq!(config.gpio_outputs, [17, 27]);
}

#[test]
fn plain_variables_beat_prefixed_ones() {
    let config = load_env(&[("EDGE_DEVICE_ID", "prefixed")]).expect("valid");
    assert_eq!(config.device_id.as_str(), "ems_001");
    let mut only_prefixed = env(&[("EDGE_DEVICE_ID", "prefixed")]);
    only_prefixed.remove("DEVICE_ID");
    let config = AgentConfig::load(&ConfigFile::None, only_prefixed).expect("valid");
    assert_eq!(config.device_id.as_str(), "prefixed");
}

#[test]
fn missing_required_values_name_their_key_and_variable() {
    for (var, key) in [
        ("DEVICE_ID", "device_id (DEVICE_ID)"),
        ("API_TOKEN", "api_token (API_TOKEN)"),
        ("SERVER_URL", "server_url (SERVER_URL)"),
    ] {
        let mut vars = env(&[]);
        vars.remove(var);
        let message = error(AgentConfig::load(&ConfigFile::None, vars));
        assert!(
            message.contains(key) && message.contains("missing"),
            "{message}"
        );
    }
}

#[test]
fn malformed_values_name_their_key() {
    for (pairs, key) in [
        (vec![("DEVICE_ID", "bad id")], "device_id"),
        (vec![("SERVER_URL", "ws://hub.example.com")], "server_url"),
        (
            vec![("EDGE_SAMPLE_INTERVAL_SECS", "0")],
            "sample_interval_secs",
        ),
        (
            vec![("EDGE_SAMPLE_INTERVAL_SECS", "soon")],
            "sample_interval_secs",
        ),
        (vec![("EDGE_STORE__MAX_SAMPLES", "0")], "store.max_samples"),
        (
            vec![("EDGE_CONNECTION__PING_INTERVAL_SECS", "50")],
            "connection.read_timeout_secs",
        ),
        (
            vec![("EDGE_CONNECTION__BACKOFF_BASE_SECS", "120")],
            "connection.backoff_cap_secs",
        ),
        (vec![("EDGE_GPIO_OUTPUTS", "17,x")], "gpio_outputs"),
        (vec![("EDGE_GPIO_OUTPUTS", "17,40")], "gpio_outputs[1]"),
        (vec![("EDGE_NO_SUCH_KEY", "1")], "no_such_key"),
    ] {
        let message = error(load_env(&pairs));
        assert!(message.contains(key), "{pairs:?}: {message}");
    }
}

#[test]
fn file_errors_name_the_key_or_the_file() {
    let message = error(load_file("sample_interval_secs = \"soon\"\n", &[]));
    assert!(message.contains("sample_interval_secs"), "{message}");
    let message = error(load_file("[store]\nmax_sample = 5\n", &[]));
    assert!(message.contains("max_sample"), "{message}");
    let message = error(load_file("[[sensors]]\nkind = \"thermometer\"\n", &[]));
    assert!(message.contains("thermometer"), "{message}");
    let message = error(load_file("this is not toml", &[]));
    assert!(message.contains("config.toml"), "{message}");
    let missing = ConfigFile::Required(PathBuf::from("/nonexistent/edge.toml"));
    let message = error(AgentConfig::load(&missing, env(&[])));
    assert!(message.contains("/nonexistent/edge.toml"), "{message}");
    let optional = ConfigFile::Optional(PathBuf::from("/nonexistent/edge.toml"));
    assert!(AgentConfig::load(&optional, env(&[])).is_ok());
}

#[test]
fn an_output_pin_that_a_gpio_input_sensor_reads_is_refused() {
    let text = "gpio_outputs = [22]\n[[sensors]]\nkind = \"gpio_input\"\npins = [5, 22]\n";
    let message = error(load_file(text, &[]));
    assert!(
        message.contains("GPIO 22 is also read by a gpio_input sensor"),
        "{message}"
    );
}

#[test]
fn reserved_header_pins_and_an_i2c_sensor_s_pins_are_refused_as_outputs() {
    let ina226 = "[[sensors]]\nkind = \"ina226\"\nshunt_ohms = 0.002\nmax_current_a = 20\n";
    let message = error(load_file(&format!("gpio_outputs = [17, 2]\n{ina226}"), &[]));
    assert!(
        message
            .contains("gpio_outputs[1]: GPIO 2 is I2C1 SDA, used by the ina226 sensor sensors[0]"),
        "{message}"
    );
    let message = error(load_env(&[("EDGE_GPIO_OUTPUTS", "14")]));
    assert!(message.contains("GPIO 14 is UART0 TXD"), "{message}");
    assert!(load_file(&format!("gpio_outputs = [17]\n{ina226}"), &[]).is_ok());
}

#[test]
fn a_bad_token_is_refused_without_showing_it() {
    let good = token();
    let mut typo = good.clone();
    typo.replace_range(12..13, if &good[12..13] == "a" { "b" } else { "a" });
    let message = error(load_env(&[("API_TOKEN", &typo)]));
    assert!(message.contains("api_token (API_TOKEN)"), "{message}");
    assert!(!message.contains(&typo[5..]), "{message}");
    let config = load_env(&[]).expect("valid");
    assert!(!format!("{config:?}").contains(&good[5..]));
}

#[test]
fn prefixed_variables_that_are_not_keys_are_refused_by_name_before_the_config_crate_reads_them() {
    let deep = format!("EDGE_{}B", "A__".repeat(20_000));
    let dotted = format!("EDGE_{}B", "A.".repeat(20_000));
    for name in [
        "EDGE_X[99999999999]",
        "EDGE_X[-99999999999]",
        deep.as_str(),
        dotted.as_str(),
    ] {
        let refused = load_env(&[(name, "value-never-shown")]).expect_err("refused");
        let shown = format!("{refused} {refused:?}");
        assert!(matches!(refused, ConfigError::Variable { .. }), "{shown}");
        assert!(shown.contains(&name[..name.len().min(40)]), "{shown}");
        assert!(!shown.contains("value-never-shown"), "{shown}");
    }
}

#[test]
fn variables_without_the_prefix_are_still_ignored() {
    let config = load_env(&[
        ("X[99999999999]", "1"),
        ("A__A__A__A__B", "1"),
        ("EDGEX.Y", "1"),
        ("RUST_LOG", "debug"),
    ])
    .expect("valid");
    assert_eq!(config.device_id.as_str(), "ems_001");
}

#[test]
fn a_syntax_error_names_file_line_and_column_but_never_quotes_the_token() {
    let secret = token();
    let result = load_file(&format!("device_id = \"a\"\napi_token = \"{secret}"), &[]);
    let refused = result.expect_err("refused");
    let shown = format!("{refused} {refused:?}");
    assert!(matches!(refused, ConfigError::Load(_)), "{shown}");
    assert!(
        shown.contains("config.toml") && shown.contains("line 2, column "),
        "{shown}"
    );
    assert!(!shown.contains(&secret[5..21]), "{shown}");
    assert!(!shown.contains("api_token"), "the line is quoted: {shown}");
}

#[test]
fn token_like_values_are_hidden_in_the_config_crate_s_other_messages() {
    let secret = token();
    let from_file = load_file(&format!("sample_interval_secs = \"{secret}\"\n"), &[]);
    let from_env = load_env(&[("EDGE_SAMPLE_INTERVAL_SECS", &secret)]);
    for refused in [from_file, from_env].map(|r| r.expect_err("refused")) {
        let shown = format!("{refused} {refused:?}");
        assert!(shown.contains("sample_interval_secs"), "{shown}");
        assert!(!shown.contains(&secret[5..21]), "{shown}");
    }
}

#[test]
fn the_example_config_parses_through_the_real_loader() {
    let config = load_file(EXAMPLE, &[]).expect("example parses");
    assert_eq!(config.device_id.as_str(), "ems_001");
}

#[test]
fn the_example_config_states_the_real_defaults() {
    let mut without_plain = env(&[]);
    without_plain.remove("DEVICE_ID");
    without_plain.remove("SERVER_URL");
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, EXAMPLE).expect("write");
    let example = AgentConfig::load(&ConfigFile::Required(path), without_plain).expect("example");
    let defaults = load_env(&[
        ("DEVICE_ID", example.device_id.as_str()),
        ("SERVER_URL", example.server.as_str()),
    ])
    .expect("defaults");
    assert_eq!(
        example, defaults,
        "config.example.toml and DEFAULTS_TOML disagree"
    );
}

#[test]
fn the_commented_sensor_examples_parse_too() {
    let start = EXAMPLE.find("# --- sensor examples").expect("start marker");
    let end = EXAMPLE
        .find("# --- end of sensor examples")
        .expect("end marker");
    let block: String = EXAMPLE[start..end]
        .lines()
        .skip(1)
        .map(|line| {
            line.strip_prefix("# ")
                .unwrap_or(line.trim_start_matches('#'))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = load_file(&block, &[]).expect("sensor examples parse");
    assert_eq!(config.sensors.len(), 3);
}

#[test]
fn metrics_are_off_and_logs_are_text_by_default() {
    let config = load_env(&[]).expect("defaults");
    assert_eq!(config.metrics.listen, None);
    assert_eq!(config.log_format, LogFormat::Text);
}

#[test]
fn metrics_listen_and_log_format_come_from_file_or_environment() {
    let config = load_env(&[
        ("EDGE_METRICS__LISTEN", "127.0.0.1:9187"),
        ("EDGE_LOG_FORMAT", "json"),
    ])
    .expect("valid");
    assert_eq!(
        config.metrics.listen,
        Some("127.0.0.1:9187".parse().expect("addr"))
    );
    assert_eq!(config.log_format, LogFormat::Json);
    let file = "log_format = \"json\"\n[metrics]\nlisten = \"[::1]:0\"\n";
    let config = load_file(file, &[]).expect("valid");
    assert_eq!(
        config.metrics.listen,
        Some("[::1]:0".parse().expect("addr"))
    );
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn a_metrics_address_beyond_loopback_needs_allow_remote() {
    for addr in ["0.0.0.0:9187", "192.168.1.20:9187", "[::]:9187"] {
        let message = load_env(&[("EDGE_METRICS__LISTEN", addr)])
            .expect_err(addr)
            .to_string();
        assert!(message.contains("metrics.listen"), "{message}");
        assert!(message.contains("metrics.allow_remote = true"), "{message}");
        let allowed = load_env(&[
            ("EDGE_METRICS__LISTEN", addr),
            ("EDGE_METRICS__ALLOW_REMOTE", "true"),
        ])
        .expect("allowed");
        assert_eq!(allowed.metrics.listen, Some(addr.parse().expect("addr")));
    }
}

#[test]
fn a_bad_metrics_address_or_log_format_names_its_key() {
    for (var, value, key) in [
        ("EDGE_METRICS__LISTEN", "localhost:9187", "metrics.listen"),
        ("EDGE_METRICS__LISTEN", "127.0.0.1", "metrics.listen"),
        ("EDGE_METRICS__LISTEN", "127.0.0.1:99999", "metrics.listen"),
        ("EDGE_LOG_FORMAT", "logfmt", "log_format"),
    ] {
        let message = load_env(&[(var, value)]).expect_err(value).to_string();
        assert!(
            message.starts_with(&format!("config key {key}")),
            "{message}"
        );
        assert!(message.contains(value), "{message}");
    }
}
