//! The WebSocket endpoints (`/ws/device/{id}`, `/ws/dashboard/{id}`): a handshake checked in the contract's order,
//! then handed to the device's Durable Object, which answers with the 101.
//!
//! A handshake costs one subrequest when the object's copy of the credential accepts it (the usual reconnect).
//! Only when the copy cannot decide does the client's address meet the failed-authentication guard, before the
//! object reads D1; so an address that keeps failing is refused with 429 before any D1 read, and a credential
//! that verifies is never refused because someone else failed.

use telemetry_protocol::DeviceId;
use telemetry_protocol::history::{STORED_ACK_HEADER, asks_for_stored_acks};
use telemetry_protocol::token::{TokenKind, check_token_format};
use worker::{Context, Date, Env, Request, Response};

use crate::access::TokenHash;
use crate::config::TestFaults;
use crate::error::HubError;
use crate::fleet_metrics::{AuthRefusal, record_auth_refused};
use crate::guard_client::Guard;
use crate::handoff::{ConnectVerdict, Handoff, Role};
use crate::handshake::{
    HandshakeHeaders, dashboard_credential, device_credential, reject_credentials_in_url,
    require_websocket_upgrade,
};
use crate::hub_client;
use crate::log_event::{LogEvent, emit};
use crate::request::{client_address, header};

/// A handshake the router matched (404, 400 and 405 are behind it), checked on in the contract's order: 400 for
/// a credential in the URL, 426, 401, 400 for the subprotocols, then 429 or 403, else the object's 101.
pub async fn handle(
    req: Request,
    env: &Env,
    ctx: &Context,
    faults: TestFaults,
    role: Role,
    device_id: DeviceId,
) -> Result<Response, HubError> {
    let presented = presented(&req, role, device_id)?;
    let attempt = Attempt {
        endpoint: endpoint_name(role),
        client: client_address(&req),
        device_id: presented.handoff.device_id.clone(),
        started_ms: Date::now().as_millis(),
    };
    let guard =
        Guard::new(&attempt.client, &attempt.target()).unavailable(faults.guard_unavailable);
    guard.refuse_if_known_blocked()?;
    // A token of the wrong shape or kind is refused before any lookup, exactly like a wrong one.
    if !presented.token_well_formed {
        guard.fail(env).await?;
        return Err(attempt.refused(env, "wrong token"));
    }
    let first = hub_client::connect(env, &presented.handoff)
        .await
        .map_err(|e| attempt.lookup_failed(e))?;
    if first.status_code() == 101 {
        attempt.accepted(false);
        return Ok(first);
    }
    attempt.verdict_of(first).await?;
    // The object's copy could not accept it: only now does the address meet the guard, before D1 is read.
    let ticket = guard.begin(env).await?;
    let outcome = attempt.looked_up(env, presented.handoff, faults).await;
    let failed = outcome.as_ref().err() == Some(&HubError::Forbidden);
    let env = env.clone();
    ctx.wait_until(async move { guard.finish(&env, ticket, failed).await });
    outcome
}

/// A handshake's credential, checked as far as it can be without a lookup.
struct Presented {
    /// What the device's object gets, without a lookup yet.
    handoff: Handoff,
    /// Whether the token has the shape and kind of the endpoint's tokens.
    token_well_formed: bool,
}

/// The checks that need no lookup: a credential in the URL, the upgrade, where the token comes from.
fn presented(req: &Request, role: Role, device_id: DeviceId) -> Result<Presented, HubError> {
    let url = req
        .url()
        .map_err(|_| HubError::BadRequest("malformed URL"))?;
    let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    reject_credentials_in_url(keys.iter().map(String::as_str))?;
    let (upgrade, authorization, protocols) = (
        header(req, "Upgrade"),
        header(req, "Authorization"),
        header(req, "Sec-WebSocket-Protocol"),
    );
    let headers = HandshakeHeaders {
        upgrade: upgrade.as_deref(),
        authorization: authorization.as_deref(),
        protocols: protocols.as_deref(),
    };
    require_websocket_upgrade(&headers)?;
    let credential = match role {
        Role::Device => device_credential(&headers)?,
        Role::Dashboard => dashboard_credential(&headers)?,
    };
    let stored_acks =
        role == Role::Device && asks_for_stored_acks(header(req, STORED_ACK_HEADER).as_deref());
    let handoff = Handoff {
        role,
        device_id,
        token_hash: TokenHash::of(credential.token),
        select_subprotocol: credential.select_subprotocol,
        lookup: false,
        stored_acks,
        hold_lookup_ms: 0,
    };
    Ok(Presented {
        handoff,
        token_well_formed: check_token_format(credential.token) == Ok(token_kind(role)),
    })
}

fn endpoint_name(role: Role) -> &'static str {
    match role {
        Role::Device => "device",
        Role::Dashboard => "dashboard",
    }
}

fn token_kind(role: Role) -> TokenKind {
    match role {
        Role::Device => TokenKind::Device,
        Role::Dashboard => TokenKind::Dashboard,
    }
}

/// One handshake attempt, as the guard and the log know it.
struct Attempt {
    endpoint: &'static str,
    client: String,
    device_id: DeviceId,
    /// When the handshake arrived, Unix milliseconds.
    started_ms: u64,
}

impl Attempt {
    /// The guard's target: the endpoint and the device.
    fn target(&self) -> String {
        format!("{}:{}", self.endpoint, self.device_id)
    }

    fn latency_ms(&self) -> u64 {
        Date::now().as_millis().saturating_sub(self.started_ms)
    }

    /// Logs an accepted handshake (`lookup`: the object had to read D1) with how long it took.
    fn accepted(&self, lookup: bool) {
        emit(
            LogEvent::new("handshake_accepted")
                .device(self.device_id.as_str())
                .with("endpoint", self.endpoint)
                .with("lookup", lookup)
                .code(101)
                .latency_ms(self.latency_ms()),
        );
    }

    /// Logs and counts a refusal (never the token) and gives the one 403. The fleet metric is written here, in
    /// the gateway: a refusal never wakes the device's object to be counted.
    fn refused(&self, env: &Env, reason: &str) -> HubError {
        let refusal = AuthRefusal {
            device_id: Some(self.device_id.as_str()),
            endpoint: self.endpoint,
            reason,
            client: &self.client,
            latency_ms: self.latency_ms(),
        };
        record_auth_refused(env, &refusal);
        HubError::Forbidden
    }

    /// Asks the object again, now allowed to read D1: its 101, or the 403 of its denial.
    async fn looked_up(
        &self,
        env: &Env,
        mut handoff: Handoff,
        faults: TestFaults,
    ) -> Result<Response, HubError> {
        handoff.lookup = true;
        handoff.hold_lookup_ms = faults.hold_lookup_ms;
        match hub_client::connect(env, &handoff).await {
            Ok(second) if second.status_code() == 101 => {
                self.accepted(true);
                Ok(second)
            }
            Ok(second) => match self.verdict_of(second).await? {
                ConnectVerdict::Denied { reason } => Err(self.refused(env, reason.as_str())),
                ConnectVerdict::NeedsLookup => Err(HubError::Internal),
            },
            Err(error) => Err(self.lookup_failed(error)),
        }
    }

    /// The object's answer when it did not accept; a 500 if it failed instead.
    async fn verdict_of(&self, mut response: Response) -> Result<ConnectVerdict, HubError> {
        if response.status_code() != 200 {
            let status = response.status_code();
            return Err(self.lookup_failed(format!("device object answered {status}")));
        }
        response
            .json::<ConnectVerdict>()
            .await
            .map_err(|e| self.lookup_failed(e))
    }

    fn lookup_failed(&self, error: impl std::fmt::Display) -> HubError {
        emit(
            LogEvent::new("auth_lookup_failed")
                .device(self.device_id.as_str())
                .with("endpoint", self.endpoint)
                .code(500)
                .latency_ms(self.latency_ms())
                .error(error),
        );
        HubError::Internal
    }
}
