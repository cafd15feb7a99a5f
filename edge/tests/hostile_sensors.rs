//! Hostile command sensors against the real agent and the fake hub: JSON nested 127 levels deep, a 1 MiB line,
//! NaN, infinities and `1e999` are refused at the sensor boundary (counted, logged once, never stored or sent)
//! while the agent keeps sampling; a reading just inside the bounds is stored and sent; and the agent's token
//! never reaches a sensor program's environment.

use std::path::Path;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use edge_agent::config::AgentConfig;
use edge_agent::sensors::{CommandConfig, SensorConfig};
use edge_agent::testing::{
    Captured, DEVICE_ID, FakeHub, Mode, RunningAgent, assert_contiguous_from_1, config,
    device_token, scratch_dir, store_in,
};
use serde_json::Value;
use tokio::time::{Instant, sleep};

/// One log capture for this test binary: the sampler logs from blocking threads, so only a global subscriber
/// sees its lines.
fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

fn command(program: &str, args: &[&str]) -> SensorConfig {
    SensorConfig::Command(CommandConfig {
        program: program.into(),
        args: args.iter().map(|a| (*a).to_string()).collect(),
        timeout_ms: 5000,
        field: None,
    })
}

fn agent_config(hub: &FakeHub, store: &Path, sensors: Vec<SensorConfig>) -> AgentConfig {
    let mut config = config(&hub.url(), &device_token(), store, &[]);
    config.sensors = sensors;
    config
}

/// `{"key": [[…[1]…]]}`, `depth` levels deep as printed.
fn nested(key: &str, depth: usize) -> String {
    format!(
        "{{\"{key}\": {}1{}}}",
        "[".repeat(depth - 1),
        "]".repeat(depth - 1)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_127_levels_deep_is_refused_and_the_agent_keeps_sampling_across_a_restart() {
    let logs = logs();
    let hub = FakeHub::start(Mode::Refuse(503)).await;
    let dir = scratch_dir();
    let deep = nested("deep", 127);
    let inside = nested("inside", 32);
    let sensors = vec![
        command("/bin/echo", &[&deep]),
        command("/bin/sh", &["-c", &format!("printf '%s' '{inside}'")]),
    ];
    // The hub is away: samples pile up in the store, as they did when a deep one stopped the agent for good.
    let agent = RunningAgent::start_with_config_sensors(agent_config(
        &hub,
        &store_in(&dir),
        sensors.clone(),
    ));
    sleep(Duration::from_millis(600)).await;
    agent.stop().await;
    hub.set_mode(Mode::Accept);
    let agent =
        RunningAgent::start_with_config_sensors(agent_config(&hub, &store_in(&dir), sensors));
    hub.wait_for(
        Duration::from_secs(20),
        "the stored samples, then five new ones",
        |r| second_run_samples(r) >= 5,
    )
    .await;
    agent.stop().await;

    let accepted = hub.record().accepted.clone();
    assert_contiguous_from_1(&hub.accepted_seqs());
    let refusal =
        "command /bin/echo: reading refused: nested 127 levels deep, more than the 32 allowed";
    for sample in &accepted {
        let data = &sample["data"];
        assert!(data.get("deep").is_none(), "{data}");
        assert_eq!(
            data["sensor_errors"],
            serde_json::json!([refusal]),
            "{data}"
        );
        assert!(
            data["readings_refused"].as_u64().is_some_and(|n| n >= 1),
            "{data}"
        );
        let inside_value: Value = serde_json::from_str(&inside).expect("valid JSON");
        assert_eq!(
            data["inside"], inside_value["inside"],
            "stored and sent whole"
        );
    }
    let counts: Vec<u64> = accepted
        .iter()
        .filter_map(|s| s["data"]["readings_refused"].as_u64())
        .collect();
    assert_eq!(counts[..3], [1, 2, 3], "counted since start");
    let restarts = counts.windows(2).filter(|pair| pair[1] < pair[0]).count();
    assert_eq!(
        restarts, 1,
        "the stored samples came first, each run counting from 1: {counts:?}"
    );
    let text = logs.text();
    let warned = text.lines().filter(|l| {
        l.contains("WARN") && l.contains("sensor reading refused") && l.contains("nested 127")
    });
    assert_eq!(warned.count(), 2, "once per run:\n{text}");
}

/// How many samples of the second run arrived: those after `readings_refused` starts again from 1.
fn second_run_samples(record: &edge_agent::testing::Record) -> usize {
    let counts: Vec<u64> = record
        .accepted
        .iter()
        .filter_map(|s| s["data"]["readings_refused"].as_u64())
        .collect();
    counts
        .windows(2)
        .position(|pair| pair[1] < pair[0])
        .map_or(0, |i| counts.len() - i - 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nan_infinities_1e999_and_a_1_mib_line_are_refused_and_counted() {
    let _ = logs();
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let mut sensors: Vec<SensorConfig> = [
        r#"{"a": NaN}"#,
        r#"{"b": -Infinity}"#,
        r#"{"c": inf}"#,
        r#"{"d": 1e999}"#,
    ]
    .iter()
    .map(|printed| command("/usr/bin/printf", &[printed]))
    .collect();
    let one_mib = "printf '{\"e\": \"'; head -c 1048576 /dev/zero | tr '\\0' x; printf '\"}'";
    sensors.push(command("/bin/sh", &["-c", one_mib]));
    sensors.push(command("/bin/echo", &[r#"{"ok": 1}"#]));
    let agent =
        RunningAgent::start_with_config_sensors(agent_config(&hub, &store_in(&dir), sensors));
    hub.wait_for(Duration::from_secs(20), "three samples", |r| {
        r.accepted.len() >= 3
    })
    .await;
    agent.stop().await;

    let record = hub.record();
    let refused = |what: &str| format!("reading refused: {what}");
    let not_finite = |n: &str| {
        refused(&format!(
            "a number that is not finite ({n}); only finite numbers are allowed"
        ))
    };
    let expected = [
        format!("command /usr/bin/printf: {}", not_finite("NaN")),
        format!("command /usr/bin/printf: {}", not_finite("-Infinity")),
        format!("command /usr/bin/printf: {}", not_finite("inf")),
        format!("command /usr/bin/printf: {}", not_finite("1e999")),
        format!("command /bin/sh: {}", refused("printed more than 64 KiB")),
    ];
    for (k, sample) in record.accepted.iter().enumerate() {
        let data = &sample["data"];
        assert_eq!(data["ok"], 1, "{data}");
        for key in ["a", "b", "c", "d", "e"] {
            assert!(data.get(key).is_none(), "{key} stored: {data}");
        }
        assert_eq!(data["sensor_errors"], serde_json::json!(expected), "{data}");
        assert_eq!(data["readings_refused"], 5 * (k as u64 + 1), "{data}");
    }
}

#[tokio::test]
async fn a_sensor_program_never_sees_the_agent_token_or_settings() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let seen = dir.path().join("seen-env");
    let config = format!(
        "sample_interval_secs = 0.1\n[[sensors]]\nkind = \"command\"\nprogram = \"/bin/sh\"\nargs = [\"-c\", \"env > {}; echo '{{}}'\"]\n",
        seen.display()
    );
    std::fs::write(dir.path().join("config.toml"), config).expect("write the config");
    let token = device_token();
    let mut agent =
        edge_agent::testing::agent_process(std::path::Path::new(env!("CARGO_BIN_EXE_edge-agent")))
            .arg("--config")
            .arg(dir.path().join("config.toml"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("DEVICE_ID", DEVICE_ID)
            .env("API_TOKEN", &token)
            .env("SERVER_URL", hub.url())
            .env("EDGE_STORE__PATH", dir.path().join("samples.redb"))
            .env("EDGE_CONNECTION__BACKOFF_BASE_SECS", "0.1")
            .env("HOSTILE_PROBE", "inherited")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the agent binary");
    let deadline = Instant::now() + Duration::from_secs(60);
    while hub.record().accepted.is_empty() {
        assert!(Instant::now() < deadline, "no sample from the agent binary");
        sleep(Duration::from_millis(50)).await;
    }
    let _ = agent.start_kill();
    let _ = agent.wait().await;

    let env = std::fs::read_to_string(&seen).expect("the program wrote its environment");
    assert!(
        !env.contains(&token[5..]),
        "the token reached the program:\n{env}"
    );
    for name in [
        "API_TOKEN",
        "DEVICE_ID",
        "SERVER_URL",
        "EDGE_",
        "HOSTILE_PROBE",
    ] {
        assert!(!env.contains(name), "{name} reached the program:\n{env}");
    }
    assert!(env.lines().any(|l| l.starts_with("PATH=")), "{env}");
}
