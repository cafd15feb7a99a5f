//! The admin API under `/admin/`: devices and dashboard tokens, authenticated with the admin token.
//!
//! Validation and routing are pure (`admin.rs`); this file reads and writes D1 and tells Durable Objects to
//! close revoked sockets.

use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::{Value, json};
use telemetry_protocol::{DeviceId, TokenKind, check_token_format};
use worker::wasm_bindgen::JsValue;
use worker::{Date, Env, Method, Request, RequestInit, Response, console_log};

use crate::access::{Access, TokenHash};
use crate::admin::{
    AdminOp, DeviceSummary, NewDashboardToken, parse_create_dashboard_token, parse_create_device,
    parse_rotate,
};
use crate::auth_guard::guard_keys;
use crate::clock::rfc3339_millis;
use crate::device_hub::{DeviceStatus, RevokeOrder, RotateOrder};
use crate::error::HubError;
use crate::gateway::{check_guard, client_address, device_hub, record_failure};
use crate::handshake::{HandshakeHeaders, device_credential};
use crate::random;

/// Name of the secret (or, for local development, the var) holding the admin token's hex SHA-256.
const ADMIN_HASH_BINDING: &str = "ADMIN_TOKEN_SHA256";
/// Most devices one list answer holds.
const LIST_LIMIT: u32 = 100;

type AdminResult<T> = std::result::Result<T, HubError>;

/// Handles one admin request; the caller renders the error.
pub async fn handle(mut req: Request, env: &Env) -> AdminResult<Response> {
    let client = client_address(&req);
    let keys = guard_keys(&client, "admin");
    check_guard(env, &keys).await?;
    if let Err(error) = authenticate(&req, env) {
        if error == HubError::Forbidden {
            record_failure(env, &keys).await;
            console_log!("admin auth refused: reason=wrong token client={client}");
        }
        return Err(error);
    }
    let method = match req.method() {
        Method::Get => "GET",
        Method::Post => "POST",
        _ => "OTHER",
    };
    let op = crate::admin::admin_op(method, &req.path())?;
    let body = if method == "POST" {
        req.text().await.map_err(|_| invalid_body())?
    } else {
        String::new()
    };
    let url = req
        .url()
        .map_err(|_| HubError::BadRequest("malformed URL"))?;
    let after = url
        .query_pairs()
        .find(|(k, _)| k == "after")
        .map(|(_, v)| v.into_owned());
    dispatch(op, &body, after, env).await
}

fn invalid_body() -> HubError {
    HubError::InvalidField {
        field: "body",
        message: "unreadable body".into(),
    }
}

/// `Authorization: Bearer tadm_…`, compared in constant time with the configured hash.
fn authenticate(req: &Request, env: &Env) -> AdminResult<()> {
    let authorization = req.headers().get("Authorization").ok().flatten();
    let handshake = HandshakeHeaders {
        authorization: authorization.as_deref(),
        ..HandshakeHeaders::default()
    };
    let token = device_credential(&handshake)?.token;
    let stored = env
        .secret(ADMIN_HASH_BINDING)
        .map(|s| s.to_string())
        .or_else(|_| env.var(ADMIN_HASH_BINDING).map(|v| v.to_string()))
        .map_err(|_| HubError::AdminDisabled)?;
    let presented = TokenHash::of(token);
    let well_formed = check_token_format(token) == Ok(TokenKind::Admin);
    if presented.matches_hex(stored.trim()) && well_formed {
        Ok(())
    } else {
        Err(HubError::Forbidden)
    }
}

async fn dispatch(
    op: AdminOp,
    body: &str,
    after: Option<String>,
    env: &Env,
) -> AdminResult<Response> {
    match op {
        AdminOp::ListDevices => list_devices(env, after).await,
        AdminOp::CreateDevice => create_device(env, parse_create_device(body)?).await,
        AdminOp::ShowDevice(id) => json_response(200, &device_summary(env, &id).await?),
        AdminOp::RotateDevice(id) => rotate_device(env, &id, parse_rotate(body)?).await,
        AdminOp::DisableDevice(id) => set_disabled(env, &id, true).await,
        AdminOp::EnableDevice(id) => set_disabled(env, &id, false).await,
        AdminOp::ListDashboardTokens => list_dashboard_tokens(env).await,
        AdminOp::CreateDashboardToken => {
            create_dashboard_token(env, parse_create_dashboard_token(body)?).await
        }
        AdminOp::RevokeDashboardToken(token_id) => revoke_dashboard_token(env, &token_id).await,
    }
}

async fn create_device(env: &Env, id: DeviceId) -> AdminResult<Response> {
    let token = random::token(TokenKind::Device).map_err(internal)?;
    let hash = TokenHash::of(&token).to_hex();
    let result = run(
        env,
        "INSERT INTO devices (id, token_sha256) VALUES (?1, ?2)",
        &[id.as_str().into(), hash.into()],
    )
    .await;
    match result {
        Ok(_) => json_response(201, &json!({"device_id": id, "token": token})),
        Err(message) if message.contains("UNIQUE") => {
            Err(HubError::Conflict { field: "device_id" })
        }
        Err(message) => Err(internal(message)),
    }
}

/// D1 columns of a device listed by the admin API.
#[derive(Debug, Deserialize)]
struct DeviceRow {
    id: String,
    created_at: String,
    disabled_at: Option<String>,
    previous_valid_until: Option<String>,
}

const DEVICE_COLUMNS: &str = "id, created_at, disabled_at, previous_valid_until";

async fn list_devices(env: &Env, after: Option<String>) -> AdminResult<Response> {
    let rows: Vec<DeviceRow> = all(
        env,
        &format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE id > ?1 ORDER BY id LIMIT {LIST_LIMIT}"
        ),
        &[after.unwrap_or_default().into()],
    )
    .await?;
    let next = (rows.len() == LIST_LIMIT as usize).then(|| rows.last().map(|r| r.id.clone()));
    let summaries = join_all(rows.into_iter().map(|row| summarize(env, row))).await;
    json_response(
        200,
        &json!({"devices": summaries, "next_after": next.flatten()}),
    )
}

async fn device_summary(env: &Env, id: &DeviceId) -> AdminResult<DeviceSummary> {
    let rows: Vec<DeviceRow> = all(
        env,
        &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"),
        &[id.as_str().into()],
    )
    .await?;
    let row = rows.into_iter().next().ok_or(HubError::NotFound)?;
    Ok(summarize(env, row).await)
}

/// Merges a D1 row with what the device's Durable Object knows; an unreachable object reads as offline.
async fn summarize(env: &Env, row: DeviceRow) -> DeviceSummary {
    let status = match DeviceId::parse(&row.id) {
        Ok(id) => device_status(env, &id).await.unwrap_or_default(),
        Err(_) => DeviceStatus::default(),
    };
    let now = Date::now().as_millis();
    let grace_open = row
        .previous_valid_until
        .as_deref()
        .and_then(crate::clock::parse_millis)
        .is_some_and(|until| until > now);
    DeviceSummary {
        device_id: row.id,
        created_at: row.created_at,
        disabled_at: row.disabled_at,
        previous_token_valid_until: row.previous_valid_until.filter(|_| grace_open),
        online: status.online,
        last_seen: status.last_seen,
        last_seq: status.last_seq,
    }
}

async fn device_status(env: &Env, id: &DeviceId) -> worker::Result<DeviceStatus> {
    let stub = device_hub(env, id)?;
    stub.fetch_with_str("https://device-hub/status")
        .await?
        .json()
        .await
}

async fn rotate_device(env: &Env, id: &DeviceId, grace_seconds: u64) -> AdminResult<Response> {
    let token = random::token(TokenKind::Device).map_err(internal)?;
    let hash = TokenHash::of(&token);
    let now = Date::now().as_millis();
    let grace_until_ms = if grace_seconds == 0 {
        0
    } else {
        now + grace_seconds * 1000
    };
    let valid_until = (grace_seconds > 0).then(|| rfc3339_millis(grace_until_ms));
    let changes = run(
        env,
        "UPDATE devices SET \
           previous_token_sha256 = CASE WHEN ?2 IS NULL THEN NULL ELSE token_sha256 END, \
           previous_valid_until = ?2, token_sha256 = ?1 WHERE id = ?3",
        &[
            hash.to_hex().into(),
            nullable(valid_until.as_deref()),
            id.as_str().into(),
        ],
    )
    .await
    .map_err(internal)?;
    if changes == 0 {
        return Err(HubError::NotFound);
    }
    let order = RotateOrder {
        current_key_id: hash.key_id(),
        grace_until_ms,
    };
    post_to_hub(env, id, "rotate", &order).await?;
    json_response(
        200,
        &json!({"device_id": id, "token": token, "previous_token_valid_until": valid_until}),
    )
}

async fn set_disabled(env: &Env, id: &DeviceId, disabled: bool) -> AdminResult<Response> {
    let now = rfc3339_millis(Date::now().as_millis());
    let changes = if disabled {
        run(
            env,
            "UPDATE devices SET disabled_at = COALESCE(disabled_at, ?1) WHERE id = ?2",
            &[now.into(), id.as_str().into()],
        )
        .await
    } else {
        run(
            env,
            "UPDATE devices SET disabled_at = NULL WHERE id = ?1",
            &[id.as_str().into()],
        )
        .await
    }
    .map_err(internal)?;
    if changes == 0 {
        return Err(HubError::NotFound);
    }
    if disabled {
        let order = RevokeOrder {
            device: true,
            token_id: None,
        };
        post_to_hub(env, id, "revoke", &order).await?;
    }
    json_response(200, &device_summary(env, id).await?)
}

async fn create_dashboard_token(env: &Env, new: NewDashboardToken) -> AdminResult<Response> {
    let token = random::token(TokenKind::Dashboard).map_err(internal)?;
    let token_id = random::token_id().map_err(internal)?;
    let access = match new.access {
        Access::Read => "read",
        Access::Control => "control",
    };
    run(
        env,
        "INSERT INTO dashboard_tokens (id, token_sha256, devices, access, label) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            token_id.as_str().into(),
            TokenHash::of(&token).to_hex().into(),
            new.devices.as_str().into(),
            access.into(),
            nullable(new.label.as_deref()),
        ],
    )
    .await
    .map_err(internal)?;
    json_response(
        201,
        &json!({"token_id": token_id, "token": token, "devices": new.devices, "access": access,
                "label": new.label}),
    )
}

async fn list_dashboard_tokens(env: &Env) -> AdminResult<Response> {
    let rows: Vec<Value> = all(
        env,
        "SELECT id AS token_id, devices, access, label, created_at, revoked_at \
         FROM dashboard_tokens ORDER BY created_at, id",
        &[],
    )
    .await?;
    json_response(200, &json!({"dashboard_tokens": rows}))
}

async fn revoke_dashboard_token(env: &Env, token_id: &str) -> AdminResult<Response> {
    #[derive(Deserialize)]
    struct Scope {
        devices: String,
    }
    let rows: Vec<Scope> = all(
        env,
        "SELECT devices FROM dashboard_tokens WHERE id = ?1",
        &[token_id.into()],
    )
    .await?;
    let scope = rows.into_iter().next().ok_or(HubError::NotFound)?;
    let now = rfc3339_millis(Date::now().as_millis());
    run(
        env,
        "UPDATE dashboard_tokens SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
        &[now.into(), token_id.into()],
    )
    .await
    .map_err(internal)?;
    let targets = scope_targets(env, &scope.devices).await?;
    let order = RevokeOrder {
        device: false,
        token_id: Some(token_id.to_owned()),
    };
    let results = join_all(
        targets
            .iter()
            .map(|id| post_to_hub(env, id, "revoke", &order)),
    )
    .await;
    let closed: u64 = results
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|v| v["closed"].as_u64())
        .sum();
    json_response(
        200,
        &json!({"token_id": token_id, "revoked": true, "closed_sockets": closed}),
    )
}

/// The device ids a scope covers: the listed ones, or every device for `*`.
async fn scope_targets(env: &Env, devices: &str) -> AdminResult<Vec<DeviceId>> {
    if devices.trim() != "*" {
        return Ok(devices
            .split(',')
            .filter_map(|id| DeviceId::parse(id.trim()).ok())
            .collect());
    }
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let rows: Vec<Id> = all(env, "SELECT id FROM devices", &[]).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| DeviceId::parse(&r.id).ok())
        .collect())
}

async fn post_to_hub<T: serde::Serialize>(
    env: &Env,
    id: &DeviceId,
    path: &str,
    order: &T,
) -> AdminResult<Value> {
    let call = async {
        let body =
            serde_json::to_string(order).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&body)));
        let request = Request::new_with_init(&format!("https://device-hub/{path}"), &init)?;
        device_hub(env, id)?
            .fetch_with_request(request)
            .await?
            .json::<Value>()
            .await
    };
    call.await.map_err(|e| internal(e.to_string()))
}

async fn all<T: serde::de::DeserializeOwned>(
    env: &Env,
    sql: &str,
    params: &[JsValue],
) -> AdminResult<Vec<T>> {
    crate::d1::all(env, sql, params).await.map_err(internal)
}

/// Runs a write and returns how many rows it changed, or the database's message.
async fn run(env: &Env, sql: &str, params: &[JsValue]) -> std::result::Result<usize, String> {
    crate::d1::run(env, sql, params)
        .await
        .map_err(|e| e.to_string())
}

fn nullable(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_str)
}

fn internal(detail: impl std::fmt::Display) -> HubError {
    console_log!("admin API failure: {detail}");
    HubError::Internal
}

fn json_response<T: serde::Serialize>(status: u16, value: &T) -> AdminResult<Response> {
    let response = Response::from_json(value).map_err(internal)?;
    let headers = worker::Headers::new();
    let _ = headers.set("Content-Type", "application/json");
    let _ = headers.set("Cache-Control", "no-store");
    Ok(response.with_status(status).with_headers(headers))
}
