//! The admin API client: one blocking HTTPS request per operation, authenticated with the admin token.
//!
//! The URLs come from [`HubUrl`], the bodies from [`telemetry_protocol::admin`] with the checks of
//! [`crate::admin_wire`], the meaning of a refusal from [`crate::api_error`]; this file only sends and reads.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use telemetry_protocol::DeviceId;
pub use telemetry_protocol::admin::RevokedDashboardToken;
use telemetry_protocol::admin::{CreateDeviceRequest, CreatedDashboardToken, CreatedDevice};
use telemetry_protocol::token::TokenKind;
use ureq::Agent;
use ureq::http::header::AUTHORIZATION;
use ureq::http::{HeaderValue, Response};

pub use crate::admin_wire::RotatedDevice;

use crate::admin_token::{AdminToken, TokenOrigin};
use crate::admin_wire::{
    DashboardTokenList, DevicePage, created_dashboard_token, created_device, dashboard_token_body,
    next_page, rotate_body, rotated_to,
};
use crate::api_error::{AdminApiError, Subject, refusal};
use crate::credential::{new_token, parse_token_id, token_sha256_hex};
use crate::hub::{CreatedDevices, Hub};
use crate::hub_url::{ApiPath, DeviceAction, HubUrl};
use crate::scope::{Access, DashboardScope};
use crate::sql::check_device_batch;
use crate::{HubctlError, ProvisionedDashboardToken, ProvisionedDevice};

/// Time to connect, TLS included.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for a whole request; revoking a `*` token visits every device's Durable Object.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest answer read (a page holds at most 100 devices).
const MAX_ANSWER_BYTES: u64 = 1024 * 1024;
/// `User-Agent` of every request.
const USER_AGENT: &str = concat!("hubctl/", env!("CARGO_PKG_VERSION"));

/// A client of one hub's admin API. Its `Debug` shows the hub, never the token.
#[derive(Clone)]
pub struct AdminClient {
    agent: Agent,
    hub: HubUrl,
    token: AdminToken,
}

/// A request: `GET`, or `POST` with an optional JSON body.
enum Call {
    Get,
    Post(Option<String>),
}

impl Call {
    /// `POST` with `body` as JSON.
    fn post(body: &impl Serialize) -> Self {
        // Serialising these plain structs cannot fail; an empty body would be refused by the hub anyway.
        Self::Post(Some(serde_json::to_string(body).unwrap_or_default()))
    }
}

impl AdminClient {
    /// A client of the hub at `base_url` (see [`HubUrl::parse`]) with `admin_token`, which is checked offline
    /// here; nothing is sent yet.
    pub fn new(base_url: &str, admin_token: &str) -> Result<Self, HubctlError> {
        let hub = HubUrl::parse(base_url)?;
        let token = AdminToken::parse(admin_token, &TokenOrigin::Caller)?;
        Ok(Self::with_token(hub, token))
    }

    /// A client of `hub` with an already checked token.
    pub fn with_token(hub: HubUrl, token: AdminToken) -> Self {
        Self {
            agent: agent_for(&hub),
            hub,
            token,
        }
    }

    /// The hub this client talks to.
    pub fn hub(&self) -> &HubUrl {
        &self.hub
    }

    /// Creates device `id` with a new token (a conflict error if it exists).
    pub fn create_device(&self, id: &DeviceId) -> Result<ProvisionedDevice, HubctlError> {
        let body = CreateDeviceRequest {
            device_id: id.clone(),
        };
        let path = ApiPath::Devices { after: None };
        let subject = Subject::Device(id.clone());
        let created: CreatedDevice = self.call(&path, Call::post(&body), &subject)?;
        created_device(created, id)
    }

    /// Like [`Hub::rotate_device`] with a token made by the caller (e.g. one already installed on the
    /// device); only its hash leaves this process.
    pub fn rotate_device_to(
        &self,
        id: &DeviceId,
        grace: Duration,
        token: String,
    ) -> Result<RotatedDevice, HubctlError> {
        let hash = token_sha256_hex(&token);
        let body = rotate_body(grace, &hash)?;
        let path = ApiPath::DeviceAction(id, DeviceAction::Rotate);
        let subject = Subject::Device(id.clone());
        let answer = self.call(&path, Call::post(&body), &subject)?;
        rotated_to(answer, token, &hash)
    }

    /// Sends one request and decodes a success as `T`; anything else becomes an error.
    fn call<T: DeserializeOwned>(
        &self,
        path: &ApiPath<'_>,
        call: Call,
        subject: &Subject,
    ) -> Result<T, HubctlError> {
        let url = self.hub.url(path);
        let transport = |source| AdminApiError::Transport {
            url: url.clone(),
            source: Box::new(source),
        };
        let mut response = self.send(&url, call).map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = header(&response, "retry-after");
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(refusal(status, retry_after.as_deref(), &body, subject).into());
        }
        // serde's message is left out: it could quote a value of the answer, such as a token.
        serde_json::from_str(&body).map_err(|_| {
            let detail = "the body is not the JSON the admin API answers with".into();
            AdminApiError::Unexpected { status, detail }.into()
        })
    }

    /// The request on the wire; the `Authorization` value is marked sensitive.
    fn send(&self, url: &str, call: Call) -> Result<Response<ureq::Body>, ureq::Error> {
        let mut bearer =
            HeaderValue::try_from(self.token.bearer()).map_err(ureq::http::Error::from)?;
        bearer.set_sensitive(true);
        match call {
            Call::Get => self.agent.get(url).header(AUTHORIZATION, bearer).call(),
            Call::Post(None) => self
                .agent
                .post(url)
                .header(AUTHORIZATION, bearer)
                .send_empty(),
            Call::Post(Some(body)) => self
                .agent
                .post(url)
                .header(AUTHORIZATION, bearer)
                .content_type("application/json")
                .send(body),
        }
    }
}

impl Hub for AdminClient {
    /// One request per id, in order. If one fails after others succeeded, those are handed back with the
    /// failure, so their tokens are still shown.
    fn create_devices(&self, ids: &[DeviceId]) -> Result<CreatedDevices, HubctlError> {
        check_device_batch(ids)?;
        let mut devices = Vec::new();
        for (index, id) in ids.iter().enumerate() {
            match self.create_device(id) {
                Ok(device) => devices.push(device),
                Err(error) if devices.is_empty() => return Err(error),
                Err(error) => {
                    let stopped = Some(HubctlError::DevicesPartlyCreated {
                        created: ids[..index].to_vec(),
                        failed: id.clone(),
                        skipped: ids[index + 1..].to_vec(),
                        source: Box::new(error),
                    });
                    return Ok(CreatedDevices { devices, stopped });
                }
            }
        }
        Ok(CreatedDevices {
            devices,
            stopped: None,
        })
    }

    fn create_dashboard_token(
        &self,
        scope: &DashboardScope,
        access: Access,
        label: Option<&str>,
    ) -> Result<ProvisionedDashboardToken, HubctlError> {
        let body = dashboard_token_body(scope, access, label)?;
        let call = Call::post(&body);
        let created: CreatedDashboardToken =
            self.call(&ApiPath::DashboardTokens, call, &Subject::Api)?;
        created_dashboard_token(created)
    }

    /// Follows `next_after` through every page.
    fn list_devices(&self) -> Result<Vec<Value>, HubctlError> {
        let mut devices = Vec::new();
        let mut after: Option<DeviceId> = None;
        loop {
            let path = ApiPath::Devices {
                after: after.as_ref(),
            };
            let page: DevicePage = self.call(&path, Call::Get, &Subject::Api)?;
            devices.extend(page.devices);
            match page.next_after {
                None => return Ok(devices),
                Some(next) => after = Some(next_page(after.as_ref(), &next)?),
            }
        }
    }

    fn show_device(&self, id: &DeviceId) -> Result<Value, HubctlError> {
        let subject = Subject::Device(id.clone());
        self.call(&ApiPath::Device(id), Call::Get, &subject)
    }

    /// The token is made here from the OS random number generator and only its SHA-256 is sent, so the request
    /// can be repeated safely: a second rotation to the same hash changes nothing at the hub.
    fn rotate_device(&self, id: &DeviceId, grace: Duration) -> Result<RotatedDevice, HubctlError> {
        self.rotate_device_to(id, grace, new_token(TokenKind::Device)?)
    }

    fn set_disabled(&self, id: &DeviceId, disabled: bool) -> Result<Value, HubctlError> {
        let action = if disabled {
            DeviceAction::Disable
        } else {
            DeviceAction::Enable
        };
        let path = ApiPath::DeviceAction(id, action);
        self.call(&path, Call::Post(None), &Subject::Device(id.clone()))
    }

    fn list_dashboard_tokens(&self) -> Result<Vec<Value>, HubctlError> {
        let list: DashboardTokenList =
            self.call(&ApiPath::DashboardTokens, Call::Get, &Subject::Api)?;
        Ok(list.dashboard_tokens)
    }

    fn revoke_dashboard_token(&self, token_id: &str) -> Result<RevokedDashboardToken, HubctlError> {
        let token_id = parse_token_id(token_id)?;
        let subject = Subject::DashboardToken(token_id.to_string());
        let path = ApiPath::RevokeDashboardToken(&token_id);
        self.call(&path, Call::Post(None), &subject)
    }
}

impl fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hub = &self.hub;
        write!(f, "AdminClient {{ hub: {hub}, admin_token: <redacted> }}")
    }
}

/// An agent that never follows redirects, reports every status as an answer, and bypasses proxies for
/// loopback hubs (`wrangler dev`); elsewhere it refuses anything but HTTPS.
fn agent_for(hub: &HubUrl) -> Agent {
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .https_only(!hub.is_loopback())
        .max_redirects(0)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(Some(REQUEST_TIMEOUT))
        .user_agent(USER_AGENT)
        .accept("application/json");
    let config = if hub.is_loopback() {
        config.proxy(None)
    } else {
        config
    };
    config.build().into()
}

/// A header's value as text.
fn header(response: &Response<ureq::Body>, name: &str) -> Option<String> {
    let value = response.headers().get(name)?;
    value.to_str().ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use telemetry_protocol::TokenKind;
    use telemetry_protocol::generate_token;

    #[test]
    fn new_checks_the_url_and_the_token_offline() {
        let token = generate_token(TokenKind::Admin, |b| b.fill(3));
        let client = AdminClient::new("http://127.0.0.1:8787", &token).expect("valid");
        assert_eq!(client.hub().to_string(), "http://127.0.0.1:8787");
        assert!(!format!("{client:?}").contains(&token[5..]));
        assert!(matches!(
            AdminClient::new("http://hub.example.com", &token),
            Err(HubctlError::InvalidHubUrl(_))
        ));
        let device = generate_token(TokenKind::Device, |b| b.fill(3));
        let error = AdminClient::new("https://hub.example.com", &device).expect_err("wrong kind");
        assert!(matches!(error, HubctlError::AdminTokenFormat { .. }));
        assert!(!error.to_string().contains(&device[5..]));
    }

    #[test]
    fn invalid_input_fails_before_any_request() {
        let token = generate_token(TokenKind::Admin, |b| b.fill(3));
        // Port 9 (discard) is never reached: every call below fails on its input first.
        let client = AdminClient::new("http://127.0.0.1:9", &token).expect("valid");
        let id = DeviceId::parse("a").expect("valid");
        let too_long = Duration::from_secs(31 * 24 * 3600);
        assert!(matches!(
            client.rotate_device(&id, too_long),
            Err(HubctlError::InvalidGrace(_))
        ));
        assert!(matches!(
            client.revoke_dashboard_token("dt_nothex"),
            Err(HubctlError::InvalidTokenId)
        ));
        let empty = DashboardScope::Devices(Vec::new());
        assert!(matches!(
            client.create_dashboard_token(&empty, Access::Read, None),
            Err(HubctlError::InvalidScope(_))
        ));
    }
}
