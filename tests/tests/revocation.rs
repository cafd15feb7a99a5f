//! Revocation enforced inside the device's Durable Object, and rotation that never locks a device out, against
//! the real Worker under `wrangler dev`. Failures are injected with the test-only `X-Hub-Test-Fault` header
//! (`HUB_TEST_FAULTS = "enabled"`): a device object unreachable right after the D1 write (`hub_push`), and a
//! handshake's D1 lookup held while the test disables the device (`hold_lookup=MS`).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hub_e2e::{AdminHttp, HubServer, OWNER, WsClient, handshake_status, json_body};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);
/// Live sockets of a revoked credential are closed within this.
const CLOSED_WITHIN: Duration = Duration::from_secs(1);
const PUSH_FAILS: (&str, &str) = ("X-Hub-Test-Fault", "hub_push");

fn hub() -> &'static HubServer {
    static HUB: OnceLock<HubServer> = OnceLock::new();
    HUB.get_or_init(|| HubServer::start_lenient(&[("HUB_TEST_FAULTS", "enabled")]))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn device(hub: &HubServer, id: &str, token: &str) -> WsClient {
    WsClient::connect_bearer(&hub.ws_url(&format!("/ws/device/{id}")), token).await
}

async fn status(hub: &HubServer, id: &str, token: &str) -> u16 {
    let auth = bearer(token);
    let path = format!("/ws/device/{id}");
    handshake_status(hub, OWNER, &path, &[("Authorization", &auth)])
        .await
        .status
}

/// `POST path` with the admin token and extra headers (e.g. a test fault).
async fn post(hub: &HubServer, path: &str, body: Option<Value>, extra: &[(&str, &str)]) -> Value {
    let auth = bearer(hub.admin_token());
    let mut headers = vec![("Authorization", auth.as_str())];
    headers.extend_from_slice(extra);
    let response = AdminHttp::new(hub)
        .call_as(OWNER, "POST", path, body, &headers)
        .await;
    assert_eq!(response.status, 200, "{path}: {response:?}");
    json_body(&response)
}

async fn shown(hub: &HubServer, id: &str) -> Value {
    json_body(
        &AdminHttp::new(hub)
            .call("GET", &format!("/admin/devices/{id}"), None)
            .await,
    )
}

type Handshake = tokio::task::JoinHandle<Result<WsClient, hub_e2e::ConnectError>>;

/// A handshake to `path` with `token` whose D1 lookup the device object holds for 1.5 s (test fault).
fn held_handshake(hub: &HubServer, path: &str, token: &str) -> Handshake {
    let url = hub.ws_url(path);
    let auth = bearer(token);
    tokio::spawn(async move {
        let headers = [
            ("Authorization", auth.as_str()),
            ("X-Hub-Test-Fault", "hold_lookup=1500"),
        ];
        WsClient::connect(&url, &headers).await
    })
}

/// Expects the held handshake to end in a 403; `accepted` says what it would mean if it did not.
async fn expect_refused(held: Handshake, accepted: &str) {
    match held.await.expect("the held handshake") {
        Err(hub_e2e::ConnectError::Refused(refusal)) => assert_eq!(refusal.status, 403),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("{accepted}"),
    }
}

#[tokio::test]
async fn a_lookup_that_raced_a_disable_is_refused() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let token = admin.create_device("race-disable").await;
    // The device never connected, so its object must read D1; the test holds that answer for 1.5 s and
    // disables the device in between: the object heard of the disable (a newer version) and refuses.
    let held = held_handshake(hub, "/ws/device/race-disable", &token);
    tokio::time::sleep(Duration::from_millis(400)).await;
    post(hub, "/admin/devices/race-disable/disable", None, &[]).await;
    expect_refused(
        held,
        "a handshake that read D1 before the disable was accepted after it",
    )
    .await;
    post(hub, "/admin/devices/race-disable/enable", None, &[]).await;
    assert_eq!(status(hub, "race-disable", &token).await, 101);
}

#[tokio::test]
async fn a_dashboard_lookup_that_raced_a_revocation_is_refused() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    admin.create_device("race-revoke").await;
    let (token_id, token) = admin.create_dashboard(json!(["race-revoke"]), "read").await;
    let held = held_handshake(hub, "/ws/dashboard/race-revoke", &token);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let revoked = post(
        hub,
        &format!("/admin/dashboard-tokens/{token_id}/revoke"),
        None,
        &[],
    )
    .await;
    assert_eq!(revoked["pending_devices"], 0);
    expect_refused(
        held,
        "a dashboard that read D1 before the revocation was accepted after it",
    )
    .await;
}

#[tokio::test]
async fn a_disable_that_could_not_reach_the_object_says_so_and_is_retried() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let token = admin.create_device("push-disable").await;
    let mut live = device(hub, "push-disable", &token).await;
    let answer = post(
        hub,
        "/admin/devices/push-disable/disable",
        None,
        &[PUSH_FAILS],
    )
    .await;
    assert!(answer["disabled_at"].is_string());
    assert_eq!(
        answer["sync_pending"], true,
        "the answer is honest: {answer}"
    );
    assert_eq!(shown(hub, "push-disable").await["sync_pending"], true);
    // The object has not heard of it yet: the live socket waits for the retry.
    live.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(live.recv_json(WAIT).await["type"], "pong");
    admin.run_cron().await;
    assert_eq!(
        live.expect_close(CLOSED_WITHIN).await,
        (4001, "revoked".to_owned())
    );
    assert_eq!(shown(hub, "push-disable").await["sync_pending"], false);
    assert_eq!(status(hub, "push-disable", &token).await, 403);
}

#[tokio::test]
async fn a_disabled_token_taken_from_a_stale_copy_is_closed_right_after_the_101() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let token = admin.create_device("stale-copy").await;
    let mut first = device(hub, "stale-copy", &token).await;
    first.close(1000, "bye").await;
    post(
        hub,
        "/admin/devices/stale-copy/disable",
        None,
        &[PUSH_FAILS],
    )
    .await;
    // The object's copy still says enabled, so it answers 101 from it, then confirms against D1 and closes.
    let started = Instant::now();
    let mut again = device(hub, "stale-copy", &token).await;
    assert_eq!(
        again.expect_close(CLOSED_WITHIN).await,
        (4001, "revoked".to_owned())
    );
    assert!(
        started.elapsed() < CLOSED_WITHIN * 2,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        status(hub, "stale-copy", &token).await,
        403,
        "the object knows now"
    );
}

#[tokio::test]
async fn a_rotation_whose_push_failed_never_locks_the_device_out() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let old = admin.create_device("push-rotate").await;
    let mut on_old = device(hub, "push-rotate", &old).await;
    let answer = post(
        hub,
        "/admin/devices/push-rotate/rotate",
        None,
        &[PUSH_FAILS],
    )
    .await;
    assert_eq!(answer["sync_pending"], true, "{answer}");
    let new = answer["token"]
        .as_str()
        .expect("the new token is never lost")
        .to_owned();
    // The object still has the old copy: the old token gets a 101 from it, and is closed with 4001 as soon as
    // the object has confirmed it against D1.
    let mut again_on_old = device(hub, "push-rotate", &old).await;
    assert_eq!(
        on_old.expect_close(WAIT).await.0,
        4000,
        "replaced by the newer session"
    );
    assert_eq!(
        again_on_old.expect_close(CLOSED_WITHIN).await,
        (4001, "revoked".to_owned())
    );
    // The new token works at once: the object looks D1 up and takes the newer version.
    let mut on_new = device(hub, "push-rotate", &new).await;
    on_new.expect_silence(Duration::from_millis(500)).await;
    assert_eq!(status(hub, "push-rotate", &old).await, 403);
    admin.run_cron().await;
    assert_eq!(shown(hub, "push-rotate").await["sync_pending"], false);
    on_new.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn repeating_a_rotation_with_the_same_hash_changes_nothing() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let old = admin.create_device("rotate-twice").await;
    let new = telemetry_protocol::generate_token(telemetry_protocol::TokenKind::Device, |buf| {
        buf.fill(42)
    });
    let hash = hubctl::token_sha256_hex(&new);
    let body = json!({"grace_seconds": 600, "token_sha256": hash});
    let first = post(
        hub,
        "/admin/devices/rotate-twice/rotate",
        Some(body.clone()),
        &[],
    )
    .await;
    assert_eq!(first.get("token"), None, "the hub never saw the token");
    assert_eq!(first["token_sha256"], hash);
    let second = post(hub, "/admin/devices/rotate-twice/rotate", Some(body), &[]).await;
    assert_eq!(
        second["previous_token_valid_until"], first["previous_token_valid_until"],
        "a repeat keeps the grace period"
    );
    assert_eq!(
        status(hub, "rotate-twice", &old).await,
        101,
        "the old token is in its grace"
    );
    assert_eq!(status(hub, "rotate-twice", &new).await, 101);
}

#[tokio::test]
async fn a_newer_rotation_supersedes_the_older_grace_period() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let first = admin.create_device("rotate-supersede").await;
    let graced = post(
        hub,
        "/admin/devices/rotate-supersede/rotate",
        Some(json!({"grace_seconds": 3})),
        &[],
    )
    .await;
    let second = graced["token"].as_str().expect("token").to_owned();
    let _on_second = device(hub, "rotate-supersede", &second).await;
    let now = post(hub, "/admin/devices/rotate-supersede/rotate", None, &[]).await;
    let third = now["token"].as_str().expect("token").to_owned();
    let started = Instant::now();
    let mut on_third = device(hub, "rotate-supersede", &third).await;
    // Past the first rotation's grace end, the newest token's session must stay open.
    on_third
        .expect_silence(
            Duration::from_secs(4).saturating_sub(started.elapsed()) + Duration::from_secs(1),
        )
        .await;
    assert_eq!(status(hub, "rotate-supersede", &first).await, 403);
    assert_eq!(status(hub, "rotate-supersede", &second).await, 403);
}

#[tokio::test]
async fn a_revocation_that_could_not_reach_the_objects_says_so_and_is_retried() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    admin.create_device("push-revoke").await;
    let (token_id, token) = admin.create_dashboard(json!(["push-revoke"]), "read").await;
    let mut dashboard =
        WsClient::connect_bearer(&hub.ws_url("/ws/dashboard/push-revoke"), &token).await;
    assert_eq!(dashboard.recv_json(WAIT).await["type"], "snapshot");
    let answer = post(
        hub,
        &format!("/admin/dashboard-tokens/{token_id}/revoke"),
        None,
        &[PUSH_FAILS],
    )
    .await;
    assert_eq!(
        (answer["revoked"].clone(), answer["pending_devices"].clone()),
        (json!(true), json!(1))
    );
    dashboard.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(
        dashboard.recv_json(WAIT).await["type"],
        "pong",
        "still open until the retry"
    );
    admin.run_cron().await;
    assert_eq!(
        dashboard.expect_close(CLOSED_WITHIN).await,
        (4001, "revoked".to_owned())
    );
}
