//! The JSON body of every HTTP refusal of the hub: `{"error":<code>,"message":<text>}`, and `field` for a 400 or
//! 409 of the admin API.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `{"error":<code>,"message":<text>}` (and `"field"` when one request field is at fault), with every 4xx and 5xx
/// answer of the hub. A 403 is always exactly `{"error":"forbidden","message":"forbidden"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable reason; the HTTP status says the class.
    pub error: HttpErrorCode,
    /// Human-readable text. Never echoes a credential. The hub always sends it; absent reads as empty.
    #[serde(default)]
    pub message: String,
    /// The request field (or path segment) at fault, for `invalid_field` and `conflict`; omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Why the hub refused an HTTP request. Serialised as its `snake_case` word; a word this version does not know
/// (from a newer hub, or another server) reads as [`HttpErrorCode::Other`] with the word kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HttpErrorCode {
    /// 400 `bad_request`: a malformed request (bad device id, credential in the URL, bad query parameter).
    BadRequest,
    /// 401 `unauthorized`: no credential, or not a Bearer one.
    Unauthorized,
    /// 403 `forbidden`: the credential does not grant this; never says why.
    Forbidden,
    /// 404 `not_found`: no such route, device or token.
    NotFound,
    /// 405 `method_not_allowed`: the route exists for other methods (see `Allow`).
    MethodNotAllowed,
    /// 426 `upgrade_required`: the endpoint only speaks WebSocket.
    UpgradeRequired,
    /// 400 `invalid_field`: a field of an admin request is missing or wrong; `field` names it.
    InvalidField,
    /// 409 `conflict`: what was to be created exists already; `field` names the taken value.
    Conflict,
    /// 429 `too_many_requests`: too many failed authentications; `Retry-After` says when to retry.
    TooManyRequests,
    /// 503 `admin_disabled`: the admin API has no admin token hash configured.
    AdminDisabled,
    /// 500 `internal`: the hub failed; the detail is only in its log.
    Internal,
    /// A code this version does not know, kept as sent.
    Other(String),
}

impl HttpErrorCode {
    /// Every code the hub sends.
    pub const KNOWN: [HttpErrorCode; 11] = [
        Self::BadRequest,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::UpgradeRequired,
        Self::InvalidField,
        Self::Conflict,
        Self::TooManyRequests,
        Self::AdminDisabled,
        Self::Internal,
    ];

    /// The wire word.
    pub fn as_str(&self) -> &str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::UpgradeRequired => "upgrade_required",
            Self::InvalidField => "invalid_field",
            Self::Conflict => "conflict",
            Self::TooManyRequests => "too_many_requests",
            Self::AdminDisabled => "admin_disabled",
            Self::Internal => "internal",
            Self::Other(word) => word,
        }
    }

    /// The code of a wire word; unknown words become [`HttpErrorCode::Other`].
    pub fn from_word(word: &str) -> Self {
        Self::KNOWN
            .into_iter()
            .find(|code| code.as_str() == word)
            .unwrap_or_else(|| Self::Other(word.to_owned()))
    }
}

impl fmt::Display for HttpErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for HttpErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for HttpErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let word = String::deserialize(deserializer)?;
        Ok(Self::from_word(&word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_words_round_trip_and_unknown_ones_are_kept() {
        for code in HttpErrorCode::KNOWN {
            assert_eq!(HttpErrorCode::from_word(code.as_str()), code);
        }
        let teapot: ErrorBody =
            serde_json::from_str(r#"{"error":"teapot","message":"short and stout"}"#)
                .expect("json");
        assert_eq!(teapot.error, HttpErrorCode::Other("teapot".into()));
        assert_eq!(teapot.error.to_string(), "teapot");
    }

    #[test]
    fn field_is_omitted_when_absent_and_message_defaults_to_empty() {
        let body = ErrorBody {
            error: HttpErrorCode::Forbidden,
            message: "forbidden".into(),
            field: None,
        };
        let text = serde_json::to_string(&body).expect("json");
        assert_eq!(text, r#"{"error":"forbidden","message":"forbidden"}"#);
        let bare: ErrorBody =
            serde_json::from_str(r#"{"error":"method_not_allowed"}"#).expect("json");
        assert_eq!(bare.message, "");
    }
}
