//! A dashboard token presented over HTTP (`GET /api/devices`, a device's history), checked with the dashboard
//! socket's failures: 401 without a bearer credential, one 403 for every refusal, 429 past the failure limits.
//!
//! A token of the wrong shape counts as a failure before any lookup; D1 is read only once the client's address
//! cleared the failed-authentication guard, and the guard learns the outcome after the answer is sent.

use std::future::Future;

use telemetry_protocol::{TokenKind, check_token_format};
use worker::{Context, Date, Env, Request};

use crate::access::{Denial, TokenHash};
use crate::config::TestFaults;
use crate::error::HubError;
use crate::fleet_metrics::{AuthRefusal, record_auth_refused};
use crate::guard_client::Guard;
use crate::handshake::{HandshakeHeaders, device_credential};
use crate::request::{client_address, header};

/// Where a dashboard token is presented: the guard's target and how the log and the metrics name it.
#[derive(Debug, Clone, Copy)]
pub struct DashboardGate<'a> {
    /// The guard's target (`api`, or `dashboard:{id}` so that failures count with the socket's).
    pub target: &'a str,
    /// The endpoint as the log names it: `api` or `history`.
    pub endpoint: &'static str,
    /// The device asked about, if the endpoint is about one.
    pub device_id: Option<&'a str>,
}

impl DashboardGate<'_> {
    /// Logs and counts a refusal (never the token); the one 403.
    fn refused(&self, env: &Env, client: &str, reason: &str, started_ms: u64) -> HubError {
        let refusal = AuthRefusal {
            device_id: self.device_id,
            endpoint: self.endpoint,
            reason,
            client,
            latency_ms: Date::now().as_millis().saturating_sub(started_ms),
        };
        record_auth_refused(env, &refusal);
        HubError::Forbidden
    }
}

/// Checks the bearer dashboard token of `req` at `gate`. `decide` gets the token's hash once the guard allows a
/// lookup, and answers what the token may do, the refusal's reason, or a failure of the lookup (500).
pub async fn authorize_dashboard_bearer<T, Decide, Decided>(
    req: &Request,
    env: &Env,
    ctx: &Context,
    faults: TestFaults,
    gate: DashboardGate<'_>,
    decide: Decide,
) -> Result<T, HubError>
where
    Decide: FnOnce(TokenHash) -> Decided,
    Decided: Future<Output = Result<Result<T, Denial>, HubError>>,
{
    let authorization = header(req, "Authorization");
    let headers = HandshakeHeaders {
        authorization: authorization.as_deref(),
        ..HandshakeHeaders::default()
    };
    let token = device_credential(&headers)?.token;
    let started_ms = Date::now().as_millis();
    let client = client_address(req);
    let guard = Guard::new(&client, gate.target).unavailable(faults.guard_unavailable);
    guard.refuse_if_known_blocked()?;
    let refused = |reason: &str| gate.refused(env, &client, reason, started_ms);
    if check_token_format(token) != Ok(TokenKind::Dashboard) {
        guard.fail(env).await?;
        return Err(refused("wrong token"));
    }
    let ticket = guard.begin(env).await?;
    let decision = decide(TokenHash::of(token)).await;
    let failed = matches!(decision, Ok(Err(_)));
    let env = env.clone();
    ctx.wait_until(async move { guard.finish(&env, ticket, failed).await });
    decision?.map_err(|denial| refused(denial.as_str()))
}
