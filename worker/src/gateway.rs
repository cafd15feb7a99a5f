//! The Worker's fetch handler: sends `/api/devices`, the history under `/api/devices/{id}/` and `/admin/…` to
//! their handlers, and hands each WebSocket handshake to the device's Durable Object.
//!
//! A handshake costs one subrequest when the object's copy of the credential accepts it (the usual reconnect).
//! Only when the copy cannot decide does the client's address meet the failed-authentication guard, before the
//! object reads D1; so an address that keeps failing is refused with 429 before any D1 read, and a credential
//! that verifies is never refused because someone else failed.

use telemetry_protocol::history::{STORED_ACK_HEADER, asks_for_stored_acks};
use telemetry_protocol::token::{TokenKind, check_token_format};
use worker::{Context, Env, Method, Request, Response, Result, console_log};

use crate::access::TokenHash;
use crate::config::TestFaults;
use crate::error::HubError;
use crate::guard_client::Guard;
use crate::handoff::{ConnectVerdict, Handoff, Role};
use crate::handshake::{
    HandshakeHeaders, dashboard_credential, device_credential, reject_credentials_in_url,
    require_websocket_upgrade,
};
use crate::http::{client_address, error_response, header, test_faults};
use crate::hub_client;
use crate::route::{Endpoint, route};

/// Handles one request; every refusal becomes a [`HubError`] response here, in one place.
pub async fn handle(req: Request, env: &Env, ctx: &Context) -> Result<Response> {
    let path = req.path();
    let faults = test_faults(&req, env);
    let outcome = if path == "/api/devices" {
        crate::dashboard_api::handle(req, env, ctx, faults).await
    } else if path.starts_with("/api/devices/") {
        crate::history_api::handle(req, env, ctx, faults).await
    } else if path == "/admin" || path.starts_with("/admin/") {
        crate::admin_api::handle(req, env, ctx, faults).await
    } else {
        handshake(req, env, ctx, faults).await
    };
    match outcome {
        Ok(response) => Ok(response),
        Err(error) => error_response(&error),
    }
}

/// A handshake checked in the contract's order (404, 400, 405, 400, 426, 401, 400, then 403 or 429).
async fn handshake(
    req: Request,
    env: &Env,
    ctx: &Context,
    faults: TestFaults,
) -> std::result::Result<Response, HubError> {
    let url = req
        .url()
        .map_err(|_| HubError::BadRequest("malformed URL"))?;
    let route = route(url.path())?;
    if req.method() != Method::Get {
        return Err(HubError::MethodNotAllowed { allow: "GET" });
    }
    let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    reject_credentials_in_url(keys.iter().map(String::as_str))?;
    let (upgrade, authorization, protocols) = (
        header(&req, "Upgrade"),
        header(&req, "Authorization"),
        header(&req, "Sec-WebSocket-Protocol"),
    );
    let headers = HandshakeHeaders {
        upgrade: upgrade.as_deref(),
        authorization: authorization.as_deref(),
        protocols: protocols.as_deref(),
    };
    require_websocket_upgrade(&headers)?;
    let (credential, role, kind, endpoint) = match route.endpoint {
        Endpoint::Device => (
            device_credential(&headers)?,
            Role::Device,
            TokenKind::Device,
            "device",
        ),
        Endpoint::Dashboard => (
            dashboard_credential(&headers)?,
            Role::Dashboard,
            TokenKind::Dashboard,
            "dashboard",
        ),
    };
    let client = client_address(&req);
    let guard = Guard::new(&client, &format!("{endpoint}:{}", route.device_id))
        .unavailable(faults.guard_unavailable);
    guard.refuse_if_known_blocked()?;
    let refused = |reason: &str| {
        console_log!(
            "auth refused: endpoint={endpoint} device_id={} reason={reason} client={client}",
            route.device_id
        );
        HubError::Forbidden
    };
    // A token of the wrong shape or kind is refused before any lookup, exactly like a wrong one.
    if check_token_format(credential.token) != Ok(kind) {
        guard.fail(env).await?;
        return Err(refused("wrong token"));
    }
    let mut handoff = Handoff {
        role,
        device_id: route.device_id.to_string(),
        token_sha256: TokenHash::of(credential.token).to_hex(),
        select_subprotocol: credential.select_subprotocol,
        lookup: false,
        stored_acks: role == Role::Device
            && asks_for_stored_acks(header(&req, STORED_ACK_HEADER).as_deref()),
        hold_lookup_ms: 0,
    };
    let first = hub_client::connect(env, &handoff)
        .await
        .map_err(|e| lookup_failed(&route.device_id, e))?;
    if first.status_code() == 101 {
        return Ok(first);
    }
    verdict_of(first, &route.device_id).await?;
    // The object's copy could not accept it: only now does the address meet the guard, before D1 is read.
    let ticket = guard.begin(env).await?;
    handoff.lookup = true;
    handoff.hold_lookup_ms = faults.hold_lookup_ms;
    let outcome = match hub_client::connect(env, &handoff).await {
        Ok(second) if second.status_code() == 101 => Ok(second),
        Ok(second) => match verdict_of(second, &route.device_id).await? {
            ConnectVerdict::Denied { reason } => Err(refused(reason.as_str())),
            ConnectVerdict::NeedsLookup => Err(HubError::Internal),
        },
        Err(error) => Err(lookup_failed(&route.device_id, error)),
    };
    let failed = outcome.as_ref().err() == Some(&HubError::Forbidden);
    let env = env.clone();
    ctx.wait_until(async move { guard.finish(&env, ticket, failed).await });
    outcome
}

/// The object's answer when it did not accept; a 500 if it failed instead.
async fn verdict_of(
    mut response: Response,
    device_id: &telemetry_protocol::DeviceId,
) -> std::result::Result<ConnectVerdict, HubError> {
    if response.status_code() != 200 {
        return Err(lookup_failed(
            device_id,
            format!("device object answered {}", response.status_code()),
        ));
    }
    response
        .json::<ConnectVerdict>()
        .await
        .map_err(|e| lookup_failed(device_id, e))
}

fn lookup_failed(
    device_id: &telemetry_protocol::DeviceId,
    error: impl std::fmt::Display,
) -> HubError {
    console_log!("auth lookup failed: device_id={device_id} error={error}");
    HubError::Internal
}
