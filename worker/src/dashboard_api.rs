//! `GET /api/devices`: the device ids a dashboard token can watch, for the dashboard's device picker.

use serde::Deserialize;
use telemetry_protocol::limits::MAX_API_DEVICE_LIST;
use telemetry_protocol::{DeviceList, TokenKind, check_token_format};
use worker::{Context, Env, Method, Request, Response, console_log};

use crate::access::{DashboardRecord, TokenHash, authorize_dashboard_token};
use crate::config::TestFaults;
use crate::error::HubError;
use crate::guard_client::Guard;
use crate::handshake::{HandshakeHeaders, device_credential};
use crate::http::{client_address, header, internal, json_response};

/// Most device ids one answer lists for a `*` scope.
const LIST_LIMIT: u32 = MAX_API_DEVICE_LIST;
/// The guard's target for this endpoint (per client address; never a global counter).
const TARGET: &str = "api";

/// Answers `GET /api/devices` with `{"devices":[..],"access":..}` for the presented dashboard token.
pub async fn handle(
    req: Request,
    env: &Env,
    ctx: &Context,
    faults: TestFaults,
) -> Result<Response, HubError> {
    if req.method() != Method::Get {
        return Err(HubError::MethodNotAllowed { allow: "GET" });
    }
    let authorization = header(&req, "Authorization");
    let handshake = HandshakeHeaders {
        authorization: authorization.as_deref(),
        ..HandshakeHeaders::default()
    };
    let token = device_credential(&handshake)?.token;
    let client = client_address(&req);
    let guard = Guard::new(&client, TARGET).unavailable(faults.guard_unavailable);
    guard.refuse_if_known_blocked()?;
    let refused = |reason: &str| {
        console_log!("api auth refused: reason={reason} client={client}");
        HubError::Forbidden
    };
    if check_token_format(token) != Ok(TokenKind::Dashboard) {
        guard.fail(env).await?;
        return Err(refused("wrong token"));
    }
    // D1 is read only once the address cleared the guard.
    let ticket = guard.begin(env).await?;
    let presented = TokenHash::of(token);
    let looked_up = lookup(env, &presented).await;
    let grant = match &looked_up {
        Ok(record) => Some(authorize_dashboard_token(&presented, record.as_ref())),
        Err(_) => None,
    };
    let failed = matches!(grant, Some(Err(_)));
    let env_for_guard = env.clone();
    ctx.wait_until(async move { guard.finish(&env_for_guard, ticket, failed).await });
    let record = looked_up?;
    let grant = match grant {
        Some(Ok(grant)) => grant,
        Some(Err(denial)) => return Err(refused(denial.as_str())),
        None => return Err(HubError::Internal),
    };
    let devices = match record.as_ref().map(|r| r.devices.trim()) {
        Some("*") => all_device_ids(env).await?,
        Some(list) => list.split(',').map(|id| id.trim().to_owned()).collect(),
        None => Vec::new(),
    };
    let answer = DeviceList {
        devices,
        access: grant.access,
    };
    json_response(200, &answer)
}

async fn lookup(env: &Env, presented: &TokenHash) -> Result<Option<DashboardRecord>, HubError> {
    let sql = "SELECT id, token_sha256, devices, access, revoked_at FROM dashboard_tokens \
               WHERE token_sha256 = ?1";
    crate::d1::first(env, sql, &[presented.to_hex().into()])
        .await
        .map_err(internal)
}

async fn all_device_ids(env: &Env) -> Result<Vec<String>, HubError> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let sql = format!("SELECT id FROM devices ORDER BY id LIMIT {LIST_LIMIT}");
    let rows: Vec<Id> = crate::d1::all(env, &sql, &[]).await.map_err(internal)?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}
