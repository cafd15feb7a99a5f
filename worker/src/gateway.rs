//! The Worker's fetch handler: checks a handshake against D1 and hands it to the device's Durable Object.

use telemetry_protocol::DeviceId;
use telemetry_protocol::token::{TokenKind, check_token_format};
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result, console_log};

use crate::access::{
    Access, DashboardRecord, Denial, DeviceRecord, TokenHash, authorize_dashboard, authorize_device,
};
use crate::device_hub::{
    HEADER_ACCESS, HEADER_DEVICE_ID, HEADER_ROLE, HEADER_SUBPROTOCOL, HEADER_TOKEN_ID,
};
use crate::error::HubError;
use crate::handshake::{
    Credential, HandshakeHeaders, dashboard_credential, device_credential,
    reject_credentials_in_url, require_websocket_upgrade,
};
use crate::route::{Endpoint, Route, route};

/// Binding name of the D1 database.
const DB_BINDING: &str = "DB";
/// Binding name of the Durable Object namespace.
const HUB_BINDING: &str = "DEVICE_HUB";

/// What the Durable Object is told about an authenticated connection.
struct Admission {
    route: Route,
    grant: Option<(String, Access)>,
    select_subprotocol: bool,
}

/// Handles one request; every refusal becomes a [`HubError`] response here, in one place.
pub async fn handle(req: Request, env: &Env) -> Result<Response> {
    match admit(&req, env).await {
        Ok(admission) => forward(admission, env).await,
        Err(error) => error_response(&error),
    }
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
    let client = header(headers, "CF-Connecting-IP").unwrap_or_else(|| "-".into());
    let credential = match route.endpoint {
        Endpoint::Device => device_credential(&handshake)?,
        Endpoint::Dashboard => dashboard_credential(&handshake)?,
    };
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
            route,
            grant,
        }),
        Err(Refusal::Denied(denial)) => {
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
        "SELECT token_sha256, disabled_at FROM devices WHERE id = ?1",
        device_id.as_str(),
    )
    .await?;
    authorize_device(&presented, record.as_ref())?;
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
    let failed = |e: worker::Error| Refusal::Failed(e.to_string());
    let db = env.d1(DB_BINDING).map_err(failed)?;
    let statement = db.prepare(sql).bind(&[param.into()]).map_err(failed)?;
    statement.first::<T>(None).await.map_err(failed)
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

fn header(headers: &Headers, name: &str) -> Option<String> {
    headers.get(name).ok().flatten()
}

/// Renders a refusal: status, JSON body and the headers the status requires.
pub fn error_response(error: &HubError) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    headers.set("Cache-Control", "no-store")?;
    for (name, value) in error.headers() {
        headers.set(name, value)?;
    }
    let body = serde_json::to_string(&error.body())
        .map_err(|e| worker::Error::RustError(e.to_string()))?;
    Ok(Response::ok(body)?
        .with_status(error.status())
        .with_headers(headers))
}
