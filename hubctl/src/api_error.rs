//! What an admin API answer that is not a success means, as one error per status. Pure: the client hands over
//! the status, the `Retry-After` header and the body; nothing here sees the admin token.

use std::fmt;

use telemetry_protocol::{DeviceId, ErrorBody, HttpErrorCode};

/// Longest piece of hub-supplied text repeated in a message, in characters.
const MAX_DETAIL_CHARS: usize = 300;

/// What a request was about, to name it in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// One device.
    Device(DeviceId),
    /// One dashboard token, by its public id.
    DashboardToken(String),
    /// The admin API as a whole (the list and create endpoints).
    Api,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Device(id) => write!(f, "device {id}"),
            Self::DashboardToken(id) => write!(f, "dashboard token {id}"),
            Self::Api => f.write_str("the admin API"),
        }
    }
}

/// The admin API refused a request, failed, or could not be reached. No variant holds the admin token.
#[derive(Debug, thiserror::Error)]
pub enum AdminApiError {
    /// 429: too many failed authentications from this address.
    #[error(
        "too many failed attempts (HTTP 429): {}",
        .retry_after_secs.map_or("retry later".into(), |secs| format!("retry in {secs} s"))
    )]
    RateLimited {
        /// Seconds to wait, from `Retry-After`.
        retry_after_secs: Option<u64>,
    },
    /// Any other answer that is not a success, with what it means (made by [`refusal`]).
    #[error("{message}")]
    Refused {
        /// The status.
        status: u16,
        /// What the answer means, for a person.
        message: String,
    },
    /// An answer that is not what the admin API gives: a success with the wrong content.
    #[error("unexpected answer from the hub (HTTP {status}): {detail}")]
    Unexpected {
        /// The status.
        status: u16,
        /// What was wrong with it.
        detail: String,
    },
    /// No answer at all: DNS, connection, TLS or timeout.
    #[error("could not reach the hub at {url}: {source}")]
    Transport {
        /// The URL of the request (the hub's origin and an `/admin/` path; it holds no credential).
        url: String,
        /// What failed.
        source: Box<ureq::Error>,
    },
}

/// The error for a non-success answer with `status`, `Retry-After` value `retry_after` and `body`.
pub fn refusal(
    status: u16,
    retry_after: Option<&str>,
    body: &str,
    subject: &Subject,
) -> AdminApiError {
    let parsed = serde_json::from_str::<ErrorBody>(body).ok();
    let parsed = parsed.filter(|b| !b.error.as_str().is_empty());
    if status == 429 && parsed.is_some() {
        let retry_after_secs = retry_after.and_then(|v| v.trim().parse().ok());
        return AdminApiError::RateLimited { retry_after_secs };
    }
    let message = match &parsed {
        Some(body) => refusal_text(status, body, subject),
        None => unparsed_text(status, &clean(body)),
    };
    AdminApiError::Refused { status, message }
}

/// What a refusal with `status` and the Worker's `body` means, about `subject`.
fn refusal_text(status: u16, body: &ErrorBody, subject: &Subject) -> String {
    let field = body.field.as_deref().map(clean);
    match (status, &body.error) {
        (401 | 403, _) => token_rejected(status),
        (503, HttpErrorCode::AdminDisabled) => NOT_CONFIGURED.into(),
        (400, _) => {
            let message = strip_field(&clean(&body.message), field.as_deref());
            let field = field.as_deref().unwrap_or("the request (HTTP 400)");
            format!("the hub refused {field}: {message}")
        }
        (409, _) => {
            let field = field.as_deref().unwrap_or("unknown");
            format!("{subject} already exists (field {field})")
        }
        (404, _) => not_found_text(subject),
        (405, _) => {
            "the hub does not allow this request (HTTP 405): is the deployed Worker up to date?"
                .into()
        }
        (500 | 503, _) => format!(
            "the hub failed (HTTP {status}); the details are in the Worker's log (`npx wrangler tail`)"
        ),
        _ => {
            let detail = format!("{}: {}", clean(body.error.as_str()), clean(&body.message));
            unexpected_text(status, &detail)
        }
    }
}

/// A refusal whose body is not the Worker's: most likely another server, or a proxy, answered.
fn unparsed_text(status: u16, raw: &str) -> String {
    match status {
        401 | 403 => token_rejected(status),
        404 => not_found_text(&Subject::Api),
        _ => {
            let detail = format!("not an admin API answer (is --hub the Worker's URL?): {raw:?}");
            unexpected_text(status, &detail)
        }
    }
}

/// 503 `admin_disabled`: the Worker has no `ADMIN_TOKEN_SHA256`.
const NOT_CONFIGURED: &str = "the admin API is not configured: run `wrangler secret put ADMIN_TOKEN_SHA256` \
    (for `wrangler dev`, put ADMIN_TOKEN_SHA256=<hash> in .dev.vars); `hubctl admin-token create` makes a token \
    and its hash";

/// 401 or 403: the admin token is missing from the request or does not match the Worker's hash.
fn token_rejected(status: u16) -> String {
    format!(
        "admin token rejected (HTTP {status}): it is not the token whose SHA-256 is the Worker's \
         ADMIN_TOKEN_SHA256"
    )
}

/// An answer that is not what the admin API gives.
fn unexpected_text(status: u16, detail: &str) -> String {
    let detail = detail.to_owned();
    AdminApiError::Unexpected { status, detail }.to_string()
}

/// Hub-supplied text made safe to print: control and bidirectional characters replaced, length bounded.
pub fn clean(text: &str) -> String {
    let mut cleaned: String = text
        .chars()
        .take(MAX_DETAIL_CHARS)
        .map(|c| {
            if crate::scope::is_forbidden_in_label(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    if text.chars().nth(MAX_DETAIL_CHARS).is_some() {
        cleaned.push('…');
    }
    cleaned
}

/// The Worker writes `field: message`; the field is named separately, so the prefix is dropped.
fn strip_field(message: &str, field: Option<&str>) -> String {
    let prefix = field.map(|f| format!("{f}: "));
    let stripped = prefix.and_then(|p| message.strip_prefix(&p).map(str::to_owned));
    stripped.unwrap_or_else(|| message.to_owned())
}

fn not_found_text(subject: &Subject) -> String {
    match subject {
        Subject::Api => {
            "the hub has no admin API at this URL (HTTP 404): is --hub the Worker's URL, and is \
                         the deployed Worker up to date?"
                .into()
        }
        other => format!("{other} does not exist"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Beyond hubctl/tests/admin_client.rs (409 with a field, 400 with a field, 403, 429 with `Retry-After`,
    /// 503 `admin_disabled`, 404 of a device, 500): every other answer and subject.
    #[test]
    fn every_answer_has_its_message() {
        let device = Subject::Device(DeviceId::parse("ems_001").expect("valid"));
        let token = Subject::DashboardToken("dt_0123456789ab".into());
        let not_found = r#"{"error":"not_found","message":"not found"}"#;
        let cases = [
            (
                400,
                r#"{"error":"bad_request","message":"malformed URL"}"#,
                &device,
                "the hub refused the request (HTTP 400): malformed URL",
            ),
            (
                401,
                r#"{"error":"unauthorized","message":"a bearer token is required"}"#,
                &device,
                "admin token rejected (HTTP 401): it is not the token whose SHA-256 is the Worker's ADMIN_TOKEN_SHA256",
            ),
            (
                429,
                r#"{"error":"too_many_requests","message":"retry later"}"#,
                &device,
                "too many failed attempts (HTTP 429): retry later",
            ),
            (
                404,
                not_found,
                &token,
                "dashboard token dt_0123456789ab does not exist",
            ),
            (
                404,
                not_found,
                &Subject::Api,
                "the hub has no admin API at this URL (HTTP 404): is --hub the Worker's URL, and is the deployed \
              Worker up to date?",
            ),
            (
                405,
                r#"{"error":"method_not_allowed"}"#,
                &Subject::Api,
                "the hub does not allow this request (HTTP 405): is the deployed Worker up to date?",
            ),
            (
                418,
                r#"{"error":"teapot","message":"short and stout"}"#,
                &device,
                "unexpected answer from the hub (HTTP 418): teapot: short and stout",
            ),
            (
                502,
                "<html>\u{1b}[31mBad gateway</html>",
                &device,
                "unexpected answer from the hub (HTTP 502): not an admin API answer (is --hub the Worker's URL?): \
              \"<html>\u{FFFD}[31mBad gateway</html>\"",
            ),
        ];
        for (status, body, subject, expected) in cases {
            let shown = refusal(status, None, body, subject).to_string();
            assert_eq!(shown, expected, "{status}");
        }
    }

    #[test]
    fn hub_text_is_cleaned_and_bounded() {
        assert_eq!(clean("a\nb\u{202E}c"), "a\u{FFFD}b\u{FFFD}c");
        let long = "x".repeat(MAX_DETAIL_CHARS + 5);
        assert_eq!(clean(&long).chars().count(), MAX_DETAIL_CHARS + 1);
    }
}
