//! How the Worker answers over HTTP: a JSON value, or a [`HubError`] rendered with its status, body and headers
//! (every refusal, in one place).

use serde::Serialize;
use worker::{Headers, Response, Result};

use crate::error::HubError;
use crate::log_event::{LogEvent, emit};

/// A handler's outcome: its response, or the refusal to render.
pub type Outcome = std::result::Result<Response, HubError>;

/// The response for an outcome: the handler's own, or its refusal rendered.
pub fn render(outcome: Outcome) -> Result<Response> {
    match outcome {
        Ok(response) => Ok(response),
        Err(error) => error_response(&error),
    }
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
    emit(LogEvent::new("internal_failure").error(detail));
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
