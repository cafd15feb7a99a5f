//! What every HTTP handler of the Worker shares: the client address, test faults, and rendering a JSON answer
//! or a [`HubError`] (every refusal's status, body and headers, in one place).

use serde::Serialize;
use worker::{Env, Headers, Request, Response, Result, console_log};

use crate::config::{HubConfig, TEST_FAULT_HEADER, TEST_FAULTS_VAR, TestFaults};
use crate::error::HubError;

/// The client's address as Cloudflare reports it (`CF-Connecting-IP`).
pub fn client_address(req: &Request) -> String {
    header(req, "CF-Connecting-IP").unwrap_or_else(|| "unknown".into())
}

/// A request header, if present.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The hub's tunables from the Worker's variables.
pub fn config(env: &Env) -> HubConfig {
    HubConfig::from_vars(|name| env.var(name).ok().map(|v| v.to_string()))
}

/// The failures a test asks this request for (none unless `HUB_TEST_FAULTS = "enabled"`). Reads that one
/// variable only, since it runs for every request.
pub fn test_faults(req: &Request, env: &Env) -> TestFaults {
    let value = env.var(TEST_FAULTS_VAR).ok().map(|v| v.to_string());
    TestFaults::parse(
        header(req, TEST_FAULT_HEADER).as_deref(),
        HubConfig::test_faults_enabled(value),
    )
}

/// A JSON answer with `status`, never cached.
pub fn json_response<T: Serialize>(
    status: u16,
    value: &T,
) -> std::result::Result<Response, HubError> {
    let response = Response::from_json(value).map_err(internal)?;
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/json");
    let _ = headers.set("Cache-Control", "no-store");
    Ok(response.with_status(status).with_headers(headers))
}

/// Logs an internal failure's detail (never sent to the client) and turns it into a 500.
pub fn internal(detail: impl std::fmt::Display) -> HubError {
    console_log!("internal failure: {detail}");
    HubError::Internal
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
