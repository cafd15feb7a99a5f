//! Calls to device objects from the gateway, the admin API, the sync sweeper and other device objects: the stub
//! lookup and one function per internal request, each with its typed body.

use futures_util::future::join_all;
use serde::Serialize;
use serde::de::DeserializeOwned;
use telemetry_protocol::DeviceId;
use wasm_bindgen::JsValue;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result, Stub};

use crate::access::DeviceRecord;
use crate::fanout::{FANOUT_WIDTH, FanoutReport, RevokeFanout, plan};
use crate::handoff::{Handoff, HistoryRequest};

/// Binding name of the device Durable Object namespace.
const HUB_BINDING: &str = "DEVICE_HUB";

/// `POST /credentials` answer: the version the object holds now and the sessions it closed.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct CredentialReport {
    /// The newest credential version the object holds after the push.
    pub version: u64,
    /// Device sessions closed with 4001 because their key is no longer valid.
    pub closed: u64,
}

/// `GET /status`: what the admin API lists about a device besides its D1 row.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct DeviceStatus {
    /// Whether the device is connected and heard from within the silence limit.
    pub online: bool,
    /// When the hub last heard from it.
    pub last_seen: Option<String>,
    /// Highest seq of the current epoch.
    pub last_seq: Option<u64>,
    /// What the object's storage cost since it last started (rows as the SQL cursors report them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<telemetry_protocol::StorageMeter>,
    /// What the object counted, totals that survive its restarts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counters: Option<telemetry_protocol::DeviceCounters>,
}

/// The Durable Object stub of `device_id`.
pub fn stub(env: &Env, device_id: &str) -> Result<Stub> {
    env.durable_object(HUB_BINDING)?
        .id_from_name(device_id)?
        .get_stub()
}

/// Hands a handshake to the device's object; its answer is a 101 or a `ConnectVerdict` body.
pub async fn connect(env: &Env, handoff: &Handoff) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Upgrade", "websocket")?;
    let (name, value) = handoff.to_header();
    headers.set(name, &value)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let request = Request::new_with_init("https://device-hub/connect", &init)?;
    stub(env, handoff.device_id.as_str())?
        .fetch_with_request(request)
        .await
}

/// Asks the device's object for its history; its answer (JSON or CSV) goes to the client as it is.
pub async fn history(env: &Env, request: &HistoryRequest) -> Result<Response> {
    let text =
        serde_json::to_string(request).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&text)));
    let request_to_object = Request::new_with_init("https://device-hub/history", &init)?;
    stub(env, request.device_id.as_str())?
        .fetch_with_request(request_to_object)
        .await
}

/// What the device's object knows about it.
pub async fn status(env: &Env, device_id: &DeviceId) -> Result<DeviceStatus> {
    stub(env, device_id.as_str())?
        .fetch_with_str("https://device-hub/status")
        .await?
        .json()
        .await
}

/// Tells the device's object about a credential change (it keeps the newest version and closes what it no
/// longer allows).
pub async fn push_credentials(
    env: &Env,
    device_id: &DeviceId,
    record: &DeviceRecord,
) -> Result<CredentialReport> {
    post(env, device_id.as_str(), "credentials", record).await
}

/// Revokes `token_id` in the objects of `device_ids`, through the fan-out tree; never fails as a whole: what
/// could not be reached is in the report's `unreached`.
pub async fn fan_out_revocation(
    env: &Env,
    token_id: &str,
    device_ids: Vec<String>,
) -> FanoutReport {
    let groups = plan(device_ids, FANOUT_WIDTH);
    let calls = groups.into_iter().map(|(head, relay)| async move {
        let order = RevokeFanout {
            token_id: token_id.to_owned(),
            relay,
        };
        match post::<_, FanoutReport>(env, &head, "fanout", &order).await {
            Ok(report) => report,
            Err(_) => FanoutReport {
                unreached: std::iter::once(head).chain(order.relay).collect(),
                ..FanoutReport::default()
            },
        }
    });
    let mut total = FanoutReport::default();
    for report in join_all(calls).await {
        total.absorb(report);
    }
    total
}

async fn post<B: Serialize, T: DeserializeOwned>(
    env: &Env,
    device_id: &str,
    path: &str,
    body: &B,
) -> Result<T> {
    let text = serde_json::to_string(body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&text)));
    let request = Request::new_with_init(&format!("https://device-hub/{path}"), &init)?;
    let mut response = stub(env, device_id)?.fetch_with_request(request).await?;
    if response.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "device object answered {} to /{path}",
            response.status_code()
        )));
    }
    response.json().await
}
