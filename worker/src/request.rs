//! What the Worker reads besides a request's path: a header, the client's address, the method as the router
//! sees it, the test faults a request asks for, and the hub's tunables from the Worker's variables.

use worker::{Env, Method, Request};

use crate::config::{HubConfig, TEST_FAULT_HEADER, TEST_FAULTS_VAR, TestFaults};
use crate::route::HttpMethod;

/// The client's address as Cloudflare reports it (`CF-Connecting-IP`).
pub fn client_address(req: &Request) -> String {
    header(req, "CF-Connecting-IP").unwrap_or_else(|| "unknown".into())
}

/// A request header, if present.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The request's method, as far as routing tells methods apart.
pub fn method(req: &Request) -> HttpMethod {
    match req.method() {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        _ => HttpMethod::Other,
    }
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
