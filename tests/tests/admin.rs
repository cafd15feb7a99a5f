//! End-to-end tests of the credentials lifecycle: the admin API, rotation, revocation and limits on guessing,
//! against the real Worker under `wrangler dev`.

use std::sync::OnceLock;
use std::time::Duration;

use hub_e2e::{HttpResponse, HubServer, WsClient};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

/// One hub for the admin tests, with a generous failure limit so that tests which fail on purpose do not
/// trip the guard for each other.
fn hub() -> &'static HubServer {
    static HUB: OnceLock<HubServer> = OnceLock::new();
    HUB.get_or_init(|| HubServer::start_lenient(&[]))
}

async fn admin(hub: &HubServer, method: &str, path: &str, body: Option<Value>) -> HttpResponse {
    let auth = format!("Bearer {}", hub.admin_token());
    admin_as(hub, method, path, body, Some(&auth)).await
}

async fn admin_as(
    hub: &HubServer,
    method: &str,
    path: &str,
    body: Option<Value>,
    authorization: Option<&str>,
) -> HttpResponse {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(auth) = authorization {
        headers.push(("Authorization", auth));
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    hub_e2e::http::request(hub.port(), method, path, &headers, body.as_bytes()).await
}

fn json_body(response: &HttpResponse) -> Value {
    serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("{response:?}: {e}"))
}

async fn create_device(hub: &HubServer, id: &str) -> String {
    let response = admin(
        hub,
        "POST",
        "/admin/devices",
        Some(json!({"device_id": id})),
    )
    .await;
    assert_eq!(response.status, 201, "{response:?}");
    let body = json_body(&response);
    assert_eq!(body["device_id"], id);
    body["token"].as_str().expect("token").to_owned()
}

async fn create_dashboard(hub: &HubServer, devices: Value, access: &str) -> (String, String) {
    let body = json!({"devices": devices, "access": access, "label": "e2e"});
    let response = admin(hub, "POST", "/admin/dashboard-tokens", Some(body)).await;
    assert_eq!(response.status, 201, "{response:?}");
    let body = json_body(&response);
    (
        body["token_id"].as_str().expect("id").to_owned(),
        body["token"].as_str().expect("token").to_owned(),
    )
}

async fn device(hub: &HubServer, id: &str, token: &str) -> WsClient {
    WsClient::connect_bearer(&hub.ws_url(&format!("/ws/device/{id}")), token).await
}

async fn device_status(hub: &HubServer, id: &str, token: &str) -> u16 {
    let auth = format!("Bearer {token}");
    match WsClient::connect(
        &hub.ws_url(&format!("/ws/device/{id}")),
        &[("Authorization", &auth)],
    )
    .await
    {
        Ok(_) => 101,
        Err(hub_e2e::ConnectError::Refused(refusal)) => refusal.status,
        Err(other) => panic!("{other}"),
    }
}

#[tokio::test]
async fn create_list_show_and_use_a_device() {
    let hub = hub();
    let token = create_device(hub, "adm-create").await;
    assert!(token.starts_with("tdev_"));
    let mut ws = device(hub, "adm-create", &token).await;
    ws.send_json(
        &json!({"type":"telemetry","epoch":"e","seq":7,"ts":"2026-02-03T12:00:00Z","data":{}}),
    )
    .await;
    assert_eq!(ws.recv_json(WAIT).await["seq"], 7);

    let shown = json_body(&admin(hub, "GET", "/admin/devices/adm-create", None).await);
    assert_eq!(shown["device_id"], "adm-create");
    assert_eq!(shown["online"], true);
    assert_eq!(shown["last_seq"], 7);
    assert!(shown["last_seen"].is_string());
    assert_eq!(shown["disabled_at"], Value::Null);

    let listed = json_body(&admin(hub, "GET", "/admin/devices", None).await);
    let row = listed["devices"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["device_id"] == "adm-create"))
        .cloned()
        .expect("listed");
    assert_eq!(row["online"], true);
    assert!(
        !listed.to_string().contains(&token),
        "the list never shows tokens"
    );

    let again = admin(
        hub,
        "POST",
        "/admin/devices",
        Some(json!({"device_id": "adm-create"})),
    )
    .await;
    assert_eq!(again.status, 409, "{again:?}");
    assert_eq!(json_body(&again)["field"], "device_id");
}

#[tokio::test]
async fn rotation_without_grace_stops_the_old_token_at_once() {
    let hub = hub();
    let old = create_device(hub, "adm-rotate-now").await;
    let mut live = device(hub, "adm-rotate-now", &old).await;
    let rotated = admin(hub, "POST", "/admin/devices/adm-rotate-now/rotate", None).await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let body = json_body(&rotated);
    let new = body["token"].as_str().expect("token").to_owned();
    assert_ne!(new, old);
    assert_eq!(body["previous_token_valid_until"], Value::Null);
    assert_eq!(live.expect_close(WAIT).await, (4001, "revoked".to_owned()));
    assert_eq!(device_status(hub, "adm-rotate-now", &old).await, 403);
    assert_eq!(device_status(hub, "adm-rotate-now", &new).await, 101);
}

#[tokio::test]
async fn rotation_with_grace_keeps_the_old_token_until_it_ends() {
    let hub = hub();
    let old = create_device(hub, "adm-rotate-grace").await;
    let body = json!({"grace_seconds": 3});
    let rotated = admin(
        hub,
        "POST",
        "/admin/devices/adm-rotate-grace/rotate",
        Some(body),
    )
    .await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let new = json_body(&rotated)["token"]
        .as_str()
        .expect("token")
        .to_owned();
    // Within the grace period both tokens work; a session of the old one is closed when it ends.
    let mut on_old = device(hub, "adm-rotate-grace", &old).await;
    assert_eq!(
        on_old.expect_close(Duration::from_secs(8)).await,
        (4001, "revoked".to_owned())
    );
    let status = device_status(hub, "adm-rotate-grace", &old).await;
    assert_eq!(status, 403, "hub log:\n{}", hub.log_tail(60));
    let mut on_new = device(hub, "adm-rotate-grace", &new).await;
    on_new.expect_silence(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn disabling_closes_the_live_socket_with_4001_and_refuses_reconnects() {
    let hub = hub();
    let token = create_device(hub, "adm-disable").await;
    let (_, dashboard_token) = create_dashboard(hub, json!(["adm-disable"]), "read").await;
    let mut dashboard =
        WsClient::connect_bearer(&hub.ws_url("/ws/dashboard/adm-disable"), &dashboard_token).await;
    assert_eq!(dashboard.recv_json(WAIT).await["type"], "snapshot");
    let mut live = device(hub, "adm-disable", &token).await;
    dashboard.recv_until(|m| m["online"] == true, WAIT).await;

    let disabled = admin(hub, "POST", "/admin/devices/adm-disable/disable", None).await;
    assert_eq!(disabled.status, 200, "{disabled:?}");
    assert!(json_body(&disabled)["disabled_at"].is_string());
    assert_eq!(
        live.expect_close(Duration::from_secs(1)).await,
        (4001, "revoked".to_owned())
    );
    let presence = dashboard.recv_json(WAIT).await;
    assert_eq!(
        (presence["online"].clone(), presence["reason"].clone()),
        (json!(false), json!("revoked"))
    );
    assert_eq!(device_status(hub, "adm-disable", &token).await, 403);

    let enabled = admin(hub, "POST", "/admin/devices/adm-disable/enable", None).await;
    assert_eq!(enabled.status, 200, "{enabled:?}");
    assert_eq!(device_status(hub, "adm-disable", &token).await, 101);
}

#[tokio::test]
async fn revoking_a_dashboard_token_closes_its_sockets() {
    let hub = hub();
    create_device(hub, "adm-revoke").await;
    let (token_id, token) = create_dashboard(hub, json!("*"), "read").await;
    let (_, other) = create_dashboard(hub, json!("*"), "read").await;
    let url = hub.ws_url("/ws/dashboard/adm-revoke");
    let mut revoked = WsClient::connect_bearer(&url, &token).await;
    let mut kept = WsClient::connect_bearer(&url, &other).await;
    revoked.recv_json(WAIT).await;
    kept.recv_json(WAIT).await;

    let response = admin(
        hub,
        "POST",
        &format!("/admin/dashboard-tokens/{token_id}/revoke"),
        None,
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        revoked.expect_close(Duration::from_secs(1)).await,
        (4001, "revoked".to_owned())
    );
    kept.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(kept.recv_json(WAIT).await, json!({"type":"pong"}));
    let auth = format!("Bearer {token}");
    let refusal = WsClient::expect_refused(&url, &[("Authorization", &auth)]).await;
    assert_eq!(refusal.status, 403);
    let listed = json_body(&admin(hub, "GET", "/admin/dashboard-tokens", None).await);
    let row = listed["dashboard_tokens"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["token_id"] == token_id.as_str()))
        .cloned()
        .expect("listed");
    assert!(row["revoked_at"].is_string());
}

#[tokio::test]
async fn dashboard_scopes_are_enforced() {
    let hub = hub();
    let device_token = create_device(hub, "adm-scope-in").await;
    create_device(hub, "adm-scope-out").await;
    let (_, reader) = create_dashboard(hub, json!(["adm-scope-in"]), "read").await;
    let (_, controller) = create_dashboard(hub, json!(["adm-scope-in"]), "control").await;
    let auth = format!("Bearer {reader}");
    let out = WsClient::expect_refused(
        &hub.ws_url("/ws/dashboard/adm-scope-out"),
        &[("Authorization", &auth)],
    )
    .await;
    assert_eq!(out.status, 403);

    let _device = device(hub, "adm-scope-in", &device_token).await;
    let url = hub.ws_url("/ws/dashboard/adm-scope-in");
    let mut read_only = WsClient::connect_bearer(&url, &reader).await;
    read_only.recv_json(WAIT).await;
    read_only
        .send_json(&json!({"type":"command","id":"x","name":"ping"}))
        .await;
    assert_eq!(read_only.recv_json(WAIT).await["code"], "read_only");
    let mut control = WsClient::connect_bearer(&url, &controller).await;
    control.recv_json(WAIT).await;
    control
        .send_json(&json!({"type":"command","id":"y","name":"ping"}))
        .await;
    control.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn admin_api_error_statuses() {
    let hub = hub();
    let none = admin_as(hub, "GET", "/admin/devices", None, None).await;
    assert_eq!(none.status, 401, "{none:?}");
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    let wrong = admin_as(
        hub,
        "GET",
        "/admin/devices",
        None,
        Some("Bearer tadm_wrong"),
    )
    .await;
    assert_eq!(wrong.status, 403, "{wrong:?}");
    assert_eq!(admin(hub, "GET", "/admin/nothing", None).await.status, 404);
    assert_eq!(
        admin(hub, "GET", "/admin/devices/no-such-device", None)
            .await
            .status,
        404
    );
    let delete = admin(hub, "DELETE", "/admin/devices", None).await;
    assert_eq!(
        (delete.status, delete.header("allow")),
        (405, Some("GET, POST"))
    );
    let cases = [
        (
            "/admin/devices",
            json!({"device_id": "bad id"}),
            "device_id",
        ),
        ("/admin/devices", json!({}), "device_id"),
        (
            "/admin/devices/x/rotate",
            json!({"grace_seconds": -5}),
            "grace_seconds",
        ),
        (
            "/admin/dashboard-tokens",
            json!({"devices": "*", "access": "admin"}),
            "access",
        ),
        (
            "/admin/dashboard-tokens",
            json!({"devices": [], "access": "read"}),
            "devices",
        ),
        (
            "/admin/dashboard-tokens",
            json!({"devices": "*", "access": "read", "label": 5}),
            "label",
        ),
    ];
    for (path, body, field) in cases {
        let response = admin(hub, "POST", path, Some(body.clone())).await;
        assert_eq!(response.status, 400, "{path} {body}: {response:?}");
        assert_eq!(json_body(&response)["field"], field, "{path} {body}");
    }
    let not_json = hub_e2e::http::request(
        hub.port(),
        "POST",
        "/admin/devices",
        &[("Authorization", &format!("Bearer {}", hub.admin_token()))],
        b"{oops",
    )
    .await;
    assert_eq!(
        (not_json.status, json_body(&not_json)["field"].clone()),
        (400, json!("body"))
    );
}

#[tokio::test]
async fn tokens_never_reach_logs_or_rows() {
    let hub = hub();
    let device_token = create_device(hub, "adm-secret").await;
    let (_, dashboard_token) = create_dashboard(hub, json!(["adm-secret"]), "control").await;
    let _ = device(hub, "adm-secret", &device_token).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = hub.logs();
    for secret in [
        device_token.as_str(),
        dashboard_token.as_str(),
        hub.admin_token(),
    ] {
        assert!(!logs.contains(secret), "a token reached the log");
    }
    let rows = hub
        .provisioner()
        .query("SELECT * FROM devices WHERE id = 'adm-secret'");
    assert!(!rows[0].to_string().contains(&device_token));
    let rows = hub.provisioner().query("SELECT * FROM dashboard_tokens");
    assert!(!Value::Array(rows).to_string().contains(&dashboard_token));
}

/// The CLI's admin client against the real Worker: the same operations an operator runs with `hubctl --hub`.
#[tokio::test]
async fn hubctl_admin_client_manages_the_real_hub() {
    let hub = hub();
    let url = format!("http://127.0.0.1:{}", hub.port());
    let admin_token = hub.admin_token().to_owned();
    let token = tokio::task::spawn_blocking(move || {
        use hubctl::Hub as _;
        let client = hubctl::AdminClient::new(&url, &admin_token).expect("client");
        let id = telemetry_protocol::DeviceId::parse("adm-cli").expect("id");
        let created = client.create_device(&id).expect("create");
        let listed = client.list_devices().expect("list");
        assert!(
            listed.iter().any(|d| d["device_id"] == "adm-cli"),
            "{listed:?}"
        );
        let rotated = client
            .rotate_device(&id, Duration::from_secs(60))
            .expect("rotate");
        assert_ne!(rotated.token, created.token);
        assert!(rotated.previous_token_valid_until.is_some());
        let scope = hub_e2e::DashboardScope::parse("adm-cli").expect("scope");
        let dashboard = client
            .create_dashboard_token(&scope, hub_e2e::Access::Read, Some("cli"))
            .expect("dashboard");
        let revoked = client
            .revoke_dashboard_token(&dashboard.token_id)
            .expect("revoke");
        assert_eq!(revoked.token_id.as_str(), dashboard.token_id);
        let shown = client.set_disabled(&id, true).expect("disable");
        assert!(shown["disabled_at"].is_string());
        created.token
    })
    .await
    .expect("blocking admin calls");
    // The old token was still within its grace period, but the device is disabled now.
    assert_eq!(device_status(hub, "adm-cli", &token).await, 403);
}
