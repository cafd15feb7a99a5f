//! `GET /api/devices/{id}/history` and `…/history.csv`: a device's history for a dashboard token that may watch
//! it, with the same failures as the dashboard socket (401, one 403 for every refusal, 429 past the failure
//! limits). The query is checked here; the device's object reads its storage and answers.

use telemetry_protocol::{TokenKind, check_token_format};
use worker::{Context, Date, Env, Method, Request, Response, console_log};

use crate::access::TokenHash;
use crate::config::TestFaults;
use crate::credentials::decide_dashboard;
use crate::device_hub::HistoryRequest;
use crate::error::HubError;
use crate::guard_client::Guard;
use crate::handshake::{HandshakeHeaders, device_credential, reject_credentials_in_url};
use crate::history::parse_history_query;
use crate::http::{client_address, header, internal};
use crate::hub_client;
use crate::route::history_route;

/// Answers a history request.
pub async fn handle(
    req: Request,
    env: &Env,
    ctx: &Context,
    faults: TestFaults,
) -> Result<Response, HubError> {
    let url = req
        .url()
        .map_err(|_| HubError::BadRequest("malformed URL"))?;
    let route = history_route(url.path())?;
    if req.method() != Method::Get {
        return Err(HubError::MethodNotAllowed { allow: "GET" });
    }
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    reject_credentials_in_url(pairs.iter().map(|(k, _)| k.as_str()))?;
    let query = parse_history_query(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        Date::now().as_millis(),
        route.csv,
    )?;
    let authorization = header(&req, "Authorization");
    let headers = HandshakeHeaders {
        authorization: authorization.as_deref(),
        ..HandshakeHeaders::default()
    };
    let token = device_credential(&headers)?.token;
    let client = client_address(&req);
    // The dashboard socket's target: failures here and there count together.
    let guard = Guard::new(&client, &format!("dashboard:{}", route.device_id))
        .unavailable(faults.guard_unavailable);
    guard.refuse_if_known_blocked()?;
    let refused = |reason: &str| {
        console_log!(
            "history auth refused: device_id={} reason={reason} client={client}",
            route.device_id
        );
        HubError::Forbidden
    };
    if check_token_format(token) != Ok(TokenKind::Dashboard) {
        guard.fail(env).await?;
        return Err(refused("wrong token"));
    }
    let ticket = guard.begin(env).await?;
    let presented = TokenHash::of(token);
    let lookup = crate::d1::dashboard_lookup(env, &presented.to_hex(), &route.device_id).await;
    let decision = lookup.as_ref().ok().map(|lookup| {
        let record = lookup.as_ref().map(|l| &l.record);
        let exists = lookup.as_ref().is_some_and(|l| l.device_exists);
        decide_dashboard(&presented, record, exists, &route.device_id, |_| false)
    });
    let failed = matches!(decision, Some(Err(_)));
    let env_for_guard = env.clone();
    ctx.wait_until(async move { guard.finish(&env_for_guard, ticket, failed).await });
    match decision {
        Some(Ok(_)) => {}
        Some(Err(denial)) => return Err(refused(denial.as_str())),
        None => {
            return Err(internal(
                lookup.err().map(|e| e.to_string()).unwrap_or_default(),
            ));
        }
    }
    let request = HistoryRequest {
        device_id: route.device_id.to_string(),
        query,
    };
    let response = hub_client::history(env, &request).await.map_err(internal)?;
    if response.status_code() != 200 {
        return Err(internal(format!(
            "device object answered {} to /history",
            response.status_code()
        )));
    }
    Ok(response)
}
