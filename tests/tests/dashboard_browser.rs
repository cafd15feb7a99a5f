//! The dashboard end to end in a real browser: the page served by the Worker under `wrangler dev`, a simulated
//! edge agent streaming to it, and Debian's Chromium driven headless by `web/e2e/dashboard.mjs`
//! (playwright-core): sign in, pick the device, watch the chart grow, send commands, survive a Worker restart.
//!
//! The Node script asks for what only this test can do (stop and restart the Worker, revoke a token) on its
//! stdout, `@@ stop-hub`, and this test answers on its stdin once done. Tokens reach it through the environment only. Screenshots are kept in
//! `target/e2e-artifacts/`. Without `/usr/bin/chromium` the test fails (install it with
//! `apt-get install -y chromium`), unless `HUB_E2E_SKIP_BROWSER=1` says to skip it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use hub_e2e::workspace;
use hub_e2e::{Access, DashboardScope, HubServer, RunningAgent};
use telemetry_protocol::DeviceId;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::block_in_place;

const DEVICE: &str = "web-demo";
const CHROMIUM: &str = "/usr/bin/chromium";
const SKIP_ENV: &str = "HUB_E2E_SKIP_BROWSER";
/// The whole browser session, restart included, must finish within this.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);
/// How long the Worker stays down, so the page is seen counting down to its next attempt.
const OUTAGE: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_plots_live_data_sends_commands_and_reconnects_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let mut hub = block_in_place(HubServer::start);
    let device_token = hub.provision_devices(&[DEVICE]).remove(0).token;
    let control = hub
        .provision_dashboard(&DashboardScope::All, Access::Control)
        .token;
    let device_id = DeviceId::parse(DEVICE).expect("a valid id");
    let read = hub.provision_dashboard(&DashboardScope::Devices(vec![device_id]), Access::Read);
    let agent = RunningAgent::start(&hub.ws_url(""), DEVICE, &device_token, "0.5");

    let artifacts = artifact_dir();
    let mut script = spawn_script(&hub, &control, &read.token, &artifacts);
    let outcome =
        tokio::time::timeout(SCRIPT_TIMEOUT, drive(&mut script, &mut hub, &read.token_id)).await;
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
    agent.stop().await;
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

/// Starts `node web/e2e/dashboard.mjs`, with the hub's URL and the tokens in its environment.
fn spawn_script(hub: &HubServer, control: &str, read: &str, artifacts: &Path) -> Child {
    let web = workspace::root().join("web");
    Command::new("node")
        .arg("e2e/dashboard.mjs")
        .current_dir(&web)
        .env("HUB_URL", hub.http_url("/"))
        .env("DEVICE_ID", DEVICE)
        .env("DASHBOARD_TOKEN", control)
        .env("READ_TOKEN", read)
        .env("ARTIFACT_DIR", artifacts)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node (Node 20+ is needed; `npm ci` in web/ installs playwright-core)")
}

/// Relays the script's output and carries out its requests (`@@ stop-hub`, `@@ start-hub`,
/// `@@ revoke-read-token`, which revokes `read_token_id` through the admin API); returns its stdout.
async fn drive(script: &mut Child, hub: &mut HubServer, read_token_id: &str) -> String {
    let mut stdin = script.stdin.take().expect("piped stdin");
    let mut lines = BufReader::new(script.stdout.take().expect("piped stdout")).lines();
    let mut output = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        output.push_str(&line);
        output.push('\n');
        let answer = match line.trim() {
            "@@ stop-hub" => {
                block_in_place(|| hub.stop());
                tokio::time::sleep(OUTAGE).await;
                "hub-stopped"
            }
            "@@ start-hub" => {
                block_in_place(|| hub.restart());
                "hub-started"
            }
            "@@ revoke-read-token" => {
                revoke_dashboard_token(hub, read_token_id).await;
                "read-token-revoked"
            }
            _ => continue,
        };
        stdin
            .write_all(format!("{answer}\n").as_bytes())
            .await
            .expect("answer the script");
    }
    output
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
