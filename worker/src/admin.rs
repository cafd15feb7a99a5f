//! The admin API's pure half: the validated bodies of its requests and the refusals they get. Which operation a
//! path names is decided with every other route in `route.rs`.

use serde_json::Value;
use telemetry_protocol::DeviceId;
use telemetry_protocol::admin::{
    CreateDashboardTokenRequest, CreateDeviceRequest, DeviceScope, RotateDeviceRequest,
};
use telemetry_protocol::limits::{
    MAX_ADMIN_BODY_BYTES, MAX_GRACE_SECONDS, MAX_LABEL_CHARS, MAX_SCOPE_DEVICES,
};

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
pub fn parse_create_device(body: &str) -> Result<CreateDeviceRequest, AdminRefusal> {
    let object = parse_object(body, false)?;
    let device_id = match object.get("device_id") {
        Some(Value::String(id)) => path_device_id(id)?,
        Some(_) => return Err(invalid("device_id", "must be a string")),
        None => return Err(invalid("device_id", "is required")),
    };
    Ok(CreateDeviceRequest { device_id })
}

/// The body of a rotation: the grace period in seconds (default 0) and optionally the new token's hash.
pub fn parse_rotate(body: &str) -> Result<RotateDeviceRequest, AdminRefusal> {
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
    Ok(RotateDeviceRequest {
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

/// The body of `POST /admin/dashboard-tokens`.
/// A list of device ids is deduplicated in order.
pub fn parse_create_dashboard_token(
    body: &str,
) -> Result<CreateDashboardTokenRequest, AdminRefusal> {
    let object = parse_object(body, false)?;
    let devices = match object.get("devices") {
        Some(Value::String(star)) if star == "*" => DeviceScope::All,
        Some(Value::Array(ids)) if !ids.is_empty() && ids.len() <= MAX_SCOPE_DEVICES => {
            let mut parsed: Vec<DeviceId> = Vec::with_capacity(ids.len());
            for id in ids {
                let id = id
                    .as_str()
                    .ok_or_else(|| invalid("devices", "device ids must be strings"))?;
                let id = path_device_id(id)
                    .map_err(|_| invalid("devices", format!("invalid device id {id:?}")))?;
                if !parsed.contains(&id) {
                    parsed.push(id);
                }
            }
            DeviceScope::Devices(parsed)
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
    let access = object
        .get("access")
        .and_then(Value::as_str)
        .and_then(|word| word.parse().ok())
        .ok_or_else(|| invalid("access", "must be \"read\" or \"control\""))?;
    let label = match object.get("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(label)) if label_is_valid(label) => Some(label.clone()),
        Some(_) => {
            return Err(invalid(
                "label",
                format!(
                    "must be a string of 1 to {MAX_LABEL_CHARS} characters without control characters"
                ),
            ));
        }
    };
    Ok(CreateDashboardTokenRequest {
        devices,
        access,
        label,
    })
}

fn label_is_valid(label: &str) -> bool {
    let count = label.chars().count();
    (1..=MAX_LABEL_CHARS).contains(&count) && !label.chars().any(char::is_control)
}

/// Parses a JSON object body; an empty body is `{}` when `empty_ok`.
fn parse_object(
    body: &str,
    empty_ok: bool,
) -> Result<serde_json::Map<String, Value>, AdminRefusal> {
    if body.len() > MAX_ADMIN_BODY_BYTES {
        return Err(invalid(
            "body",
            format!("must be at most {MAX_ADMIN_BODY_BYTES} bytes"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use telemetry_protocol::Access;

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
            parse_create_device(r#"{"device_id":"ems_001"}"#).map(|body| body.device_id),
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

    fn grace(seconds: u64) -> Result<RotateDeviceRequest, AdminRefusal> {
        Ok(RotateDeviceRequest {
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
            Ok(RotateDeviceRequest {
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
            (all.devices.stored().as_str(), all.access, all.label),
            ("*", Access::Read, None)
        );
        let some = parse_create_dashboard_token(
            r#"{"devices":["a","b","a"],"access":"control","label":"ops"}"#,
        )
        .expect("valid");
        assert_eq!(
            (some.devices.stored().as_str(), some.label.as_deref()),
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
