//! The Worker's fetch handler: checks a handshake against D1 and hands it to the device's Durable Object.

use telemetry_protocol::DeviceId;
use telemetry_protocol::token::{TokenKind, check_token_format};
use worker::{Date, Env, Headers, Method, Request, RequestInit, Response, Result, console_log};

use crate::access::{
    Access, DashboardRecord, Denial, DeviceRecord, TokenHash, authorize_dashboard, authorize_device,
};
use crate::auth_guard::{GuardVerdict, guard_keys};
use crate::device_hub::{
    HEADER_ACCESS, HEADER_DEVICE_ID, HEADER_KEY_ID, HEADER_ROLE, HEADER_SUBPROTOCOL,
    HEADER_TOKEN_ID,
};
use crate::error::HubError;
use crate::handshake::{
    Credential, HandshakeHeaders, dashboard_credential, device_credential,
    reject_credentials_in_url, require_websocket_upgrade,
};
use crate::route::{Endpoint, Route, route};

/// Binding name of the device Durable Object namespace.
const HUB_BINDING: &str = "DEVICE_HUB";
/// Binding name of the failed-authentication counters.
const GUARD_BINDING: &str = "AUTH_GUARD";

/// What the Durable Object is told about an authenticated connection.
struct Admission {
    route: Route,
    grant: Option<(String, Access)>,
    key_id: String,
    select_subprotocol: bool,
}

/// Handles one request; every refusal becomes a [`HubError`] response here, in one place.
pub async fn handle(req: Request, env: &Env) -> Result<Response> {
    let path = req.path();
    if path == "/api/devices" {
        return match crate::dashboard_api::handle(req, env).await {
            Ok(response) => Ok(response),
            Err(error) => error_response(&error),
        };
    }
    if path == "/admin" || path.starts_with("/admin/") {
        return match crate::admin_api::handle(req, env).await {
            Ok(response) => Ok(response),
            Err(error) => error_response(&error),
        };
    }
    match admit(&req, env).await {
        Ok(admission) => forward(admission, env).await,
        Err(error) => error_response(&error),
    }
}

/// The client's address as Cloudflare reports it.
pub fn client_address(req: &Request) -> String {
    header(req.headers(), "CF-Connecting-IP").unwrap_or_else(|| "unknown".into())
}

/// Refuses with 429 when the client address or the target has too many recent failures; touches no D1.
pub async fn check_guard(env: &Env, keys: &[String; 2]) -> std::result::Result<(), HubError> {
    for key in keys {
        if let GuardVerdict::Blocked { retry_after_secs } = guard_call(env, key, "check").await? {
            return Err(HubError::TooManyRequests { retry_after_secs });
        }
    }
    Ok(())
}

/// Counts a failed authentication under both keys.
pub async fn record_failure(env: &Env, keys: &[String; 2]) {
    for key in keys {
        if let Err(error) = guard_call(env, key, "fail").await {
            console_log!("auth guard unavailable: {error}");
        }
    }
}

async fn guard_call(
    env: &Env,
    key: &str,
    action: &str,
) -> std::result::Result<GuardVerdict, HubError> {
    let call = async {
        let stub = env
            .durable_object(GUARD_BINDING)?
            .id_from_name(key)?
            .get_stub()?;
        let mut response = stub
            .fetch_with_str(&format!("https://auth-guard/{action}"))
            .await?;
        response.json::<GuardVerdict>().await
    };
    call.await.map_err(|error| {
        console_log!("auth guard call failed: {error}");
        HubError::Internal
    })
}

async fn admit(req: &Request, env: &Env) -> std::result::Result<Admission, HubError> {
    let url = req
        .url()
        .map_err(|_| HubError::BadRequest("malformed URL"))?;
    let route = route(url.path())?;
    if req.method() != Method::Get {
        return Err(HubError::MethodNotAllowed { allow: "GET" });
    }
    let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    reject_credentials_in_url(keys.iter().map(String::as_str))?;
    let headers = req.headers();
    let (upgrade, authorization, protocols) = (
        header(headers, "Upgrade"),
        header(headers, "Authorization"),
        header(headers, "Sec-WebSocket-Protocol"),
    );
    let handshake = HandshakeHeaders {
        upgrade: upgrade.as_deref(),
        authorization: authorization.as_deref(),
        protocols: protocols.as_deref(),
    };
    require_websocket_upgrade(&handshake)?;
    let client = client_address(req);
    let credential = match route.endpoint {
        Endpoint::Device => device_credential(&handshake)?,
        Endpoint::Dashboard => dashboard_credential(&handshake)?,
    };
    let guard_keys = guard_keys(&client, route.device_id.as_str());
    check_guard(env, &guard_keys).await?;
    let outcome = match route.endpoint {
        Endpoint::Device => check_device(env, &route.device_id, &credential)
            .await
            .map(|()| None),
        Endpoint::Dashboard => check_dashboard(env, &route.device_id, &credential)
            .await
            .map(Some),
    };
    match outcome {
        Ok(grant) => Ok(Admission {
            select_subprotocol: credential.select_subprotocol,
            key_id: TokenHash::of(credential.token).key_id(),
            route,
            grant,
        }),
        Err(Refusal::Denied(denial)) => {
            record_failure(env, &guard_keys).await;
            console_log!(
                "auth refused: endpoint={:?} device_id={} reason={} client={}",
                route.endpoint,
                route.device_id,
                denial.as_str(),
                client
            );
            Err(HubError::Forbidden)
        }
        Err(Refusal::Failed(detail)) => {
            console_log!(
                "auth lookup failed: device_id={} error={}",
                route.device_id,
                detail
            );
            Err(HubError::Internal)
        }
    }
}

/// A handshake refused by the access rules, or one the hub could not decide.
enum Refusal {
    Denied(Denial),
    Failed(String),
}

impl From<Denial> for Refusal {
    fn from(denial: Denial) -> Self {
        Self::Denied(denial)
    }
}

async fn check_device(
    env: &Env,
    device_id: &DeviceId,
    credential: &Credential<'_>,
) -> std::result::Result<(), Refusal> {
    // A token of the wrong shape or kind is refused before any lookup, exactly like a wrong one.
    if check_token_format(credential.token) != Ok(TokenKind::Device) {
        return Err(Denial::WrongToken.into());
    }
    let presented = TokenHash::of(credential.token);
    let record: Option<DeviceRecord> = query_first(
        env,
        "SELECT token_sha256, disabled_at, previous_token_sha256, previous_valid_until \
         FROM devices WHERE id = ?1",
        device_id.as_str(),
    )
    .await?;
    authorize_device(&presented, record.as_ref(), Date::now().as_millis())?;
    Ok(())
}

async fn check_dashboard(
    env: &Env,
    device_id: &DeviceId,
    credential: &Credential<'_>,
) -> std::result::Result<(String, Access), Refusal> {
    if check_token_format(credential.token) != Ok(TokenKind::Dashboard) {
        return Err(Denial::WrongToken.into());
    }
    let presented = TokenHash::of(credential.token);
    let record: Option<DashboardRecord> = query_first(
        env,
        "SELECT id, token_sha256, devices, access, revoked_at FROM dashboard_tokens WHERE token_sha256 = ?1",
        &presented.to_hex(),
    )
    .await?;
    let grant = authorize_dashboard(&presented, record.as_ref(), device_id)?;
    Ok((grant.token_id, grant.access))
}

async fn query_first<T: serde::de::DeserializeOwned>(
    env: &Env,
    sql: &str,
    param: &str,
) -> std::result::Result<Option<T>, Refusal> {
    crate::d1::first(env, sql, &[param.into()])
        .await
        .map_err(|e| Refusal::Failed(e.to_string()))
}

/// Sends the admitted handshake to the device's Durable Object, without the client's credentials.
async fn forward(admission: Admission, env: &Env) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Upgrade", "websocket")?;
    headers.set(HEADER_DEVICE_ID, admission.route.device_id.as_str())?;
    let role = match admission.route.endpoint {
        Endpoint::Device => "device",
        Endpoint::Dashboard => "dashboard",
    };
    headers.set(HEADER_ROLE, role)?;
    headers.set(HEADER_KEY_ID, &admission.key_id)?;
    if let Some((token_id, access)) = &admission.grant {
        headers.set(HEADER_TOKEN_ID, token_id)?;
        let access = match access {
            Access::Read => "read",
            Access::Control => "control",
        };
        headers.set(HEADER_ACCESS, access)?;
    }
    if admission.select_subprotocol {
        headers.set(HEADER_SUBPROTOCOL, "1")?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let internal = Request::new_with_init("https://device-hub/connect", &init)?;
    let namespace = env.durable_object(HUB_BINDING)?;
    let stub = namespace
        .id_from_name(admission.route.device_id.as_str())?
        .get_stub()?;
    stub.fetch_with_request(internal).await
}

/// The Durable Object stub of `device_id`.
pub fn device_hub(env: &Env, device_id: &DeviceId) -> Result<worker::Stub> {
    env.durable_object(HUB_BINDING)?
        .id_from_name(device_id.as_str())?
        .get_stub()
}

fn header(headers: &Headers, name: &str) -> Option<String> {
    headers.get(name).ok().flatten()
}

/// Renders a refusal: status, JSON body and the headers the status requires.
pub fn error_response(error: &HubError) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    headers.set("Cache-Control", "no-store")?;
    for (name, value) in error.headers() {
        headers.set(name, &value)?;
    }
    let body = serde_json::to_string(&error.body())
        .map_err(|e| worker::Error::RustError(e.to_string()))?;
    Ok(Response::ok(body)?
        .with_status(error.status())
        .with_headers(headers))
}
