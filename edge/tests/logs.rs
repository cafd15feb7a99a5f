//! The agent's log output during a run with refusals, commands and shutdown: status lines are there, the
//! authentication failure is reported once, and the token appears nowhere. The binary with `--log-format json`
//! writes one JSON object per line, with the same events and fields, and no token either.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use edge_agent::testing::{
    Captured, DEVICE_ID, FakeHub, Mode, RunningAgent, agent_process, config, device_token,
    scratch_dir, store_in,
};
use serde_json::{Value, json};
use tokio::process::Command;
use tokio::time::{sleep, timeout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_have_status_lines_and_never_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let hub = FakeHub::start(Mode::Refuse(401)).await;
    let dir = scratch_dir();
    let token = device_token();
    let cap = [("EDGE_CONNECTION__BACKOFF_CAP_SECS", "0.4")];
    let agent = RunningAgent::start(config(&hub.url(), &token, &store_in(&dir), &cap));
    hub.wait_for(Duration::from_secs(10), "three refusals", |r| {
        r.handshakes.len() >= 3
    })
    .await;
    hub.set_mode(Mode::Accept);
    hub.wait_for(Duration::from_secs(10), "samples", |r| {
        r.accepted.len() >= 3
    })
    .await;
    assert!(hub.send_command("c-1", "ping", json!({})));
    hub.wait_for(Duration::from_secs(10), "the result", |r| {
        r.frames.iter().any(|f| f["id"] == "c-1")
    })
    .await;
    sleep(Duration::from_millis(100)).await;
    agent.stop().await;

    let logs = captured.text();
    assert!(
        !logs.contains(&token[5..]),
        "the token leaked into the logs:\n{logs}"
    );
    assert!(!logs.contains(&token[20..40]));
    let loud = logs
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("authentication failed (HTTP 401)"));
    assert_eq!(loud.count(), 1, "reported loudly once:\n{logs}");
    for line in [
        "connecting",
        "connected",
        "reconnecting in",
        "command done",
        "sample store persisted",
    ] {
        assert!(logs.contains(line), "no {line:?} in:\n{logs}");
    }
}

/// Generous, for a loaded 2-core machine or qemu.
const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_with_the_event_s_fields_and_never_the_token() {
    let hub = FakeHub::start(Mode::Refuse(401)).await;
    let dir = scratch_dir();
    let token = device_token();
    let token_file = dir.path().join("api_token");
    std::fs::write(&token_file, format!("{token}\n")).expect("write the token file");
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "sample_interval_secs = 0.05\n").expect("write the config");
    let log_path = dir.path().join("agent.log");
    let mut child = agent_process(std::path::Path::new(env!("CARGO_BIN_EXE_edge-agent")))
        .args(["--log-format", "json", "--config"])
        .arg(&config)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DEVICE_ID", DEVICE_ID)
        .env("SERVER_URL", hub.url())
        .env("API_TOKEN_FILE", &token_file)
        .env("EDGE_STORE__PATH", dir.path().join("samples"))
        .env("EDGE_CONNECTION__BACKOFF_BASE_SECS", "0.05")
        .env("EDGE_CONNECTION__BACKOFF_CAP_SECS", "0.4")
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).expect("create the log"))
        .kill_on_drop(true)
        .spawn()
        .expect("start the agent");
    hub.wait_for(WAIT, "two refusals", |r| r.handshakes.len() >= 2)
        .await;
    hub.set_mode(Mode::Accept);
    hub.wait_for(WAIT, "samples", |r| r.accepted.len() >= 3)
        .await;
    assert!(hub.send_command("c-1", "ping", json!({})));
    hub.wait_for(WAIT, "the result", |r| {
        r.frames.iter().any(|f| f["id"] == "c-1")
    })
    .await;
    let pid = child.id().expect("running").to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().await;
    assert!(killed.expect("run kill").success());
    let status = timeout(WAIT, child.wait())
        .await
        .expect("it stops")
        .expect("wait");
    let logs = std::fs::read_to_string(&log_path).expect("read the log");
    assert!(status.success(), "{status}:\n{logs}");

    assert!(
        !logs.contains(&token[5..]),
        "the token leaked into the logs:\n{logs}"
    );
    assert!(!logs.contains(&token[20..40]));
    let events: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    for event in &events {
        let object = event
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {event}"));
        for key in ["timestamp", "level", "message", "target"] {
            assert!(
                object.get(key).is_some_and(Value::is_string),
                "no {key}: {event}"
            );
        }
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
                .contains(&event["level"].as_str().unwrap_or_default())
        );
        assert!(
            event["timestamp"]
                .as_str()
                .is_some_and(|t| t.starts_with("20") && t.ends_with('Z')),
            "{event}"
        );
    }
    let find = |message: &str| {
        events
            .iter()
            .find(|e| {
                e["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(message))
            })
            .unwrap_or_else(|| panic!("no {message:?} in:\n{logs}"))
    };
    let origin = find("device token read from api_token_file");
    assert_eq!(origin["file"], json!(token_file.display().to_string()));
    assert!(
        find("connecting")["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("ws://127.0.0.1:"))
    );
    let refused = find("disconnected; reconnecting in");
    assert_eq!(refused["level"], "ERROR");
    assert!(
        refused["reason"]
            .as_str()
            .is_some_and(|r| r.contains("HTTP 401")),
        "{refused}"
    );
    assert!(
        find("sample store open")["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("edge_agent"))
    );
    find("SIGTERM: shutting down");
    find("sample store persisted");
}
