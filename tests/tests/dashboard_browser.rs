//! The dashboard end to end in a real browser: the page served by the Worker under `wrangler dev` and Debian's
//! Chromium driven headless by Node scripts (playwright-core).
//!
//! - `web/e2e/dashboard.mjs`, with a simulated edge agent streaming: sign in, pick the device, watch the chart
//!   grow, send commands, queue one for the device while it is offline (the agent stopped) and cancel another,
//!   survive a Worker restart.
//! - `web/e2e/history.mjs`, with a history this test seeds by connecting as the device: the chart opens on the
//!   past hour, shows a hole as a gap and values on hover, switches to 24 h and 7 d, appends live samples, fills
//!   a late backlog into its place, and downloads the range as CSV.
//!
//! A script asks for what only this test can do (stop and restart the Worker, revoke a token, send samples) on
//! its stdout, `@@ stop-hub`, and this test answers on its stdin once done. Tokens reach it through the
//! environment only. Screenshots are kept in `target/e2e-artifacts/`. The two tests take turns: each runs a
//! Worker and a browser. Without `/usr/bin/chromium` they fail (install it with `apt-get install -y
//! chromium`), unless `HUB_E2E_SKIP_BROWSER=1` says to skip them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use hub_e2e::workspace;
use hub_e2e::{Access, DashboardScope, HubServer, RunningAgent, WsClient};
use serde_json::{Value, json};
use telemetry_protocol::DeviceId;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;
use tokio::task::block_in_place;

const DEVICE: &str = "web-demo";
const CHROMIUM: &str = "/usr/bin/chromium";
const SKIP_ENV: &str = "HUB_E2E_SKIP_BROWSER";
/// The whole browser session, restart included, must finish within this.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);
/// How long the Worker stays down, so the page is seen counting down to its next attempt.
const OUTAGE: Duration = Duration::from_secs(3);

/// The device whose history the second test seeds.
const HISTORY_DEVICE: &str = "history-demo";
/// The seeded history: a sample every 10 s…
const STEP_MS: i64 = 10_000;
/// …from 50 minutes ago (step 0) to 2 minutes ago (step 288)…
const SEEDED_STEPS: std::ops::RangeInclusive<i64> = 0..=288;
/// …but for a 10-minute hole from 30 to 20 minutes ago, which a late backlog fills.
const HOLE_STEPS: std::ops::Range<i64> = 120..180;
/// Live samples after the seeded ones, on the same cadence.
const LIVE_STEPS: std::ops::RangeInclusive<i64> = 289..=291;
/// How long the device waits for an ack.
const ACK_WAIT: Duration = Duration::from_secs(10);

/// One browser test at a time: each runs a Worker and Chromium, and the machine may have two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_plots_live_data_sends_commands_and_reconnects_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut hub = block_in_place(HubServer::start);
    let device_token = hub.provision_devices(&[DEVICE]).remove(0).token;
    let control = hub
        .provision_dashboard(&DashboardScope::All, Access::Control)
        .token;
    let device_id = DeviceId::parse(DEVICE).expect("a valid id");
    let read = hub.provision_dashboard(&DashboardScope::Devices(vec![device_id]), Access::Read);
    let mut device = SimulatedDevice::start(&hub, device_token.clone());

    let artifacts = artifact_dir();
    let mut script = spawn_script(
        "e2e/dashboard.mjs",
        &[
            ("HUB_URL", hub.http_url("/")),
            ("DEVICE_ID", DEVICE.to_owned()),
            ("DASHBOARD_TOKEN", control.clone()),
            ("READ_TOKEN", read.token.clone()),
            ("ARTIFACT_DIR", artifacts.display().to_string()),
        ],
    );
    let outcome = tokio::time::timeout(
        SCRIPT_TIMEOUT,
        drive(&mut script, &mut hub, &read.token_id, &mut device),
    )
    .await;
    let output = match outcome {
        Ok(output) => output,
        Err(_) => {
            let _ = script.kill().await;
            panic!(
                "the browser script did not finish within {SCRIPT_TIMEOUT:?}; hub logs:\n{}",
                hub.logs()
            );
        }
    };
    let status = script.wait().await.expect("wait for node");
    let stderr = read_stderr(&mut script).await;
    assert!(
        status.success(),
        "the browser script failed ({status}):\n{output}\n--- stderr ---\n{stderr}\n--- hub logs ---\n{}",
        hub.logs()
    );
    assert!(output.contains("e2e: all steps passed"), "{output}");
    assert!(
        artifacts.join("dashboard.png").is_file(),
        "no screenshot in {}",
        artifacts.display()
    );
    let logs = hub.logs();
    for token in [&control, &read.token, &device_token] {
        assert!(
            !logs.contains(token.as_str()),
            "a token reached the hub log"
        );
    }
    eprintln!("{output}");
    device.stop().await;
}

/// The edge agent streaming as the device, which the script stops and starts again (`@@ stop-device`).
struct SimulatedDevice {
    token: String,
    agent: Option<RunningAgent>,
}

impl SimulatedDevice {
    fn start(hub: &HubServer, token: String) -> Self {
        let agent = RunningAgent::simulated(&hub.ws_url(""), DEVICE, &token, "0.5");
        Self {
            token,
            agent: Some(agent),
        }
    }

    fn restart(&mut self, hub: &HubServer) {
        assert!(self.agent.is_none(), "the device is already running");
        self.agent = Some(RunningAgent::simulated(
            &hub.ws_url(""),
            DEVICE,
            &self.token,
            "0.5",
        ));
    }

    async fn stop(&mut self) {
        if let Some(agent) = self.agent.take() {
            agent.stop().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charts_open_on_the_past_with_gaps_hover_ranges_backlog_and_csv_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let hub = block_in_place(HubServer::start);
    let device_token = hub.provision_devices(&[HISTORY_DEVICE]).remove(0).token;
    let reader = hub
        .provision_dashboard(&DashboardScope::All, Access::Read)
        .token;
    let mut device = WsClient::connect_bearer(
        &hub.ws_url(&format!("/ws/device/{HISTORY_DEVICE}")),
        &device_token,
    )
    .await;

    let first_ms = chrono::Utc::now().timestamp_millis() - 50 * 60_000;
    let at = |step: i64| first_ms + step * STEP_MS;
    let seeded: Vec<i64> = SEEDED_STEPS
        .filter(|step| !HOLE_STEPS.contains(step))
        .map(at)
        .collect();
    let mut sender = Sender::default();
    sender.send(&mut device, &seeded).await;

    let artifacts = artifact_dir();
    let mut script = spawn_script(
        "e2e/history.mjs",
        &[
            ("HUB_URL", hub.http_url("/")),
            ("DEVICE_ID", HISTORY_DEVICE.to_owned()),
            ("DASHBOARD_TOKEN", reader.clone()),
            ("ARTIFACT_DIR", artifacts.display().to_string()),
            ("SEEDED", seeded.len().to_string()),
            ("SEED_FIRST_MS", at(*SEEDED_STEPS.start()).to_string()),
            ("HOLE_FROM_MS", at(HOLE_STEPS.start).to_string()),
            ("HOLE_TO_MS", at(HOLE_STEPS.end).to_string()),
            ("LIVE", LIVE_STEPS.count().to_string()),
            ("LIVE_LAST_MS", at(*LIVE_STEPS.end()).to_string()),
            ("BACKLOG", HOLE_STEPS.count().to_string()),
        ],
    );
    let mut io = ScriptIo::of(&mut script);
    let relay = async {
        while let Some(request) = io.next_request().await {
            let answer = match request.as_str() {
                "send-live" => {
                    let live: Vec<i64> = LIVE_STEPS.map(at).collect();
                    sender.send(&mut device, &live).await;
                    "live-sent"
                }
                // Later seqs with earlier times: what a device sends after an outage it buffered through.
                "send-backlog" => {
                    let backlog: Vec<i64> = HOLE_STEPS.map(at).collect();
                    sender.send(&mut device, &backlog).await;
                    "backlog-sent"
                }
                _ => continue,
            };
            io.answer(answer).await;
        }
    };
    if tokio::time::timeout(SCRIPT_TIMEOUT, relay).await.is_err() {
        let _ = script.kill().await;
        panic!(
            "the browser script did not finish within {SCRIPT_TIMEOUT:?}:\n{}\nhub logs:\n{}",
            io.output,
            hub.logs()
        );
    }
    let output = io.output;
    let status = script.wait().await.expect("wait for node");
    let stderr = read_stderr(&mut script).await;
    assert!(
        status.success(),
        "the browser script failed ({status}):\n{output}\n--- stderr ---\n{stderr}\n--- hub logs ---\n{}",
        hub.logs()
    );
    assert!(output.contains("e2e: all steps passed"), "{output}");
    assert!(artifacts.join("history.csv").is_file(), "no CSV download");
    let logs = hub.logs();
    for token in [&reader, &device_token] {
        assert!(
            !logs.contains(token.as_str()),
            "a token reached the hub log"
        );
    }
    eprintln!("{output}");
}

/// Sends samples as the device, in batches, with the next seqs of one epoch, and waits for each ack.
#[derive(Default)]
struct Sender {
    seq: u64,
}

impl Sender {
    async fn send(&mut self, device: &mut WsClient, times_ms: &[i64]) {
        for chunk in times_ms.chunks(100) {
            let items: Vec<Value> = chunk
                .iter()
                .map(|&t| {
                    self.seq += 1;
                    sample(self.seq, t)
                })
                .collect();
            device
                .send_json(&json!({"type": "batch", "items": items}))
                .await;
            let seq = self.seq;
            device
                .recv_until(|m| m["type"] == "ack" && m["seq"] == seq, ACK_WAIT)
                .await;
        }
    }
}

/// A sample taken at `t_ms`: a battery slowly swinging between 50 and 54 V.
fn sample(seq: u64, t_ms: i64) -> Value {
    let ts = chrono::DateTime::from_timestamp_millis(t_ms)
        .expect("a time")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let phase = (t_ms / STEP_MS) as f64 / 30.0;
    let voltage = (52.0 + 2.0 * phase.sin()) * 100.0;
    json!({"epoch": "history-e2e", "seq": seq, "ts": ts,
           "data": {"battery": {"voltage": voltage.round() / 100.0, "soc": 60 + (seq % 40)}}})
}

/// Whether the browser is there; without it the test fails, unless told to skip.
fn browser_available() -> bool {
    if Path::new(CHROMIUM).is_file() {
        return true;
    }
    if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
        eprintln!(
            "SKIPPED: {CHROMIUM} is missing and {SKIP_ENV}=1; the dashboard was not tested in a browser"
        );
        return false;
    }
    panic!(
        "{CHROMIUM} is missing: install it with `apt-get install -y chromium` \
         (or set {SKIP_ENV}=1 to skip the browser test)"
    );
}

/// `target/e2e-artifacts/` of the workspace, where the screenshots are kept.
fn artifact_dir() -> PathBuf {
    let dir = workspace::root().join("target").join("e2e-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/e2e-artifacts");
    dir
}

/// Starts `node web/<script>` with `env` (the hub's URL, tokens, what was sent) in its environment only.
fn spawn_script(script: &str, env: &[(&str, String)]) -> Child {
    let web = workspace::root().join("web");
    Command::new("node")
        .arg(script)
        .current_dir(&web)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node (Node 20+ is needed; `npm ci` in web/ installs playwright-core)")
}

/// The script's stdout as lines, and its stdin for answers.
struct ScriptIo {
    lines: Lines<BufReader<ChildStdout>>,
    stdin: ChildStdin,
    /// Everything it printed so far.
    output: String,
}

impl ScriptIo {
    fn of(script: &mut Child) -> Self {
        Self {
            lines: BufReader::new(script.stdout.take().expect("piped stdout")).lines(),
            stdin: script.stdin.take().expect("piped stdin"),
            output: String::new(),
        }
    }

    /// The script's next request (`@@ <request>`), or `None` once its stdout ends.
    async fn next_request(&mut self) -> Option<String> {
        while let Ok(Some(line)) = self.lines.next_line().await {
            self.output.push_str(&line);
            self.output.push('\n');
            if let Some(request) = line.trim().strip_prefix("@@ ") {
                return Some(request.to_owned());
            }
        }
        None
    }

    async fn answer(&mut self, answer: &str) {
        self.stdin
            .write_all(format!("{answer}\n").as_bytes())
            .await
            .expect("answer the script");
    }
}

/// Relays the script's output and carries out its requests (`@@ stop-hub`, `@@ start-hub`, `@@ stop-device`,
/// `@@ start-device`, `@@ revoke-read-token`, which revokes `read_token_id` through the admin API); returns its
/// stdout.
async fn drive(
    script: &mut Child,
    hub: &mut HubServer,
    read_token_id: &str,
    device: &mut SimulatedDevice,
) -> String {
    let mut io = ScriptIo::of(script);
    while let Some(request) = io.next_request().await {
        let answer = match request.as_str() {
            "stop-hub" => {
                block_in_place(|| hub.stop());
                tokio::time::sleep(OUTAGE).await;
                "hub-stopped"
            }
            "start-hub" => {
                block_in_place(|| hub.restart());
                "hub-started"
            }
            "stop-device" => {
                device.stop().await;
                "device-stopped"
            }
            "start-device" => {
                device.restart(hub);
                "device-started"
            }
            "revoke-read-token" => {
                revoke_dashboard_token(hub, read_token_id).await;
                "read-token-revoked"
            }
            _ => continue,
        };
        io.answer(answer).await;
    }
    io.output
}

async fn revoke_dashboard_token(hub: &HubServer, token_id: &str) {
    let auth = format!("Bearer {}", hub.admin_token());
    let path = format!("/admin/dashboard-tokens/{token_id}/revoke");
    let response = hub
        .http_request("POST", &path, &[("Authorization", &auth)], b"")
        .await;
    assert_eq!(response.status, 200, "revoke the read token: {response:?}");
}

async fn read_stderr(script: &mut Child) -> String {
    let mut text = String::new();
    if let Some(stderr) = script.stderr.take() {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}
