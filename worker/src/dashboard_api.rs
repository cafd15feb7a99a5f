//! `GET /api/devices`: the device ids a dashboard token can watch, for the dashboard's device picker.

use serde::Deserialize;
use serde_json::json;
use telemetry_protocol::{TokenKind, check_token_format};
use worker::{Env, Method, Request, Response, console_log};

use crate::access::{Access, DashboardRecord, TokenHash, authorize_dashboard_token};
use crate::auth_guard::guard_keys;
use crate::error::HubError;
use crate::gateway::{check_guard, client_address, record_failure};
use crate::handshake::{HandshakeHeaders, device_credential};

/// Most device ids one answer lists for a `*` scope.
const LIST_LIMIT: u32 = 1000;

/// Answers `GET /api/devices` with `{"devices":[..],"access":..}` for the presented dashboard token.
pub async fn handle(req: Request, env: &Env) -> Result<Response, HubError> {
    if req.method() != Method::Get {
        return Err(HubError::MethodNotAllowed { allow: "GET" });
    }
    let authorization = req.headers().get("Authorization").ok().flatten();
    let handshake = HandshakeHeaders {
        authorization: authorization.as_deref(),
        ..HandshakeHeaders::default()
    };
    let token = device_credential(&handshake)?.token;
    let client = client_address(&req);
    let keys = guard_keys(&client, "api");
    check_guard(env, &keys).await?;
    let presented = TokenHash::of(token);
    let record = if check_token_format(token) == Ok(TokenKind::Dashboard) {
        lookup(env, &presented).await?
    } else {
        None
    };
    let grant = match authorize_dashboard_token(&presented, record.as_ref()) {
        Ok(grant) => grant,
        Err(denial) => {
            record_failure(env, &keys).await;
            console_log!(
                "api auth refused: reason={} client={client}",
                denial.as_str()
            );
            return Err(HubError::Forbidden);
        }
    };
    let devices = match record.as_ref().map(|r| r.devices.trim()) {
        Some("*") => all_device_ids(env).await?,
        Some(list) => list.split(',').map(|id| id.trim().to_owned()).collect(),
        None => Vec::new(),
    };
    let access = match grant.access {
        Access::Read => "read",
        Access::Control => "control",
    };
    let response = Response::from_json(&json!({"devices": devices, "access": access}))
        .map_err(|_| HubError::Internal)?;
    let headers = worker::Headers::new();
    let _ = headers.set("Content-Type", "application/json");
    let _ = headers.set("Cache-Control", "no-store");
    Ok(response.with_headers(headers))
}

async fn lookup(env: &Env, presented: &TokenHash) -> Result<Option<DashboardRecord>, HubError> {
    let sql = "SELECT id, token_sha256, devices, access, revoked_at FROM dashboard_tokens \
               WHERE token_sha256 = ?1";
    crate::d1::first(env, sql, &[presented.to_hex().into()])
        .await
        .map_err(|e| {
            console_log!("api lookup failed: {e}");
            HubError::Internal
        })
}

async fn all_device_ids(env: &Env) -> Result<Vec<String>, HubError> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let sql = format!("SELECT id FROM devices ORDER BY id LIMIT {LIST_LIMIT}");
    let rows: Vec<Id> = crate::d1::all(env, &sql, &[]).await.map_err(|e| {
        console_log!("api device list failed: {e}");
        HubError::Internal
    })?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}
