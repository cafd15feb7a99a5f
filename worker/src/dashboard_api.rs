//! `GET /api/devices`: the device ids a dashboard token can watch, for the dashboard's device picker.

use serde::Deserialize;
use telemetry_protocol::DeviceList;
use telemetry_protocol::limits::MAX_API_DEVICE_LIST;
use worker::{Context, Env, Request, Response};

use crate::access::{DashboardRecord, TokenHash, authorize_dashboard_token};
use crate::config::TestFaults;
use crate::dashboard_auth::{DashboardGate, authorize_dashboard_bearer};
use crate::error::HubError;
use crate::response::{internal, json_response};

/// Most device ids one answer lists for a `*` scope.
const LIST_LIMIT: u32 = MAX_API_DEVICE_LIST;
/// The guard's target for this endpoint (per client address; never a global counter).
const TARGET: &str = "api";

/// Answers `GET /api/devices` (the router checked the method) with `{"devices":[..],"access":..}` for the
/// presented dashboard token.
pub async fn handle(
    req: Request,
    env: &Env,
    ctx: &Context,
    faults: TestFaults,
) -> Result<Response, HubError> {
    let gate = DashboardGate {
        target: TARGET,
        endpoint: "api",
        device_id: None,
    };
    let (record, grant) =
        authorize_dashboard_bearer(&req, env, ctx, faults, gate, |presented| async move {
            let record = lookup(env, &presented).await?;
            let grant = authorize_dashboard_token(&presented, record.as_ref());
            Ok(grant.map(|grant| (record, grant)))
        })
        .await?;
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
