//! The `edge-agent` binary as a real process against the fake hub on port 0: configured by a file and the
//! environment, it connects, streams samples with the simulated and command sensors' fields, and exits 0 on SIGTERM;
//! a configuration it cannot use stops it with exit code 78 and a message that names the culprit, never an abort.
//!
//! By default it runs the binary cargo built next to this test. `scripts/cross-test` points it at the cross-built
//! binaries with `EDGE_AGENT_BIN` (a path) and `EDGE_AGENT_RUNNER` (e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu`),
//! so the aarch64, armv7 and static musl builds are each shown to run and connect under qemu-user.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use edge_agent::testing::{
    DEVICE_ID, FakeHub, Mode, agent_binary, agent_process, device_token, scratch_dir,
};
use serde_json::Value;
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep, timeout};

/// Generous: an emulated binary starts slowly, more so on a loaded 2-core machine.
const WAIT: Duration = Duration::from_secs(60);

/// `EX_CONFIG`: the agent's exit code for a configuration it refuses.
const EXIT_CONFIG: i32 = 78;

const CONFIG: &str = r#"
sample_interval_secs = 0.2

[[sensors]]
kind = "simulated"
seed = 7
speedup = 600

[[sensors]]
kind = "command"
program = "/bin/echo"
args = ['{"temp_c": 21.5}']
field = "cabinet"
"#;

/// The binary and the command line that runs it: `EDGE_AGENT_RUNNER` words, then the binary.
fn agent_command() -> (PathBuf, Command) {
    let built = Path::new(env!("CARGO_BIN_EXE_edge-agent"));
    (agent_binary(built), agent_process(built))
}

fn start_agent(hub: &FakeHub, dir: &Path, token: &str) -> (PathBuf, Child) {
    let config = dir.join("config.toml");
    std::fs::write(&config, CONFIG).expect("write the config");
    let log = std::fs::File::create(dir.join("agent.log")).expect("create the log");
    let (binary, mut command) = agent_command();
    command
        .arg("--config")
        .arg(&config)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DEVICE_ID", DEVICE_ID)
        .env("API_TOKEN", token)
        .env("SERVER_URL", hub.url())
        .env("EDGE_STORE__PATH", dir.join("samples"))
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    (binary, child)
}

fn agent_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_connects_streams_sensor_fields_and_stops_on_sigterm() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let token = device_token();
    let (binary, mut agent) = start_agent(&hub, dir.path(), &token);

    let deadline = Instant::now() + WAIT;
    while hub.record().accepted.len() < 3 {
        if let Ok(Some(status)) = agent.try_wait() {
            panic!(
                "{} exited early ({status}):\n{}",
                binary.display(),
                agent_log(dir.path())
            );
        }
        assert!(
            Instant::now() < deadline,
            "no samples from {} in {WAIT:?}:\n{}",
            binary.display(),
            agent_log(dir.path())
        );
        sleep(Duration::from_millis(50)).await;
    }

    {
        let record = hub.record();
        assert_eq!(record.handshakes[0].uri, format!("/ws/device/{DEVICE_ID}"));
        assert_eq!(
            record.handshakes[0].header("authorization"),
            Some(format!("Bearer {token}").as_str())
        );
        let data: &Value = &record.accepted[2]["data"];
        let voltage = data["battery"]["voltage"].as_f64().unwrap_or_default();
        assert!(
            (44.0..=58.4).contains(&voltage),
            "simulated battery voltage: {data}"
        );
        assert!(
            data["pv_power_w"].is_number() && data["load_power_w"].is_number(),
            "{data}"
        );
        assert_eq!(
            data["cabinet"]["temp_c"], 21.5,
            "the command sensor's object: {data}"
        );
    }

    let pid = agent.id().expect("still running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -TERM {pid}");
    let status = timeout(Duration::from_secs(20), agent.wait())
        .await
        .unwrap_or_else(|_| panic!("no exit within 20 s of SIGTERM:\n{}", agent_log(dir.path())))
        .expect("wait for the agent");
    assert!(
        status.success(),
        "exit after SIGTERM: {status}\n{}",
        agent_log(dir.path())
    );
}

/// Runs the binary with `config` as its file and only `vars` (besides the plain three and `PATH`) in its
/// environment, and returns its exit code (`None` if a signal ended it) and what it wrote to stderr.
async fn run_refused(dir: &Path, config: &str, vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let file = dir.join("config.toml");
    std::fs::write(&file, config).expect("write the config");
    let (binary, mut command) = agent_command();
    command
        .arg("--config")
        .arg(&file)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DEVICE_ID", DEVICE_ID)
        .env("API_TOKEN", device_token())
        .env("SERVER_URL", "wss://hub.example.com")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = timeout(WAIT, command.output())
        .await
        .unwrap_or_else(|_| panic!("{} did not exit within {WAIT:?}", binary.display()))
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr)
}

/// A value no message may show.
const HIDDEN_VALUE: &str = "value-never-shown";

#[tokio::test]
async fn a_huge_array_index_in_a_variable_name_exits_78_naming_the_variable() {
    let dir = scratch_dir();
    for name in ["EDGE_X[99999999999]", "EDGE_X[-99999999999]"] {
        let (code, stderr) = run_refused(dir.path(), "", &[(name, HIDDEN_VALUE)]).await;
        assert_eq!(code, Some(EXIT_CONFIG), "{name}: {stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
        assert!(!stderr.contains(HIDDEN_VALUE), "{name}: {stderr}");
    }
}

#[tokio::test]
async fn a_deeply_nested_variable_name_exits_78_naming_the_variable() {
    let dir = scratch_dir();
    for level in ["A__", "A."] {
        let name = format!("EDGE_{}B", level.repeat(20_000));
        let (code, stderr) = run_refused(dir.path(), "", &[(&name, HIDDEN_VALUE)]).await;
        let start = &name[..30];
        assert_eq!(code, Some(EXIT_CONFIG), "{start}…: {stderr}");
        assert!(stderr.contains(start), "{start}…: {stderr}");
        assert!(stderr.len() < 1_000, "the whole name is quoted: {stderr}");
        assert!(!stderr.contains(HIDDEN_VALUE), "{start}…: {stderr}");
    }
}

#[tokio::test]
async fn a_toml_syntax_error_on_the_token_line_exits_78_without_showing_the_token() {
    let dir = scratch_dir();
    let token = device_token();
    let config = format!("sample_interval_secs = 1\napi_token = \"{token}\n");
    let (code, stderr) = run_refused(dir.path(), &config, &[]).await;
    assert_eq!(code, Some(EXIT_CONFIG), "{stderr}");
    assert!(
        stderr.contains("config.toml") && stderr.contains("line 2, column"),
        "the file, line and column: {stderr}"
    );
    let tail = &token["tdev_".len()..];
    for piece in tail.as_bytes().chunks_exact(8) {
        let piece = std::str::from_utf8(piece).expect("base62");
        assert!(
            !stderr.contains(piece),
            "a piece of the token shows: {stderr}"
        );
    }
    assert!(
        !stderr.contains("api_token = "),
        "the line is quoted: {stderr}"
    );
}

#[tokio::test]
async fn status_prints_the_store_s_figures_as_text_and_json() {
    let dir = scratch_dir();
    let store = dir.path().join("samples");
    edge_agent::testing::prefill(&store, 7, 10);
    {
        let open = edge_agent::store::SampleStore::open(&store, 100).expect("open");
        open.ack_through(3).expect("ack");
        open.persist().expect("persist");
    }
    let (_, mut command) = agent_command();
    let output = command
        .args(["status", "--json"])
        .env("EDGE_STORE__PATH", &store)
        .output()
        .await
        .expect("run status");
    assert!(output.status.success(), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["health"], "ok");
    assert_eq!(report["last_stored_seq"], 7);
    assert_eq!(report["last_acked_seq"], 3);
    assert_eq!(report["backlog"], 4);
    assert_eq!(report["in_use"], false);
    assert_eq!(report["epoch"].as_str().map(str::len), Some(16));

    let (_, mut command) = agent_command();
    let output = command
        .args(["status", "--store"])
        .arg(dir.path().join("nothing-here"))
        .output()
        .await
        .expect("run status");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(text.contains("health:          new"), "{text}");

    std::fs::write(store.join("0000000000000000.seg"), b"garbage").expect("damage");
    let (_, mut command) = agent_command();
    let output = command
        .args(["status", "--store"])
        .arg(&store)
        .output()
        .await
        .expect("run status");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("unreadable: segment 0 has no valid header"),
        "{text}"
    );
}

#[tokio::test]
async fn an_output_on_an_i2c_pin_exits_78_saying_which_pin_and_why() {
    let dir = scratch_dir();
    let config =
        "gpio_outputs = [3]\n[[sensors]]\nkind = \"ina219\"\nshunt_ohms = 0.1\nmax_current_a = 3\n";
    let (code, stderr) = run_refused(dir.path(), config, &[]).await;
    assert_eq!(code, Some(EXIT_CONFIG), "{stderr}");
    assert!(
        stderr
            .contains("gpio_outputs[0]: GPIO 3 is I2C1 SCL, used by the ina219 sensor sensors[0]"),
        "{stderr}"
    );
}
