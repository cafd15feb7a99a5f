//! The admin API's pure half: the validated bodies of its requests and the refusals they get. Which operation a
//! path names is decided with every other route in `route.rs`.

use serde::Deserialize;
use serde_json::Value;
use telemetry_protocol::DeviceId;

use crate::access::Access;

/// Longest grace period a rotation may give the old token: 30 days.
pub const MAX_GRACE_SECONDS: u64 = 30 * 24 * 3600;
/// Longest label of a dashboard token.
pub const MAX_LABEL_LEN: usize = 200;
/// Most device ids in a dashboard token's scope.
pub const MAX_SCOPE_DEVICES: usize = 1000;
/// Largest request body the admin API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why an admin request was refused before it reached D1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminRefusal {
    /// 400: a field is missing or wrong.
    Invalid {
        /// The JSON field (or path segment) at fault.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

impl From<AdminRefusal> for crate::error::HubError {
    fn from(refusal: AdminRefusal) -> Self {
        match refusal {
            AdminRefusal::Invalid { field, message } => Self::InvalidField { field, message },
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> AdminRefusal {
    AdminRefusal::Invalid {
        field,
        message: message.into(),
    }
}

/// A device id in an admin path or body; 400 naming `device_id` if malformed.
pub fn path_device_id(raw: &str) -> Result<DeviceId, AdminRefusal> {
    DeviceId::parse(raw).map_err(|e| invalid("device_id", e.to_string()))
}

/// Whether `raw` has the shape of a dashboard token id: `dt_` and 12 lowercase hex digits.
pub fn token_id(raw: &str) -> Result<String, AdminRefusal> {
    let hex = raw.strip_prefix("dt_").unwrap_or("");
    let ok = hex.len() == 12
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(invalid(
            "token_id",
            "a token id is dt_ followed by 12 lowercase hex digits",
        ))
    }
}

/// The body of `POST /admin/devices`.
pub fn parse_create_device(body: &str) -> Result<DeviceId, AdminRefusal> {
    let object = parse_object(body, false)?;
    match object.get("device_id") {
        Some(Value::String(id)) => path_device_id(id),
        Some(_) => Err(invalid("device_id", "must be a string")),
        None => Err(invalid("device_id", "is required")),
    }
}

/// A validated rotation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotateRequest {
    /// How long the old token keeps working, in seconds (default 0).
    pub grace_seconds: u64,
    /// Extension: the lowercase hex SHA-256 of a new token the client generated itself. The hub then never
    /// sees the token, and repeating the request is safe: a rotation to the hash the device already has changes
    /// nothing.
    pub token_sha256: Option<String>,
}

/// The body of a rotation: the grace period in seconds (default 0) and optionally the new token's hash.
pub fn parse_rotate(body: &str) -> Result<RotateRequest, AdminRefusal> {
    let object = parse_object(body, true)?;
    let grace_seconds = match object.get("grace_seconds") {
        None | Some(Value::Null) => 0,
        Some(value) => value
            .as_u64()
            .filter(|s| *s <= MAX_GRACE_SECONDS)
            .ok_or_else(|| {
                invalid(
                    "grace_seconds",
                    format!("must be a whole number from 0 to {MAX_GRACE_SECONDS}"),
                )
            })?,
    };
    let token_sha256 = match object.get("token_sha256") {
        None | Some(Value::Null) => None,
        Some(Value::String(hex)) if is_sha256_hex(hex) => Some(hex.clone()),
        Some(_) => {
            return Err(invalid(
                "token_sha256",
                "must be 64 lowercase hex digits: the SHA-256 of the new tdev_ token",
            ));
        }
    };
    Ok(RotateRequest {
        grace_seconds,
        token_sha256,
    })
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A validated request to create a dashboard token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDashboardToken {
    /// `*` or the covered device ids, comma-separated (the stored form).
    pub devices: String,
    /// Read or control.
    pub access: Access,
    /// Optional label.
    pub label: Option<String>,
}

/// The body of `POST /admin/dashboard-tokens`.
pub fn parse_create_dashboard_token(body: &str) -> Result<NewDashboardToken, AdminRefusal> {
    let object = parse_object(body, false)?;
    let devices = match object.get("devices") {
        Some(Value::String(star)) if star == "*" => "*".to_owned(),
        Some(Value::Array(ids)) if !ids.is_empty() && ids.len() <= MAX_SCOPE_DEVICES => {
            let mut parsed: Vec<String> = Vec::with_capacity(ids.len());
            for id in ids {
                let id = id
                    .as_str()
                    .ok_or_else(|| invalid("devices", "device ids must be strings"))?;
                let id = path_device_id(id)
                    .map_err(|_| invalid("devices", format!("invalid device id {id:?}")))?;
                if !parsed.iter().any(|p| p == id.as_str()) {
                    parsed.push(id.to_string());
                }
            }
            parsed.join(",")
        }
        None => {
            return Err(invalid(
                "devices",
                "is required: \"*\" or a list of device ids",
            ));
        }
        Some(_) => {
            return Err(invalid(
                "devices",
                format!("must be \"*\" or a list of 1 to {MAX_SCOPE_DEVICES} device ids"),
            ));
        }
    };
    let access = match object.get("access").and_then(Value::as_str) {
        Some("read") => Access::Read,
        Some("control") => Access::Control,
        _ => return Err(invalid("access", "must be \"read\" or \"control\"")),
    };
    let label = match object.get("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(label)) if label_is_valid(label) => Some(label.clone()),
        Some(_) => {
            return Err(invalid(
                "label",
                format!(
                    "must be a string of 1 to {MAX_LABEL_LEN} characters without control characters"
                ),
            ));
        }
    };
    Ok(NewDashboardToken {
        devices,
        access,
        label,
    })
}

fn label_is_valid(label: &str) -> bool {
    let count = label.chars().count();
    (1..=MAX_LABEL_LEN).contains(&count) && !label.chars().any(char::is_control)
}

/// Parses a JSON object body; an empty body is `{}` when `empty_ok`.
fn parse_object(
    body: &str,
    empty_ok: bool,
) -> Result<serde_json::Map<String, Value>, AdminRefusal> {
    if body.len() > MAX_BODY_BYTES {
        return Err(invalid(
            "body",
            format!("must be at most {MAX_BODY_BYTES} bytes"),
        ));
    }
    if body.trim().is_empty() && empty_ok {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(invalid("body", "must be a JSON object")),
        Err(e) => Err(invalid("body", format!("invalid JSON: {e}"))),
    }
}

/// `GET /admin/devices` answer row, merged from D1 and the device's Durable Object.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct DeviceSummary {
    /// The device id.
    pub device_id: String,
    /// When it was created.
    pub created_at: String,
    /// When it was disabled, or null.
    pub disabled_at: Option<String>,
    /// Until when the previous token still works after a rotation, or null.
    pub previous_token_valid_until: Option<String>,
    /// Whether the device is connected now.
    pub online: bool,
    /// When the hub last heard from it (connect, sample or disconnect), or null.
    pub last_seen: Option<String>,
    /// Highest seq accepted in the current epoch, or null.
    pub last_seq: Option<u64>,
    /// Extension: a credential change (rotate, disable, enable) committed in D1 that the device's Durable Object
    /// has not confirmed yet; the hub retries every minute until it has.
    pub sync_pending: bool,
    /// Extension: what the device's Durable Object wrote and read since it last started (rows as billed, history
    /// groups and samples written, alarms set, database size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<crate::storage_meter::StorageMeter>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> DeviceId {
        DeviceId::parse(raw).expect("valid")
    }

    fn field(result: Result<impl std::fmt::Debug, AdminRefusal>) -> &'static str {
        match result {
            Err(AdminRefusal::Invalid { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn create_device_body() {
        assert_eq!(
            parse_create_device(r#"{"device_id":"ems_001"}"#),
            Ok(id("ems_001"))
        );
        assert_eq!(field(parse_create_device("{}")), "device_id");
        assert_eq!(
            field(parse_create_device(r#"{"device_id":7}"#)),
            "device_id"
        );
        assert_eq!(
            field(parse_create_device(r#"{"device_id":"a b"}"#)),
            "device_id"
        );
        assert_eq!(field(parse_create_device("not json")), "body");
        assert_eq!(field(parse_create_device("[]")), "body");
        assert_eq!(field(parse_create_device("")), "body");
    }

    fn grace(seconds: u64) -> Result<RotateRequest, AdminRefusal> {
        Ok(RotateRequest {
            grace_seconds: seconds,
            token_sha256: None,
        })
    }

    #[test]
    fn rotate_body() {
        assert_eq!(parse_rotate(""), grace(0));
        assert_eq!(parse_rotate("{}"), grace(0));
        assert_eq!(parse_rotate(r#"{"grace_seconds":3600}"#), grace(3600));
        let hash = "ab".repeat(32);
        assert_eq!(
            parse_rotate(&format!(r#"{{"token_sha256":"{hash}"}}"#)),
            Ok(RotateRequest {
                grace_seconds: 0,
                token_sha256: Some(hash)
            })
        );
        let upper = format!("\"{}\"", "AB".repeat(32));
        for bad in [upper.as_str(), "\"ab\"", "7"] {
            assert_eq!(
                field(parse_rotate(&format!(r#"{{"token_sha256":{bad}}}"#))),
                "token_sha256"
            );
        }
        assert_eq!(
            field(parse_rotate(r#"{"grace_seconds":-1}"#)),
            "grace_seconds"
        );
        assert_eq!(
            field(parse_rotate(r#"{"grace_seconds":"1h"}"#)),
            "grace_seconds"
        );
        assert_eq!(
            field(parse_rotate(&format!(
                r#"{{"grace_seconds":{}}}"#,
                MAX_GRACE_SECONDS + 1
            ))),
            "grace_seconds"
        );
    }

    #[test]
    fn dashboard_token_body() {
        let all =
            parse_create_dashboard_token(r#"{"devices":"*","access":"read"}"#).expect("valid");
        assert_eq!(
            (all.devices.as_str(), all.access, all.label),
            ("*", Access::Read, None)
        );
        let some = parse_create_dashboard_token(
            r#"{"devices":["a","b","a"],"access":"control","label":"ops"}"#,
        )
        .expect("valid");
        assert_eq!(
            (some.devices.as_str(), some.label.as_deref()),
            ("a,b", Some("ops"))
        );
        assert_eq!(
            field(parse_create_dashboard_token(r#"{"access":"read"}"#)),
            "devices"
        );
        assert_eq!(
            field(parse_create_dashboard_token(
                r#"{"devices":[],"access":"read"}"#
            )),
            "devices"
        );
        assert_eq!(
            field(parse_create_dashboard_token(
                r#"{"devices":["a,b"],"access":"read"}"#
            )),
            "devices"
        );
        assert_eq!(
            field(parse_create_dashboard_token(
                r#"{"devices":"*","access":"write"}"#
            )),
            "access"
        );
        assert_eq!(
            field(parse_create_dashboard_token(
                r#"{"devices":"*","access":"read","label":"a\nb"}"#
            )),
            "label"
        );
        assert_eq!(
            field(parse_create_dashboard_token(
                r#"{"devices":"*","access":"read","label":""}"#
            )),
            "label"
        );
    }
}
