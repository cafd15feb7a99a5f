//! The admin API, `/api/devices` and handshakes as a given client address sees them: for tests of what one
//! client can do to another (workerd reports the local address of the connection as `CF-Connecting-IP`).

use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Value, json};

use crate::http::{self, HttpResponse};
use crate::hub_server::HubServer;
use crate::ws_client::{ConnectError, WsClient};

/// The legitimate client: the address the rest of the suite uses.
pub const OWNER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));

/// A stranger on another address, `127.0.0.N` (N from 2); each test takes its own so their counters never meet.
pub fn stranger(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n.max(2)))
}

/// The admin API of one hub, with its admin token.
pub struct AdminHttp<'a> {
    hub: &'a HubServer,
}

impl<'a> AdminHttp<'a> {
    /// The admin API of `hub`.
    pub fn new(hub: &'a HubServer) -> Self {
        Self { hub }
    }

    /// `method path` with the hub's admin token, from [`OWNER`].
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> HttpResponse {
        let auth = format!("Bearer {}", self.hub.admin_token());
        self.call_as(OWNER, method, path, body, &[("Authorization", &auth)])
            .await
    }

    /// `method path` from `source` with exactly the given extra headers.
    pub async fn call_as(
        &self,
        source: IpAddr,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> HttpResponse {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        http::request_from(
            Some(source),
            self.hub.port(),
            method,
            path,
            &all,
            body.as_bytes(),
        )
        .await
    }

    /// Creates device `id` and returns its token.
    pub async fn create_device(&self, id: &str) -> String {
        let response = self
            .call("POST", "/admin/devices", Some(json!({"device_id": id})))
            .await;
        assert_eq!(response.status, 201, "create {id}: {response:?}");
        json_body(&response)["token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    /// Creates a dashboard token for `devices` (`"*"` or a list) with `access`; returns (id, token).
    pub async fn create_dashboard(&self, devices: Value, access: &str) -> (String, String) {
        let body = json!({"devices": devices, "access": access, "label": "e2e"});
        let response = self
            .call("POST", "/admin/dashboard-tokens", Some(body))
            .await;
        assert_eq!(response.status, 201, "{response:?}");
        let body = json_body(&response);
        (
            body["token_id"].as_str().expect("id").to_owned(),
            body["token"].as_str().expect("token").to_owned(),
        )
    }

    /// Runs the hub's cron trigger now (the sync sweeper); needs `wrangler dev --test-scheduled`.
    pub async fn run_cron(&self) {
        let response = http::get(self.hub.port(), "/__scheduled?cron=*+*+*+*+*", &[]).await;
        assert_eq!(response.status, 200, "cron trigger: {response:?}");
    }
}

/// The JSON body of a response; panics with the response if it is not JSON.
pub fn json_body(response: &HttpResponse) -> Value {
    serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("{response:?}: {e}"))
}

/// The status of a handshake to `path` from `source` with `headers`: 101 if accepted (the session is closed at
/// once), else the HTTP status.
pub async fn handshake_status(
    hub: &HubServer,
    source: IpAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> HttpResponse {
    match WsClient::connect_from(Some(source), &hub.ws_url(path), headers).await {
        Ok(mut ws) => {
            let _ = ws.close(1000, "done").await;
            HttpResponse {
                status: 101,
                headers: Vec::new(),
                body: String::new(),
            }
        }
        Err(ConnectError::Refused(refusal)) => refusal,
        Err(ConnectError::Failed(why)) => panic!("{path} from {source}: {why}"),
    }
}
