//! The admin client on the wire, against a canned local server: what it sends, how it decodes answers, and how
//! every refusal becomes an error that never holds the admin token.

mod canned_hub;

use std::time::Duration;

use canned_hub::{Canned, CannedHub};
use hubctl::{Access, AdminApiError, AdminClient, DashboardScope, Hub, HubctlError};
use serde_json::{Value, json};
use telemetry_protocol::{DeviceId, TokenKind, generate_token};

fn admin_token() -> String {
    generate_token(TokenKind::Admin, |b| b.fill(11))
}

fn client(hub: &CannedHub, token: &str) -> AdminClient {
    AdminClient::new(&hub.url(), token).expect("client")
}

fn id(raw: &str) -> DeviceId {
    DeviceId::parse(raw).expect("valid")
}

fn body(request: &canned_hub::Recorded) -> Value {
    serde_json::from_str(&request.body).expect("JSON body")
}

fn device_row(id: &str) -> Value {
    json!({"device_id": id, "created_at": "2026-02-01T10:00:00.000Z", "disabled_at": null,
           "previous_token_valid_until": null, "online": false, "last_seen": null, "last_seq": null})
}

#[test]
fn create_device_posts_the_id_with_the_bearer_token() {
    let device_token = generate_token(TokenKind::Device, |b| b.fill(1));
    let hub = CannedHub::start(vec![Canned::json(
        201,
        json!({"device_id": "ems_001", "token": device_token}),
    )]);
    let admin = admin_token();
    let created = client(&hub, &admin)
        .create_device(&id("ems_001"))
        .expect("created");
    assert_eq!(created.token, device_token);
    let request = &hub.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("POST", "/admin/devices")
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {admin}").as_str())
    );
    assert_eq!(request.content_type.as_deref(), Some("application/json"));
    assert_eq!(body(request), json!({"device_id": "ems_001"}));
}

#[test]
fn list_devices_follows_next_after_through_every_page() {
    let hub = CannedHub::start(vec![
        Canned::json(
            200,
            json!({"devices": [device_row("a"), device_row("b")], "next_after": "b"}),
        ),
        Canned::json(
            200,
            json!({"devices": [device_row("c")], "next_after": null}),
        ),
    ]);
    let devices = client(&hub, &admin_token()).list_devices().expect("listed");
    let ids: Vec<&str> = devices
        .iter()
        .filter_map(|d| d["device_id"].as_str())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let targets: Vec<String> = hub.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/admin/devices", "/admin/devices?after=b"]);
}

#[test]
fn a_list_that_does_not_advance_is_an_error_not_a_loop() {
    let page = || {
        Canned::json(
            200,
            json!({"devices": [device_row("b")], "next_after": "b"}),
        )
    };
    let hub = CannedHub::start(vec![page(), page()]);
    let error = client(&hub, &admin_token())
        .list_devices()
        .expect_err("stuck");
    assert!(error.to_string().contains("does not advance"), "{error}");
}

#[test]
fn rotate_show_disable_and_enable_use_their_paths() {
    let new_token = generate_token(TokenKind::Device, |b| b.fill(2));
    let new_hash = hubctl::token_sha256_hex(&new_token);
    let hub = CannedHub::start(vec![
        Canned::json(
            200,
            json!({"device_id": "a", "token_sha256": new_hash,
                                 "previous_token_valid_until": "2026-02-03T13:00:00.000Z", "sync_pending": false}),
        ),
        Canned::json(200, device_row("a")),
        Canned::json(200, device_row("a")),
        Canned::json(200, device_row("a")),
    ]);
    let client = client(&hub, &admin_token());
    let rotated = client
        .rotate_device_to(&id("a"), Duration::from_secs(600), new_token.clone())
        .expect("rotated");
    assert_eq!(rotated.token, new_token);
    assert_eq!(
        rotated.previous_token_valid_until.as_deref(),
        Some("2026-02-03T13:00:00.000Z")
    );
    assert_eq!(
        client.show_device(&id("a")).expect("shown")["device_id"],
        "a"
    );
    client.set_disabled(&id("a"), true).expect("disabled");
    client.set_disabled(&id("a"), false).expect("enabled");
    let requests = hub.requests();
    let seen: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.target.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("POST", "/admin/devices/a/rotate"),
            ("GET", "/admin/devices/a"),
            ("POST", "/admin/devices/a/disable"),
            ("POST", "/admin/devices/a/enable"),
        ]
    );
    assert_eq!(
        body(&requests[0]),
        json!({"grace_seconds": 600, "token_sha256": new_hash}),
        "only the hash leaves hubctl"
    );
    assert!(!requests[0].body.contains(&new_token));
    assert_eq!(requests[2].body, "");
}

#[test]
fn dashboard_tokens_are_created_listed_and_revoked() {
    let token = generate_token(TokenKind::Dashboard, |b| b.fill(3));
    let hub = CannedHub::start(vec![
        Canned::json(
            201,
            json!({"token_id": "dt_0123456789ab", "token": token,
                                 "devices": "a,b", "access": "control", "label": "ops"}),
        ),
        Canned::json(
            200,
            json!({"dashboard_tokens": [{"token_id": "dt_0123456789ab"}]}),
        ),
        Canned::json(
            200,
            json!({"token_id": "dt_0123456789ab", "revoked": true, "closed_sockets": 2}),
        ),
    ]);
    let client = client(&hub, &admin_token());
    let scope = DashboardScope::parse("a,b").expect("scope");
    let created = client
        .create_dashboard_token(&scope, Access::Control, Some("ops"))
        .expect("created");
    assert_eq!(
        (created.token_id.as_str(), created.token.as_str()),
        ("dt_0123456789ab", token.as_str())
    );
    assert_eq!(client.list_dashboard_tokens().expect("listed").len(), 1);
    let revoked = client
        .revoke_dashboard_token("dt_0123456789ab")
        .expect("revoked");
    assert_eq!(revoked.closed_sockets, 2);
    let requests = hub.requests();
    assert_eq!(
        body(&requests[0]),
        json!({"devices": ["a", "b"], "access": "control", "label": "ops"})
    );
    assert_eq!(
        requests[2].target,
        "/admin/dashboard-tokens/dt_0123456789ab/revoke"
    );
}

#[test]
fn every_refusal_maps_to_a_clear_error_without_the_admin_token() {
    let refusal = |status, body: Value| Canned::json(status, body);
    let hub = CannedHub::start(vec![
        refusal(
            409,
            json!({"error": "conflict", "message": "device_id: already exists", "field": "device_id"}),
        ),
        refusal(
            400,
            json!({"error": "invalid_field", "message": "grace_seconds: too long", "field": "grace_seconds"}),
        ),
        refusal(403, json!({"error": "forbidden", "message": "forbidden"})),
        refusal(
            429,
            json!({"error": "too_many_requests", "message": "retry later"}),
        )
        .with_header("Retry-After", "7"),
        refusal(
            503,
            json!({"error": "admin_disabled", "message": "not configured"}),
        ),
        refusal(404, json!({"error": "not_found", "message": "not found"})),
        refusal(
            500,
            json!({"error": "internal", "message": "internal error"}),
        ),
    ]);
    let admin = admin_token();
    let client = client(&hub, &admin);
    let device = id("ems_001");
    let errors = [
        client.create_device(&device).expect_err("409"),
        client
            .rotate_device(&device, Duration::ZERO)
            .expect_err("400"),
        client.list_devices().expect_err("403"),
        client.show_device(&device).expect_err("429"),
        client.list_dashboard_tokens().expect_err("503"),
        client.set_disabled(&device, true).expect_err("404"),
        client
            .revoke_dashboard_token("dt_0123456789ab")
            .expect_err("500"),
    ];
    let expected = [
        "device ems_001 already exists (field device_id)",
        "the hub refused grace_seconds: too long",
        "admin token rejected (HTTP 403)",
        "too many failed attempts (HTTP 429): retry in 7 s",
        "the admin API is not configured: run `wrangler secret put ADMIN_TOKEN_SHA256`",
        "device ems_001 does not exist",
        "the hub failed (HTTP 500)",
    ];
    for (error, start) in errors.iter().zip(expected) {
        let shown = error.to_string();
        assert!(shown.starts_with(start), "{shown}");
        assert!(!shown.contains(&admin[5..]) && !format!("{error:?}").contains(&admin[5..]));
    }
    assert!(matches!(
        &errors[3],
        HubctlError::AdminApi(AdminApiError::RateLimited {
            retry_after_secs: Some(7)
        })
    ));
}

#[test]
fn an_unreachable_hub_is_named_without_the_token() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let admin = admin_token();
    let client = AdminClient::new(&format!("http://127.0.0.1:{port}"), &admin).expect("client");
    let error = client.list_devices().expect_err("nothing listens");
    let shown = error.to_string();
    assert!(
        shown.starts_with(&format!(
            "could not reach the hub at http://127.0.0.1:{port}/admin/devices"
        )),
        "{shown}"
    );
    assert!(!shown.contains(&admin[5..]));
}

#[test]
fn a_malformed_token_in_an_answer_is_refused() {
    let hub = CannedHub::start(vec![Canned::json(
        201,
        json!({"device_id": "a", "token": "tdev_short"}),
    )]);
    let error = client(&hub, &admin_token())
        .create_device(&id("a"))
        .expect_err("malformed");
    assert!(
        error.to_string().contains("the new token is malformed"),
        "{error}"
    );
}

#[test]
fn a_rotation_the_hub_did_not_confirm_is_an_error() {
    let hub = CannedHub::start(vec![Canned::json(
        200,
        json!({"device_id": "a", "token": generate_token(TokenKind::Device, |b| b.fill(5)),
               "previous_token_valid_until": null}),
    )]);
    let client = client(&hub, &admin_token());
    let refused = client.rotate_device(&id("a"), Duration::ZERO);
    assert!(
        refused.is_err(),
        "an old hub that made its own token: {refused:?}"
    );
}
