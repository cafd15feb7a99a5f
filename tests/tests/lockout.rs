//! Failure limits that cannot be turned against the owner, against the real Worker under `wrangler dev`: a
//! stranger on another address (127.0.0.N, which workerd reports as `CF-Connecting-IP`) fails until it gets
//! 429, and the owner on 127.0.0.1 still gets in, on every endpoint. Each test uses its own stranger address,
//! so the tests of this file share one hub without sharing counters.

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::future::join_all;
use hub_e2e::{
    AdminHttp, HttpResponse, HubServer, OWNER, WsClient, events_where, handshake_status, stranger,
    worker_events,
};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);
/// Failures per (address, target) before 429, and per address across targets.
const TARGET_LIMIT: usize = 3;
const ADDRESS_LIMIT: usize = 6;

fn hub() -> &'static HubServer {
    static HUB: OnceLock<HubServer> = OnceLock::new();
    HUB.get_or_init(|| {
        HubServer::start_with_vars(&[
            ("AUTH_FAILURE_LIMIT", "3"),
            ("AUTH_FAILURE_ADDRESS_LIMIT", "6"),
            ("AUTH_FAILURE_WINDOW_SECS", "60"),
            ("HUB_TEST_FAULTS", "enabled"),
        ])
    })
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A well-formed token of the right kind that is nobody's.
fn wrong(kind: telemetry_protocol::TokenKind) -> String {
    telemetry_protocol::generate_token(kind, |buf| buf.fill(7))
}

fn retry_after(response: &HttpResponse) -> u64 {
    response
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("429 without Retry-After: {response:?}"))
}

/// Fails `TARGET_LIMIT` times from `source`, each a 403, then sees 429 with a Retry-After.
async fn fail_until_blocked<F, Fut>(attempt: F) -> HttpResponse
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = HttpResponse>,
{
    for n in 1..=TARGET_LIMIT {
        let response = attempt().await;
        assert_eq!(response.status, 403, "failure {n}: {response:?}");
        // A refused WebSocket handshake's body may not be read by the client; an HTTP one always is.
        let forbidden = r#"{"error":"forbidden","message":"forbidden"}"#;
        assert!(
            response.body.is_empty() || response.body == forbidden,
            "{response:?}"
        );
    }
    let blocked = attempt().await;
    assert_eq!(blocked.status, 429, "past the limit: {blocked:?}");
    assert!((1..=60).contains(&retry_after(&blocked)), "{blocked:?}");
    blocked
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out_of_the_device_endpoint() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let token = admin.create_device("lock-device").await;
    let wrong = bearer(&wrong(telemetry_protocol::TokenKind::Device));
    let wrong_headers = [("Authorization", wrong.as_str())];
    let path = "/ws/device/lock-device";
    let attacker = stranger(2);
    fail_until_blocked(|| handshake_status(hub, attacker, path, &wrong_headers)).await;
    // The device never connected before, so the hub must read D1 for it: the owner's address is clean.
    let right = bearer(&token);
    let mut device =
        WsClient::connect_from(Some(OWNER), &hub.ws_url(path), &[("Authorization", &right)])
            .await
            .expect("the owner connects while the stranger is blocked");
    device
        .send_json(
            &json!({"type":"telemetry","epoch":"e","seq":1,"ts":"2026-02-03T12:00:00Z","data":{}}),
        )
        .await;
    assert_eq!(device.recv_json(WAIT).await["type"], "ack");
    // The stranger stays blocked; the owner keeps getting in.
    let again = handshake_status(hub, attacker, path, &wrong_headers).await;
    assert_eq!(again.status, 429);
    let logs = hub.logs();
    let events = worker_events(&logs);
    let refusals = events_where(
        &events,
        "auth_refused",
        &[
            ("device_id", json!("lock-device")),
            ("reason", json!("wrong token")),
            ("client", json!("127.0.0.2")),
        ],
    );
    assert!(
        !refusals.is_empty(),
        "the hub sees the stranger's own address"
    );
    assert!(!logs.contains(&token), "no token in the log");
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out_of_the_dashboard_endpoint() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    admin.create_device("lock-dash").await;
    let (_, token) = admin.create_dashboard(json!(["lock-dash"]), "read").await;
    let wrong = bearer(&wrong(telemetry_protocol::TokenKind::Dashboard));
    let wrong_headers = [("Authorization", wrong.as_str())];
    let path = "/ws/dashboard/lock-dash";
    let attacker = stranger(3);
    fail_until_blocked(|| handshake_status(hub, attacker, path, &wrong_headers)).await;
    let right = bearer(&token);
    let mut dashboard =
        WsClient::connect_from(Some(OWNER), &hub.ws_url(path), &[("Authorization", &right)])
            .await
            .expect("the owner's dashboard connects");
    assert_eq!(dashboard.recv_json(WAIT).await["type"], "snapshot");
    // Through the browser subprotocol too.
    let protocols = format!("telemetry.v1, bearer.{token}");
    let browser =
        handshake_status(hub, OWNER, path, &[("Sec-WebSocket-Protocol", &protocols)]).await;
    assert_eq!(browser.status, 101);
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out_of_the_device_list() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    admin.create_device("lock-api").await;
    let (_, token) = admin.create_dashboard(json!(["lock-api"]), "read").await;
    let wrong = bearer(&wrong(telemetry_protocol::TokenKind::Dashboard));
    let wrong_headers = [("Authorization", wrong.as_str())];
    let attacker = stranger(4);
    fail_until_blocked(|| admin.call_as(attacker, "GET", "/api/devices", None, &wrong_headers))
        .await;
    let right = bearer(&token);
    let listed = admin
        .call_as(
            OWNER,
            "GET",
            "/api/devices",
            None,
            &[("Authorization", &right)],
        )
        .await;
    assert_eq!(listed.status, 200, "{listed:?}");
    assert!(listed.body.contains("lock-api"));
}

#[tokio::test]
async fn a_stranger_cannot_lock_operators_out_of_the_admin_api() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let wrong = bearer(&wrong(telemetry_protocol::TokenKind::Admin));
    let wrong_headers = [("Authorization", wrong.as_str())];
    let attacker = stranger(5);
    fail_until_blocked(|| admin.call_as(attacker, "GET", "/admin/devices", None, &wrong_headers))
        .await;
    let right = bearer(hub.admin_token());
    let from_owner = admin
        .call_as(
            OWNER,
            "GET",
            "/admin/devices",
            None,
            &[("Authorization", &right)],
        )
        .await;
    assert_eq!(from_owner.status, 200, "{from_owner:?}");
    // The admin token needs no lookup, so it works even from the blocked address: an operator behind the same
    // NAT as the attacker can still disable the stolen credential.
    let from_blocked = admin
        .call_as(
            attacker,
            "GET",
            "/admin/devices",
            None,
            &[("Authorization", &right)],
        )
        .await;
    assert_eq!(from_blocked.status, 200, "{from_blocked:?}");
}

#[tokio::test]
async fn an_address_failing_across_many_targets_is_blocked_everywhere() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let wrong = bearer(&wrong(telemetry_protocol::TokenKind::Device));
    let wrong_headers = [("Authorization", wrong.as_str())];
    let attacker = stranger(6);
    for n in 0..ADDRESS_LIMIT {
        let path = format!("/ws/device/scan-{n}");
        let response = handshake_status(hub, attacker, &path, &wrong_headers).await;
        assert_eq!(response.status, 403, "{path}: {response:?}");
    }
    let fresh = handshake_status(hub, attacker, "/ws/device/scan-new", &wrong_headers).await;
    assert_eq!(fresh.status, 429, "the address-wide limit: {fresh:?}");
    let token = admin.create_device("scan-owner").await;
    let owner = handshake_status(
        hub,
        OWNER,
        "/ws/device/scan-owner",
        &[("Authorization", &bearer(&token))],
    )
    .await;
    assert_eq!(owner.status, 101);
}

#[tokio::test]
async fn a_parallel_burst_cannot_overshoot_the_limit() {
    let hub = hub();
    let wrong = bearer(&wrong(telemetry_protocol::TokenKind::Device));
    let wrong_headers = [("Authorization", wrong.as_str())];
    let attacker = stranger(7);
    let attempts =
        (0..20).map(|_| handshake_status(hub, attacker, "/ws/device/burst-target", &wrong_headers));
    let statuses: Vec<u16> = join_all(attempts).await.iter().map(|r| r.status).collect();
    let forbidden = statuses.iter().filter(|s| **s == 403).count();
    let blocked = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(forbidden + blocked, 20, "{statuses:?}");
    assert!(
        forbidden <= TARGET_LIMIT,
        "{forbidden} failures were let through to D1 with a limit of {TARGET_LIMIT}: {statuses:?}"
    );
}

#[tokio::test]
async fn a_guard_outage_locks_nobody_out() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let token = admin.create_device("guard-down").await;
    let down = ("X-Hub-Test-Fault", "guard");
    let attacker: IpAddr = stranger(8);
    let wrong = bearer(&wrong(telemetry_protocol::TokenKind::Device));
    for _ in 0..(TARGET_LIMIT + 2) {
        let response = handshake_status(
            hub,
            attacker,
            "/ws/device/guard-down",
            &[("Authorization", &wrong), down],
        )
        .await;
        assert_eq!(
            response.status, 403,
            "no guard: refused, never 500: {response:?}"
        );
    }
    let right = bearer(&token);
    let owner = handshake_status(
        hub,
        OWNER,
        "/ws/device/guard-down",
        &[("Authorization", &right), down],
    )
    .await;
    assert_eq!(
        owner.status, 101,
        "a cold device still connects without the guard"
    );
    let events = hub.log_stream().events();
    assert!(
        !events_where(
            &events,
            "auth_guard_unavailable",
            &[("reason", json!("test fault"))]
        )
        .is_empty(),
        "the hub logs that it went on without the guard"
    );
}

/// A private hub with a short window: the block ends when Retry-After says, and the address may try again.
#[tokio::test]
async fn a_block_ends_when_retry_after_says() {
    let hub = HubServer::start_with_vars(&[
        ("AUTH_FAILURE_LIMIT", "3"),
        ("AUTH_FAILURE_WINDOW_SECS", "3"),
    ]);
    let wrong = bearer(&wrong(telemetry_protocol::TokenKind::Device));
    let wrong_headers = [("Authorization", wrong.as_str())];
    let attacker = stranger(9);
    let path = "/ws/device/window";
    let blocked =
        fail_until_blocked(|| handshake_status(&hub, attacker, path, &wrong_headers)).await;
    tokio::time::sleep(Duration::from_secs(retry_after(&blocked) + 1)).await;
    let after = handshake_status(&hub, attacker, path, &wrong_headers).await;
    assert_eq!(after.status, 403, "a new window: {after:?}");
}
