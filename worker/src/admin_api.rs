//! The admin API under `/admin/`: devices and dashboard tokens, authenticated with the admin token.
//!
//! Routing (`route.rs`) and validation (`admin.rs`) are pure. Every credential change commits in D1 in one batch together
//! with its `hub_sync` version, then is pushed to the device objects; an object that cannot be reached is
//! retried by the sync sweeper, and the answer says so (`sync_pending`, `pending_devices`).

use futures_util::future::join_all;
use serde::Deserialize;
use telemetry_protocol::admin::{
    CreateDashboardTokenRequest, CreateDeviceRequest, CreatedDashboardToken, CreatedDevice,
    DashboardTokenList, DashboardTokenRow, DevicePage, DeviceSummary, RevokedDashboardToken,
    RotateDeviceRequest, RotatedDevice,
};
use telemetry_protocol::limits::ADMIN_DEVICE_PAGE_SIZE;
use telemetry_protocol::{DeviceId, TokenId, TokenKind, check_token_format};
use worker::wasm_bindgen::JsValue;
use worker::{Date, Env, Request, Response};

use crate::access::{DeviceRecord, TokenHash};
use crate::admin::{parse_create_dashboard_token, parse_create_device, parse_rotate};
use crate::clock::rfc3339_millis;
use crate::config::TestFaults;
use crate::d1::{self, DEVICE_RECORD_SQL};
use crate::error::HubError;
use crate::fleet_metrics;
use crate::guard_client::Guard;
use crate::handshake::{HandshakeHeaders, device_credential};
use crate::hub_client::{self, DeviceStatus};
use crate::hub_sync::{sync_device, sync_revocation};
use crate::log_event::{LogEvent, emit};
use crate::metric_point::MetricPoint;
use crate::random;
use crate::request::{client_address, header, method};
use crate::response::{internal, json_response};
use crate::route::{AdminOp, AdminRoute, HttpMethod};

/// Name of the secret (or, for local development, the var) holding the admin token's hex SHA-256.
const ADMIN_HASH_BINDING: &str = "ADMIN_TOKEN_SHA256";
/// Most devices one list answer holds.
const LIST_LIMIT: u32 = ADMIN_DEVICE_PAGE_SIZE;
/// The guard's target for this API (per client address; never a global counter).
const TARGET: &str = "admin";

type AdminResult<T> = std::result::Result<T, HubError>;

/// Handles one admin request the router matched; the caller renders the error.
///
/// The admin token is checked first and needs no lookup, so an operator with the right token is never refused
/// because someone else failed; a wrong token counts against the client's address, which gets 429 past its limit.
/// Only then is the route's refusal (404, 405, 400) told.
pub async fn handle(
    mut req: Request,
    env: &Env,
    faults: TestFaults,
    route: AdminRoute,
) -> AdminResult<Response> {
    let started_ms = Date::now().as_millis();
    if let Err(error) = authenticate(&req, env) {
        if error == HubError::Forbidden {
            let client = client_address(&req);
            let guard = Guard::new(&client, TARGET).unavailable(faults.guard_unavailable);
            guard.refuse_if_known_blocked()?;
            guard.fail(env).await?;
            let latency_ms = Date::now().as_millis().saturating_sub(started_ms);
            emit(
                LogEvent::new("auth_refused")
                    .with("endpoint", TARGET)
                    .reason("wrong token")
                    .client(&client)
                    .code(403)
                    .latency_ms(latency_ms),
            );
            let point = MetricPoint::new("auth_refused")
                .reason("wrong token")
                .endpoint(TARGET)
                .code(403)
                .latency_ms(latency_ms);
            fleet_metrics::record(env, &point);
        }
        return Err(error);
    }
    let op = route?;
    let (name, device_id) = (op.name(), op.device_id().cloned());
    let outcome = run(op, &mut req, env, faults).await;
    let code = match &outcome {
        Ok(response) => response.status_code(),
        Err(error) => error.status(),
    };
    note_admin_call(env, name, device_id.as_ref(), code, started_ms);
    outcome
}

/// Logs and records one authenticated admin call (its operation, device, status and latency).
fn note_admin_call(env: &Env, op: &str, device_id: Option<&DeviceId>, code: u16, started_ms: u64) {
    let latency_ms = Date::now().as_millis().saturating_sub(started_ms);
    let mut line = LogEvent::new("admin_call");
    let mut point = MetricPoint::new("admin_call");
    if let Some(id) = device_id {
        line = line.device(id.as_str());
        point = point.device(id.as_str());
    }
    emit(line.reason(op).code(code).latency_ms(latency_ms));
    let point = point
        .reason(op)
        .endpoint(TARGET)
        .code(code)
        .latency_ms(latency_ms);
    fleet_metrics::record(env, &point);
}

/// Reads the body and the `after` parameter and runs `op`.
async fn run(
    op: AdminOp,
    req: &mut Request,
    env: &Env,
    faults: TestFaults,
) -> AdminResult<Response> {
    let body = if method(req) == HttpMethod::Post {
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
    dispatch(op, &body, after, env, faults).await
}

fn invalid_body() -> HubError {
    HubError::InvalidField {
        field: "body",
        message: "unreadable body".into(),
    }
}

/// `Authorization: Bearer tadm_…`, compared in constant time with the configured hash.
fn authenticate(req: &Request, env: &Env) -> AdminResult<()> {
    let authorization = header(req, "Authorization");
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
    faults: TestFaults,
) -> AdminResult<Response> {
    match op {
        AdminOp::ListDevices => list_devices(env, after).await,
        AdminOp::CreateDevice => create_device(env, parse_create_device(body)?).await,
        AdminOp::ShowDevice(id) => json_response(200, &device_summary(env, &id).await?),
        AdminOp::RotateDevice(id) => rotate_device(env, &id, parse_rotate(body)?, faults).await,
        AdminOp::DisableDevice(id) => set_disabled(env, &id, true, faults).await,
        AdminOp::EnableDevice(id) => set_disabled(env, &id, false, faults).await,
        AdminOp::ListDashboardTokens => list_dashboard_tokens(env).await,
        AdminOp::CreateDashboardToken => {
            create_dashboard_token(env, parse_create_dashboard_token(body)?).await
        }
        AdminOp::RevokeDashboardToken(token_id) => {
            revoke_dashboard_token(env, &token_id, faults).await
        }
    }
}

async fn create_device(env: &Env, request: CreateDeviceRequest) -> AdminResult<Response> {
    let id = request.device_id;
    let token = random::token(TokenKind::Device).map_err(internal)?;
    let hash = TokenHash::of(&token).to_hex();
    let result = d1::run(
        env,
        "INSERT INTO devices (id, token_sha256) VALUES (?1, ?2)",
        &[id.as_str().into(), hash.into()],
    )
    .await;
    match result {
        Ok(_) => json_response(
            201,
            &CreatedDevice {
                device_id: id,
                token,
            },
        ),
        Err(error) if error.to_string().contains("UNIQUE") => {
            Err(HubError::Conflict { field: "device_id" })
        }
        Err(error) => Err(internal(error)),
    }
}

/// D1 columns of a device listed by the admin API.
#[derive(Debug, Deserialize)]
struct DeviceRow {
    id: String,
    created_at: String,
    disabled_at: Option<String>,
    previous_valid_until: Option<String>,
    sync_pending: f64,
}

const DEVICE_COLUMNS: &str = "d.id, d.created_at, d.disabled_at, d.previous_valid_until, \
     (COALESCE(s.version, 0) > COALESCE(s.delivered_version, 0)) AS sync_pending \
     FROM devices d LEFT JOIN hub_sync s ON s.subject = 'device:' || d.id";

async fn list_devices(env: &Env, after: Option<String>) -> AdminResult<Response> {
    let rows: Vec<DeviceRow> = d1::all(
        env,
        &format!("SELECT {DEVICE_COLUMNS} WHERE d.id > ?1 ORDER BY d.id LIMIT {LIST_LIMIT}"),
        &[after.unwrap_or_default().into()],
    )
    .await
    .map_err(internal)?;
    let next = (rows.len() == LIST_LIMIT as usize).then(|| rows.last().map(|r| r.id.clone()));
    let summaries = join_all(rows.into_iter().map(|row| summarize(env, row))).await;
    json_response(
        200,
        &DevicePage {
            devices: summaries,
            next_after: next.flatten(),
        },
    )
}

async fn device_summary(env: &Env, id: &DeviceId) -> AdminResult<DeviceSummary> {
    let rows: Vec<DeviceRow> = d1::all(
        env,
        &format!("SELECT {DEVICE_COLUMNS} WHERE d.id = ?1"),
        &[id.as_str().into()],
    )
    .await
    .map_err(internal)?;
    let row = rows.into_iter().next().ok_or(HubError::NotFound)?;
    Ok(summarize(env, row).await)
}

/// Merges a D1 row with what the device's Durable Object knows; an unreachable object reads as offline.
async fn summarize(env: &Env, row: DeviceRow) -> DeviceSummary {
    let status = match DeviceId::parse(&row.id) {
        Ok(id) => hub_client::status(env, &id).await.unwrap_or_default(),
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
        sync_pending: row.sync_pending > 0.0,
        storage: status.storage,
        counters: status.counters,
    }
}

/// The statement that bumps the `hub_sync` version of an existing device (inside a change's batch).
const BUMP_DEVICE_SQL: &str = "INSERT INTO hub_sync (subject, version) \
     SELECT 'device:' || id, 1 FROM devices WHERE id = ?1 \
     ON CONFLICT (subject) DO UPDATE SET version = version + 1, attempts = 0, next_attempt_ms = 0";

/// Commits `change` (a statement on device `id`) with a version bump in one batch; returns how many rows the
/// change touched and the device's record afterwards (`None`: no such device).
async fn commit_device_change(
    env: &Env,
    id: &DeviceId,
    change: (&str, Vec<JsValue>),
) -> AdminResult<(usize, Option<DeviceRecord>)> {
    let statements = vec![
        d1::statement(env, change.0, &change.1).map_err(internal)?,
        d1::statement(env, BUMP_DEVICE_SQL, &[id.as_str().into()]).map_err(internal)?,
        d1::statement(env, DEVICE_RECORD_SQL, &[id.as_str().into()]).map_err(internal)?,
    ];
    let results = d1::batch(env, statements).await.map_err(internal)?;
    let changed = results.first().map_or(0, d1::changes);
    let record = results
        .get(2)
        .map(|r| r.results::<DeviceRecord>())
        .transpose()
        .map_err(internal)?
        .and_then(|rows| rows.into_iter().next());
    Ok((changed, record))
}

async fn rotate_device(
    env: &Env,
    id: &DeviceId,
    request: RotateDeviceRequest,
    faults: TestFaults,
) -> AdminResult<Response> {
    let (token, hash) = match request.token_sha256 {
        Some(hash) => (None, hash),
        None => {
            let token = random::token(TokenKind::Device).map_err(internal)?;
            let hash = TokenHash::of(&token).to_hex();
            (Some(token), hash)
        }
    };
    let grace_until = (request.grace_seconds > 0)
        .then(|| rfc3339_millis(Date::now().as_millis() + request.grace_seconds * 1000));
    // A rotation to the hash the device already has is a repeat of an earlier request: it changes nothing.
    let change = (
        "UPDATE devices SET \
           previous_token_sha256 = CASE WHEN ?2 IS NULL THEN NULL ELSE token_sha256 END, \
           previous_valid_until = ?2, token_sha256 = ?1 WHERE id = ?3 AND token_sha256 <> ?1",
        vec![
            hash.as_str().into(),
            nullable(grace_until.as_deref()),
            id.as_str().into(),
        ],
    );
    let (_, record) = commit_device_change(env, id, change).await?;
    let record = record.ok_or(HubError::NotFound)?;
    let sync = sync_device(env, id, &record, faults).await;
    // The answer names the new token when the hub made it, else the hash the client sent.
    let token_sha256 = token.is_none().then_some(hash);
    let answer = RotatedDevice {
        device_id: id.clone(),
        previous_token_valid_until: record.previous_valid_until,
        sync_pending: sync.pending_devices > 0,
        token,
        token_sha256,
    };
    json_response(200, &answer)
}

async fn set_disabled(
    env: &Env,
    id: &DeviceId,
    disabled: bool,
    faults: TestFaults,
) -> AdminResult<Response> {
    let now = rfc3339_millis(Date::now().as_millis());
    let change = if disabled {
        (
            "UPDATE devices SET disabled_at = COALESCE(disabled_at, ?1) WHERE id = ?2",
            vec![now.into(), id.as_str().into()],
        )
    } else {
        (
            "UPDATE devices SET disabled_at = NULL WHERE id = ?1",
            vec![id.as_str().into()],
        )
    };
    let (_, record) = commit_device_change(env, id, change).await?;
    let record = record.ok_or(HubError::NotFound)?;
    sync_device(env, id, &record, faults).await;
    json_response(200, &device_summary(env, id).await?)
}

async fn create_dashboard_token(
    env: &Env,
    new: CreateDashboardTokenRequest,
) -> AdminResult<Response> {
    let token = random::token(TokenKind::Dashboard).map_err(internal)?;
    let token_id = random::token_id().map_err(internal)?;
    let devices = new.devices.stored();
    d1::run(
        env,
        "INSERT INTO dashboard_tokens (id, token_sha256, devices, access, label) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            token_id.as_str().into(),
            TokenHash::of(&token).to_hex().into(),
            devices.as_str().into(),
            new.access.as_str().into(),
            nullable(new.label.as_deref()),
        ],
    )
    .await
    .map_err(internal)?;
    let created = CreatedDashboardToken {
        token_id,
        token,
        devices,
        access: new.access,
        label: new.label,
    };
    json_response(201, &created)
}

async fn list_dashboard_tokens(env: &Env) -> AdminResult<Response> {
    let rows: Vec<DashboardTokenRow> = d1::all(
        env,
        "SELECT id AS token_id, devices, access, label, created_at, revoked_at \
         FROM dashboard_tokens ORDER BY created_at, id",
        &[],
    )
    .await
    .map_err(internal)?;
    json_response(
        200,
        &DashboardTokenList {
            dashboard_tokens: rows,
        },
    )
}

async fn revoke_dashboard_token(
    env: &Env,
    token_id: &str,
    faults: TestFaults,
) -> AdminResult<Response> {
    #[derive(Deserialize)]
    struct Revoked {
        devices: String,
        version: u64,
    }
    // The router let only the id's shape through; parsed before anything is changed.
    let typed_id = TokenId::parse(token_id).map_err(internal)?;
    let now = rfc3339_millis(Date::now().as_millis());
    let statements = vec![
        d1::statement(
            env,
            "UPDATE dashboard_tokens SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
            &[now.into(), token_id.into()],
        )
        .map_err(internal)?,
        d1::statement(
            env,
            "INSERT INTO hub_sync (subject, version) \
             SELECT 'dashboard_token:' || id, 1 FROM dashboard_tokens WHERE id = ?1 \
             ON CONFLICT (subject) DO UPDATE SET version = version + 1, attempts = 0, next_attempt_ms = 0",
            &[token_id.into()],
        )
        .map_err(internal)?,
        d1::statement(
            env,
            "SELECT t.devices, COALESCE(s.version, 0) AS version FROM dashboard_tokens t \
             LEFT JOIN hub_sync s ON s.subject = 'dashboard_token:' || t.id WHERE t.id = ?1",
            &[token_id.into()],
        )
        .map_err(internal)?,
    ];
    let results = d1::batch(env, statements).await.map_err(internal)?;
    let revoked: Option<Revoked> = results
        .get(2)
        .map(|r| r.results::<Revoked>())
        .transpose()
        .map_err(internal)?
        .and_then(|rows| rows.into_iter().next());
    let revoked = revoked.ok_or(HubError::NotFound)?;
    let sync = sync_revocation(env, token_id, &revoked.devices, revoked.version, faults).await;
    let revoked = RevokedDashboardToken {
        token_id: typed_id,
        revoked: true,
        closed_sockets: sync.closed,
        pending_devices: sync.pending_devices,
    };
    json_response(200, &revoked)
}

fn nullable(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_str)
}
