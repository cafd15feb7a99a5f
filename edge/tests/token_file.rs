//! The `edge-agent` binary with its token in a file: named by `API_TOKEN_FILE`, or as systemd's credential in
//! `$CREDENTIALS_DIRECTORY`, with no `API_TOKEN` in its environment. The fake hub on port 0 sees the file's token
//! in the `Authorization` header; the log says where the token came from and never shows it; a token file the
//! agent cannot use stops it with exit code 78 and a message naming the file, not the token.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use edge_agent::testing::{DEVICE_ID, FakeHub, Mode, device_token, scratch_dir};
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep, timeout};

/// Generous, for a loaded 2-core machine.
const WAIT: Duration = Duration::from_secs(60);

/// `EX_CONFIG`: the agent's exit code for a configuration it refuses.
const EXIT_CONFIG: i32 = 78;

const CONFIG: &str = "sample_interval_secs = 0.2\n";

/// Writes `token` and a newline to `path` with mode 0600.
fn write_token(path: &Path, token: &str) {
    std::fs::write(path, format!("{token}\n")).expect("write the token file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// The agent binary in `dir` with the config above and only the plain variables, `PATH` and `vars` set.
fn agent(dir: &Path, server_url: &str, vars: &[(&str, &Path)]) -> Command {
    let config = dir.join("config.toml");
    std::fs::write(&config, CONFIG).expect("write the config");
    let mut command =
        edge_agent::testing::agent_process(std::path::Path::new(env!("CARGO_BIN_EXE_edge-agent")));
    command
        .arg("--config")
        .arg(&config)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DEVICE_ID", DEVICE_ID)
        .env("SERVER_URL", server_url)
        .env("EDGE_STORE__PATH", dir.join("samples"))
        .env("RUST_LOG", "info")
        .envs(vars.iter().map(|(name, value)| (*name, *value)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    command
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("agent.log")
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(log_path(dir)).unwrap_or_default()
}

/// Starts `command` logging to the scratch log and waits for its first sample at `hub`.
async fn run_until_a_sample(hub: &FakeHub, dir: &Path, mut command: Command) -> Child {
    let log_file = std::fs::File::create(log_path(dir)).expect("create the log");
    let mut child = command.stderr(log_file).spawn().expect("start the agent");
    let deadline = Instant::now() + WAIT;
    while hub.record().accepted.is_empty() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the agent exited early ({status}):\n{}", log(dir));
        }
        assert!(
            Instant::now() < deadline,
            "no sample in {WAIT:?}:\n{}",
            log(dir)
        );
        sleep(Duration::from_millis(50)).await;
    }
    child
}

/// The `Authorization` header of the hub's first handshake.
fn authorization(hub: &FakeHub) -> Option<String> {
    let record = hub.record();
    record.handshakes[0]
        .header("authorization")
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_read_from_the_file_api_token_file_names() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let token = device_token();
    let file = dir.path().join("api_token");
    write_token(&file, &token);
    let command = agent(dir.path(), &hub.url(), &[("API_TOKEN_FILE", &file)]);
    let child = run_until_a_sample(&hub, dir.path(), command).await;
    assert_eq!(authorization(&hub), Some(format!("Bearer {token}")));
    drop(child);
    let log = log(dir.path());
    assert!(
        log.contains("device token read from api_token_file"),
        "{log}"
    );
    assert!(!log.contains("WARN"), "no warning for a 0600 file: {log}");
    assert!(
        !log.contains(&token[5..]),
        "the token shows in the log: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_read_from_the_systemd_credential_and_beats_api_token() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).expect("create the credentials directory");
    let (token, other) = (device_token(), device_token());
    write_token(&credentials.join("api_token"), &token);
    let mut command = agent(
        dir.path(),
        &hub.url(),
        &[("CREDENTIALS_DIRECTORY", &credentials)],
    );
    command.env("API_TOKEN", &other);
    let child = run_until_a_sample(&hub, dir.path(), command).await;
    assert_eq!(authorization(&hub), Some(format!("Bearer {token}")));
    drop(child);
    let log = log(dir.path());
    assert!(
        log.contains("device token read from the systemd credential"),
        "{log}"
    );
    assert!(log.contains("API_TOKEN is set too and ignored"), "{log}");
    assert!(
        !log.contains(&token[5..]) && !log.contains(&other[5..]),
        "{log}"
    );
}

#[tokio::test]
async fn an_unusable_token_file_exits_78_naming_the_file_not_the_token() {
    let dir = scratch_dir();
    let token = device_token();
    let mut typo = token.clone();
    typo.replace_range(12..13, if &token[12..13] == "a" { "b" } else { "a" });
    let malformed = dir.path().join("malformed");
    write_token(&malformed, &typo);
    let missing = dir.path().join("missing");
    for (file, why) in [
        (&malformed, "does not hold a device token"),
        (&missing, "cannot read"),
    ] {
        let mut command = agent(
            dir.path(),
            "wss://hub.example.com",
            &[("API_TOKEN_FILE", file)],
        );
        command.env("API_TOKEN", &token).stderr(Stdio::piped());
        let output = timeout(WAIT, command.output())
            .await
            .expect("exits in time")
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(EXIT_CONFIG), "{stderr}");
        assert!(
            stderr.contains(&file.display().to_string()) && stderr.contains(why),
            "{stderr}"
        );
        assert!(
            !stderr.contains(&typo[5..]) && !stderr.contains(&token[5..]),
            "{stderr}"
        );
    }
}
