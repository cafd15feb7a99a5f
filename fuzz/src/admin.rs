//! Targets for the hub's router (`telemetry_hub::route`: `route` and `admin_route`) and the admin API's body
//! parsers.
//!
//! `admin_routes` input: `method:` and any number of `path:` lines; each path goes through both routers.
//! `admin_bodies` input: an optional `pad: N` line (the body padded with spaces to near the 64 KiB limit, see
//! [`pad_near_limit`]), then `body:` and the request body, which goes through every body parser.

use telemetry_hub::admin::{
    AdminRefusal, parse_create_dashboard_token, parse_create_device, parse_rotate,
};
use telemetry_hub::error::HubError;
use telemetry_hub::route::{AdminOp, HttpMethod, Route, admin_route, route};
use telemetry_protocol::admin::{CreateDashboardTokenRequest, DeviceScope};
use telemetry_protocol::limits::{
    MAX_ADMIN_BODY_BYTES, MAX_GRACE_SECONDS, MAX_LABEL_CHARS, MAX_SCOPE_DEVICES,
};

use crate::fields::{Fields, pad_near_limit, text};

/// `route` and `admin_route` on any method and paths.
pub fn admin_routes(data: &[u8]) {
    let text = text(data);
    let fields = Fields::lines(&text);
    let method = fields.get("method").unwrap_or("GET");
    let http_method = match method {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        _ => HttpMethod::Other,
    };
    for path in fields.all("path") {
        match route(http_method, path) {
            Ok(routed) => check_route(&routed, method, path),
            Err(refusal) => assert_refusal(&refusal),
        }
        match admin_route(http_method, path) {
            Ok(op) => check_op(&op, method, path),
            Err(refusal) => assert_refusal(&refusal),
        }
    }
}

fn assert_refusal(refusal: &HubError) {
    let status = refusal.status();
    assert!(matches!(status, 400 | 404 | 405), "status {status}");
}

fn check_route(routed: &Route, method: &str, path: &str) {
    let expected = match routed {
        Route::DeviceSocket(id) => format!("/ws/device/{id}"),
        Route::DashboardSocket(id) => format!("/ws/dashboard/{id}"),
        Route::DeviceList => "/api/devices".to_owned(),
        Route::History(history) => {
            let csv = if history.csv { ".csv" } else { "" };
            format!("/api/devices/{}/history{csv}", history.device_id)
        }
        Route::Admin(admin) => {
            assert!(path == "/admin" || path.starts_with("/admin/"), "{path:?}");
            match admin {
                Ok(op) => check_op(op, method, path),
                Err(refusal) => assert_refusal(refusal),
            }
            return;
        }
    };
    assert_eq!(method, "GET", "{routed:?}");
    assert_eq!(expected, path);
}

fn check_op(op: &AdminOp, method: &str, path: &str) {
    assert!(matches!(method, "GET" | "POST"), "{op:?} for {method}");
    match op {
        AdminOp::ShowDevice(id)
        | AdminOp::RotateDevice(id)
        | AdminOp::DisableDevice(id)
        | AdminOp::EnableDevice(id) => {
            assert!(path.contains(&format!("/{id}")), "{op:?} from {path:?}");
        }
        AdminOp::RevokeDashboardToken(token_id) => {
            let hex = token_id.strip_prefix("dt_").unwrap_or("");
            assert!(hex.len() == 12 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
            assert!(path.contains(token_id.as_str()));
        }
        _ => {}
    }
}

/// Every admin body parser on any body.
pub fn admin_bodies(data: &[u8]) {
    let text = text(data);
    let fields = Fields::parse(&text, "body");
    let body = pad_near_limit(
        fields.body().unwrap_or(""),
        MAX_ADMIN_BODY_BYTES,
        fields.number("pad"),
    );
    let too_big = body.len() > MAX_ADMIN_BODY_BYTES;
    let device = parse_create_device(&body);
    let rotation = parse_rotate(&body);
    let grace = rotation
        .as_ref()
        .map(|request| request.grace_seconds)
        .map_err(Clone::clone);
    let token = parse_create_dashboard_token(&body);
    if too_big {
        for refusal in [device.err(), grace.err(), token.err()] {
            assert!(matches!(
                refusal,
                Some(AdminRefusal::Invalid { field: "body", .. })
            ));
        }
        return;
    }
    if body.trim().is_empty() {
        assert_eq!(grace, Ok(0), "an empty rotation body is no grace period");
    }
    if let Ok(seconds) = grace {
        assert!(seconds <= MAX_GRACE_SECONDS);
    }
    if let Ok(Some(hash)) = rotation
        .as_ref()
        .map(|request| request.token_sha256.as_deref())
    {
        let lower_hex = hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        assert!(
            hash.len() == 64 && lower_hex,
            "a new token's hash is 64 lowercase hex digits"
        );
    }
    if let Ok(token) = token {
        check_new_token(&token);
    }
}

/// A parsed token request is within its limits and parses again, written out, to the same request.
fn check_new_token(token: &CreateDashboardTokenRequest) {
    if let DeviceScope::Devices(ids) = &token.devices {
        assert!((1..=MAX_SCOPE_DEVICES).contains(&ids.len()));
        for (i, id) in ids.iter().enumerate() {
            assert!(!ids[..i].contains(id), "{id:?}");
        }
    }
    if let Some(label) = &token.label {
        assert!((1..=MAX_LABEL_CHARS).contains(&label.chars().count()));
        assert!(!label.chars().any(char::is_control));
    }
    let body = serde_json::to_string(token).expect("a request serialises");
    assert_eq!(parse_create_dashboard_token(&body).as_ref(), Ok(token));
}
