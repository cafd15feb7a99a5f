//! `GET /api/devices/{id}/history` and `…/history.csv`: a device's history for a dashboard token that may watch
//! it, with the same failures as the dashboard socket (401, one 403 for every refusal, 429 past the failure
//! limits). The query is checked here; the device's object reads its storage and answers.

use worker::{Context, Date, Env, Request, Response};

use crate::config::TestFaults;
use crate::credentials::decide_dashboard;
use crate::dashboard_auth::{DashboardGate, authorize_dashboard_bearer};
use crate::error::HubError;
use crate::handoff::HistoryRequest;
use crate::handshake::reject_credentials_in_url;
use crate::history::parse_history_query;
use crate::hub_client;
use crate::response::internal;
use crate::route::HistoryRoute;

/// Answers a history request the router matched (path and method checked): the query, then the token.
pub async fn handle(
    req: Request,
    env: &Env,
    ctx: &Context,
    faults: TestFaults,
    route: HistoryRoute,
) -> Result<Response, HubError> {
    let url = req
        .url()
        .map_err(|_| HubError::BadRequest("malformed URL"))?;
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    reject_credentials_in_url(pairs.iter().map(|(k, _)| k.as_str()))?;
    let query = parse_history_query(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        Date::now().as_millis(),
        route.csv,
    )?;
    let device_id = route.device_id;
    // The dashboard socket's target: failures here and there count together.
    let target = format!("dashboard:{device_id}");
    let gate = DashboardGate {
        target: &target,
        endpoint: "history",
        device_id: Some(device_id.as_str()),
    };
    let device = &device_id;
    authorize_dashboard_bearer(&req, env, ctx, faults, gate, |presented| async move {
        let lookup = crate::d1::dashboard_lookup(env, &presented.to_hex(), device)
            .await
            .map_err(internal)?;
        let record = lookup.as_ref().map(|l| &l.record);
        let exists = lookup.as_ref().is_some_and(|l| l.device_exists);
        Ok(decide_dashboard(&presented, record, exists, device, |_| {
            false
        }))
    })
    .await?;
    let request = HistoryRequest { device_id, query };
    let response = hub_client::history(env, &request).await.map_err(internal)?;
    if response.status_code() != 200 {
        return Err(internal(format!(
            "device object answered {} to /history",
            response.status_code()
        )));
    }
    Ok(response)
}
