//! The one error type of the Worker's HTTP surface and its mapping to status codes.

use telemetry_protocol::{ErrorBody, HttpErrorCode};

/// Why a request was refused. Every refusal of the Worker is one of these, mapped to a status in [`HubError::status`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    /// 400: a malformed request (bad device id, credential in the URL, bad subprotocol list).
    #[error("{0}")]
    BadRequest(&'static str),
    /// 401: no credential, or not a Bearer one.
    #[error("a bearer token is required")]
    Unauthorized,
    /// 403: unknown device, disabled device, wrong token or a token outside its scope. Always the same body,
    /// so a caller cannot tell whether a device exists.
    #[error("forbidden")]
    Forbidden,
    /// 404: no such route.
    #[error("not found")]
    NotFound,
    /// 405: the route exists for other methods.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// Value of the `Allow` header.
        allow: &'static str,
    },
    /// 426: the endpoint only speaks WebSocket.
    #[error("this endpoint requires a WebSocket upgrade")]
    UpgradeRequired,
    /// 400: a field of an admin request is missing or wrong; the body names the field.
    #[error("{field}: {message}")]
    InvalidField {
        /// The JSON field or path segment at fault.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// 409: the thing to create exists already.
    #[error("{field}: already exists")]
    Conflict {
        /// The field whose value is taken.
        field: &'static str,
    },
    /// 429: too many failed authentications from this address or for this target; try again later.
    #[error("too many failed attempts; retry later")]
    TooManyRequests {
        /// Seconds until the counting window ends (`Retry-After`).
        retry_after_secs: u64,
    },
    /// 503: the admin API has no admin token hash configured.
    #[error("the admin API is not configured: set the ADMIN_TOKEN_SHA256 secret")]
    AdminDisabled,
    /// 500: the hub failed (D1 or Durable Object unavailable). The detail goes to the log, never to the client.
    #[error("internal error")]
    Internal,
}

impl HubError {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::UpgradeRequired => 426,
            Self::InvalidField { .. } => 400,
            Self::Conflict { .. } => 409,
            Self::TooManyRequests { .. } => 429,
            Self::AdminDisabled => 503,
            Self::Internal => 500,
        }
    }

    /// The stable code in the JSON body.
    pub fn code(&self) -> HttpErrorCode {
        match self {
            Self::BadRequest(_) => HttpErrorCode::BadRequest,
            Self::Unauthorized => HttpErrorCode::Unauthorized,
            Self::Forbidden => HttpErrorCode::Forbidden,
            Self::NotFound => HttpErrorCode::NotFound,
            Self::MethodNotAllowed { .. } => HttpErrorCode::MethodNotAllowed,
            Self::UpgradeRequired => HttpErrorCode::UpgradeRequired,
            Self::InvalidField { .. } => HttpErrorCode::InvalidField,
            Self::Conflict { .. } => HttpErrorCode::Conflict,
            Self::TooManyRequests { .. } => HttpErrorCode::TooManyRequests,
            Self::AdminDisabled => HttpErrorCode::AdminDisabled,
            Self::Internal => HttpErrorCode::Internal,
        }
    }

    /// The JSON body (`ErrorBody` of the protocol crate): code, text, and the field at fault if one is.
    pub fn body(&self) -> ErrorBody {
        let field = match self {
            Self::InvalidField { field, .. } | Self::Conflict { field } => {
                Some((*field).to_owned())
            }
            _ => None,
        };
        ErrorBody {
            error: self.code(),
            message: self.to_string(),
            field,
        }
    }

    /// Extra response headers this refusal requires.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Unauthorized => vec![("WWW-Authenticate", "Bearer".into())],
            Self::MethodNotAllowed { allow } => vec![("Allow", (*allow).into())],
            // workerd strips `Upgrade` from a 426, so the body says it instead.
            Self::TooManyRequests { retry_after_secs } => {
                vec![("Retry-After", retry_after_secs.to_string())]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(HubError::BadRequest("x").status(), 400);
        assert_eq!(HubError::Unauthorized.status(), 401);
        assert_eq!(HubError::Forbidden.status(), 403);
        assert_eq!(HubError::NotFound.status(), 404);
        assert_eq!(HubError::MethodNotAllowed { allow: "GET" }.status(), 405);
        assert_eq!(HubError::UpgradeRequired.status(), 426);
        assert_eq!(HubError::Internal.status(), 500);
        assert_eq!(
            HubError::TooManyRequests {
                retry_after_secs: 3
            }
            .status(),
            429
        );
        assert_eq!(HubError::Conflict { field: "device_id" }.status(), 409);
        assert_eq!(HubError::AdminDisabled.status(), 503);
    }

    #[test]
    fn too_many_requests_says_when_to_retry() {
        assert_eq!(
            HubError::TooManyRequests {
                retry_after_secs: 42
            }
            .headers(),
            vec![("Retry-After", "42".to_owned())]
        );
    }

    #[test]
    fn field_errors_name_the_field() {
        let error = HubError::InvalidField {
            field: "grace_seconds",
            message: "must be a whole number".into(),
        };
        let body = serde_json::to_value(error.body()).expect("json");
        assert_eq!(body["field"], "grace_seconds");
        assert_eq!(body["error"], "invalid_field");
    }

    #[test]
    fn unauthorized_asks_for_bearer() {
        assert_eq!(
            HubError::Unauthorized.headers(),
            vec![("WWW-Authenticate", "Bearer".to_owned())]
        );
    }

    #[test]
    fn forbidden_body_is_one_fixed_text() {
        let body = serde_json::to_string(&HubError::Forbidden.body()).expect("json");
        assert_eq!(body, r#"{"error":"forbidden","message":"forbidden"}"#);
    }
}
