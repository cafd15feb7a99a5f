//! The admin API client: one blocking HTTPS request per operation, authenticated with the admin token. The
//! bodies are the types of [`telemetry_protocol::admin`]; answers are checked (tokens well-formed, ids and
//! hashes as asked) before they are handed back, and a refusal is read by [`crate::api_error`].

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use telemetry_protocol::DeviceId;
use telemetry_protocol::admin::{
    CreateDashboardTokenRequest, CreateDeviceRequest, CreatedDashboardToken, CreatedDevice,
    RotateDeviceRequest, RotatedDevice as RotationAnswer,
};
use telemetry_protocol::token::{TokenKind, check_token_of_kind};
use ureq::Agent;
use ureq::http::header::AUTHORIZATION;
use ureq::http::{HeaderValue, Response};

use crate::admin_token::AdminToken;
use crate::api_error::{AdminApiError, Subject, refusal};
use crate::credential::{new_token, parse_token_id, token_sha256_hex};
use crate::grace::check_grace;
use crate::hub::{CreatedDevices, Hub, RevokedDashboardToken, RotatedDevice, check_device_batch};
use crate::hub_url::HubUrl;
use crate::scope::{Access, DashboardScope, Label};
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

/// One page of `GET /admin/devices`, its rows passed through as the hub wrote them (older hubs leave fields
/// out that [`telemetry_protocol::admin::DeviceSummary`] requires).
#[derive(serde::Deserialize)]
struct DevicePage {
    devices: Vec<Value>,
    next_after: Option<String>,
}

/// The answer to `GET /admin/dashboard-tokens`, its rows passed through like [`DevicePage`]'s.
#[derive(serde::Deserialize)]
struct DashboardTokenList {
    dashboard_tokens: Vec<Value>,
}

impl AdminClient {
    /// A client of the hub at `base_url` (see [`HubUrl::parse`]) with `admin_token`, which is checked offline
    /// here; nothing is sent yet.
    pub fn new(base_url: &str, admin_token: &str) -> Result<Self, HubctlError> {
        let hub = HubUrl::parse(base_url)?;
        let token = AdminToken::parse(admin_token, "the caller")?;
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

    /// Creates device `id` with a new token (a conflict error if it exists).
    pub fn create_device(&self, id: &DeviceId) -> Result<ProvisionedDevice, HubctlError> {
        let body = CreateDeviceRequest {
            device_id: id.clone(),
        };
        let subject = Subject::Device(id.clone());
        let created: CreatedDevice = self.call("/admin/devices", Some(&body), &subject)?;
        if &created.device_id != id {
            return Err(unexpected("the answer names another device"));
        }
        checked(&created.token, TokenKind::Device)?;
        Ok(ProvisionedDevice {
            device_id: id.clone(),
            token: created.token,
        })
    }

    /// Like [`Hub::rotate_device`] with a token made by the caller (e.g. one already installed on the
    /// device); only its hash leaves this process, so the hub never sees the token and repeating the request
    /// after a lost answer changes nothing.
    pub fn rotate_device_to(
        &self,
        id: &DeviceId,
        grace: Duration,
        token: String,
    ) -> Result<RotatedDevice, HubctlError> {
        let hash = token_sha256_hex(&token);
        let body = RotateDeviceRequest {
            grace_seconds: check_grace(grace)?.as_secs(),
            token_sha256: Some(hash.clone()),
        };
        let path = format!("/admin/devices/{id}/rotate");
        let answer: RotationAnswer = self.call(&path, Some(&body), &Subject::Device(id.clone()))?;
        if answer.token_sha256 != Some(hash) {
            return Err(unexpected(
                "the hub did not confirm the new token's hash (is it older than this hubctl?)",
            ));
        }
        checked(&token, TokenKind::Device)?;
        Ok(RotatedDevice {
            token,
            previous_token_valid_until: answer.previous_token_valid_until,
        })
    }

    /// `GET path`, its answer decoded as `T`.
    fn get<T: DeserializeOwned>(&self, path: &str, subject: &Subject) -> Result<T, HubctlError> {
        self.call(path, None::<&()>, subject)
    }

    /// Sends `GET path`, or `POST path` when there is a `body` (`()` for an empty one), and decodes a success
    /// as `T`; anything else becomes an error.
    fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&impl Serialize>,
        subject: &Subject,
    ) -> Result<T, HubctlError> {
        let url = self.hub.url(path);
        let transport = |source| AdminApiError::Transport {
            url: url.clone(),
            source: Box::new(source),
        };
        let mut response = self.send(&url, body).map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after");
        let retry_after = retry_after.and_then(|v| v.to_str().ok()).map(str::to_owned);
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

    /// The request on the wire; the `Authorization` value is marked sensitive. A `()` body is sent empty.
    fn send(
        &self,
        url: &str,
        body: Option<&impl Serialize>,
    ) -> Result<Response<ureq::Body>, ureq::Error> {
        let mut bearer =
            HeaderValue::try_from(self.token.bearer()).map_err(ureq::http::Error::from)?;
        bearer.set_sensitive(true);
        let Some(body) = body else {
            return self.agent.get(url).header(AUTHORIZATION, bearer).call();
        };
        let post = self.agent.post(url).header(AUTHORIZATION, bearer);
        // Serialising these plain structs cannot fail; an empty body would be refused by the hub anyway.
        match serde_json::to_value(body).unwrap_or_default() {
            Value::Null => post.send_empty(),
            json => post.content_type("application/json").send(json.to_string()),
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
        let stopped = None;
        Ok(CreatedDevices { devices, stopped })
    }

    /// `{"devices":"*"|[ids],"access":…,"label":…}`, validated as the Worker will; the answer's token checked.
    fn create_dashboard_token(
        &self,
        scope: &DashboardScope,
        access: Access,
        label: Option<&str>,
    ) -> Result<ProvisionedDashboardToken, HubctlError> {
        let label = label.map(Label::parse).transpose()?;
        let body = CreateDashboardTokenRequest {
            devices: scope.to_wire()?,
            access,
            label: label.map(|l| l.as_str().to_owned()),
        };
        let created: CreatedDashboardToken =
            self.call("/admin/dashboard-tokens", Some(&body), &Subject::Api)?;
        checked(&created.token, TokenKind::Dashboard)?;
        Ok(ProvisionedDashboardToken {
            token_id: created.token_id.into(),
            token: created.token,
        })
    }

    /// Follows `next_after` through every page; it must move forward, so a confused hub cannot make the
    /// listing loop.
    fn list_devices(&self) -> Result<Vec<Value>, HubctlError> {
        let mut devices = Vec::new();
        let mut after: Option<DeviceId> = None;
        loop {
            let path = match &after {
                None => "/admin/devices".to_owned(),
                Some(id) => format!("/admin/devices?after={id}"),
            };
            let page: DevicePage = self.get(&path, &Subject::Api)?;
            devices.extend(page.devices);
            let Some(next) = page.next_after else {
                return Ok(devices);
            };
            let next =
                DeviceId::parse(&next).map_err(|_| unexpected("next_after is not a device id"))?;
            if after.is_some_and(|previous| previous.as_str() >= next.as_str()) {
                return Err(unexpected("the device list does not advance"));
            }
            after = Some(next);
        }
    }

    fn show_device(&self, id: &DeviceId) -> Result<Value, HubctlError> {
        let path = format!("/admin/devices/{id}");
        self.get(&path, &Subject::Device(id.clone()))
    }

    /// The token is made here from the OS random number generator and only its SHA-256 is sent, so the request
    /// can be repeated safely: a second rotation to the same hash changes nothing at the hub.
    fn rotate_device(&self, id: &DeviceId, grace: Duration) -> Result<RotatedDevice, HubctlError> {
        self.rotate_device_to(id, grace, new_token(TokenKind::Device)?)
    }

    /// `POST /admin/devices/{id}/disable` (or `enable`) without a body; the device as the hub now shows it.
    fn set_disabled(&self, id: &DeviceId, disabled: bool) -> Result<Value, HubctlError> {
        let action = if disabled { "disable" } else { "enable" };
        let path = format!("/admin/devices/{id}/{action}");
        self.call(&path, Some(&()), &Subject::Device(id.clone()))
    }

    fn list_dashboard_tokens(&self) -> Result<Vec<Value>, HubctlError> {
        let list: DashboardTokenList = self.get("/admin/dashboard-tokens", &Subject::Api)?;
        Ok(list.dashboard_tokens)
    }

    fn revoke_dashboard_token(&self, token_id: &str) -> Result<RevokedDashboardToken, HubctlError> {
        let token_id = parse_token_id(token_id)?;
        let subject = Subject::DashboardToken(token_id.to_string());
        let path = format!("/admin/dashboard-tokens/{token_id}/revoke");
        self.call(&path, Some(&()), &subject)
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

/// Fails unless `token` is a well-formed token of `kind` (the message never holds it).
fn checked(token: &str, kind: TokenKind) -> Result<(), HubctlError> {
    check_token_of_kind(token, kind)
        .map_err(|error| unexpected(&format!("the new token is malformed: {error}")))
}

/// A successful answer with the wrong content.
fn unexpected(detail: &str) -> HubctlError {
    let (status, detail) = (200, detail.to_owned());
    AdminApiError::Unexpected { status, detail }.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use telemetry_protocol::generate_token;

    #[test]
    fn debug_output_never_shows_a_token() {
        let token = generate_token(TokenKind::Admin, |b| b.fill(3));
        let client = AdminClient::new("http://127.0.0.1:8787", &token).expect("valid");
        let rotated = RotatedDevice {
            token: "tdev_secret".into(),
            previous_token_valid_until: None,
        };
        assert_eq!(
            format!("{client:?} {rotated:?}"),
            "AdminClient { hub: http://127.0.0.1:8787, admin_token: <redacted> } \
             RotatedDevice { token: <redacted>, previous_token_valid_until: None }"
        );
    }

    #[test]
    fn invalid_input_fails_before_any_request() {
        let token = generate_token(TokenKind::Admin, |b| b.fill(3));
        // Port 9 (discard) is never reached: every call below fails on its input first.
        let client = AdminClient::new("http://127.0.0.1:9", &token).expect("valid");
        let id = DeviceId::parse("a").expect("valid");
        let too_long = Duration::from_secs(31 * 24 * 3600);
        let errors = [
            client.rotate_device(&id, too_long).map(drop),
            client.revoke_dashboard_token("dt_nothex").map(drop),
            client
                .create_dashboard_token(&DashboardScope::Devices(Vec::new()), Access::Read, None)
                .map(drop),
            client
                .create_dashboard_token(&DashboardScope::All, Access::Read, Some("a\nb"))
                .map(drop),
        ];
        let shown = errors.map(|e| e.expect_err("refused").to_string());
        assert_eq!(
            shown,
            [
                "invalid grace period: it is longer than 30 days (720h)",
                "invalid token id: a token id is dt_ followed by 12 lowercase hex digits (e.g. dt_0123456789ab)",
                "invalid device scope: the device list is empty",
                "invalid label: it contains a control or bidirectional formatting character",
            ]
        );
    }
}
