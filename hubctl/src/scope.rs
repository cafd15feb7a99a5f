//! What a dashboard token grants: its device scope, its access level and its free-text label, validated once.

use std::collections::HashSet;
use std::fmt;

pub use telemetry_protocol::Access;
use telemetry_protocol::DeviceId;
use telemetry_protocol::admin::DeviceScope;
use telemetry_protocol::limits::MAX_LABEL_CHARS;
use telemetry_protocol::token::{TOKEN_SEPARATOR, TOKEN_TAIL_LEN, TokenKind, check_token_format};

use crate::HubctlError;

/// Devices a dashboard token covers; stored as `*` or as ids joined by commas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DashboardScope {
    /// Every device, present and future (`*`).
    All,
    /// Only these devices, in the order given, without repeats.
    Devices(Vec<DeviceId>),
}

impl DashboardScope {
    /// Parses `*` or `a,b,c`; spaces around ids are ignored, repeats are dropped, empty entries rejected.
    pub fn parse(raw: &str) -> Result<Self, HubctlError> {
        let raw = raw.trim();
        if raw == "*" {
            return Ok(Self::All);
        }
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        for part in raw.split(',').map(str::trim) {
            let id = parse_scope_id(part)?;
            if seen.insert(id.clone()) {
                ids.push(id);
            }
        }
        Ok(Self::Devices(ids))
    }

    /// The scope as the admin API takes it; an empty list is refused.
    pub fn to_wire(&self) -> Result<DeviceScope, HubctlError> {
        match self {
            Self::All => Ok(DeviceScope::All),
            Self::Devices(ids) if ids.is_empty() => {
                Err(HubctlError::InvalidScope("the device list is empty".into()))
            }
            Self::Devices(ids) => Ok(DeviceScope::Devices(ids.clone())),
        }
    }
}

/// One id of a scope list, with a message that says where the list went wrong.
fn parse_scope_id(part: &str) -> Result<DeviceId, HubctlError> {
    if part.is_empty() {
        return Err(HubctlError::InvalidScope(
            "expected * or a comma-separated list of device ids, found an empty entry".into(),
        ));
    }
    if part == "*" {
        return Err(HubctlError::InvalidScope(
            "* stands alone; it cannot be mixed with device ids".into(),
        ));
    }
    parse_device_id(part).map_err(|e| HubctlError::InvalidScope(e.to_string()))
}

/// A well-formed token, or a known token prefix followed by about a token's length (a token with a typo).
pub(crate) fn looks_like_token(raw: &str) -> bool {
    let prefixed_tail = raw
        .split_once(TOKEN_SEPARATOR)
        .filter(|(prefix, _)| TokenKind::from_prefix(prefix).is_some())
        .map(|(_, tail)| tail.len());
    check_token_format(raw).is_ok() || prefixed_tail.is_some_and(|len| len + 4 >= TOKEN_TAIL_LEN)
}

/// Parses a device id typed by a person, refusing a bearer token pasted in its place (it would be a valid id).
pub fn parse_device_id(raw: &str) -> Result<DeviceId, HubctlError> {
    if looks_like_token(raw.trim()) {
        return Err(HubctlError::DeviceIdLooksLikeToken);
    }
    DeviceId::parse(raw).map_err(|source| HubctlError::InvalidDeviceId {
        raw: raw.to_owned(),
        source,
    })
}

impl fmt::Display for DashboardScope {
    /// The stored form: `*` or `a,b,c`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("*"),
            Self::Devices(ids) => {
                let names: Vec<&str> = ids.iter().map(DeviceId::as_str).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

/// A dashboard token's label: 1 to [`MAX_LABEL_CHARS`] characters, no control or bidirectional-override
/// characters (which could disguise what a listing shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    /// Checks `raw` and wraps it.
    pub fn parse(raw: &str) -> Result<Self, HubctlError> {
        if raw.is_empty() {
            return Err(HubctlError::InvalidLabel(
                "it is empty; omit --label instead",
            ));
        }
        if raw.chars().count() > MAX_LABEL_CHARS {
            return Err(HubctlError::InvalidLabel(
                "it is longer than 200 characters",
            ));
        }
        if raw.chars().any(is_forbidden_in_label) {
            return Err(HubctlError::InvalidLabel(
                "it contains a control or bidirectional formatting character",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The label text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Control characters (C0, DEL, C1), line/paragraph separators and bidirectional formatting characters.
pub(crate) fn is_forbidden_in_label(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_parses_star_and_lists_and_displays_the_stored_form() {
        assert_eq!(
            DashboardScope::parse(" * ").expect("star"),
            DashboardScope::All
        );
        assert_eq!(DashboardScope::All.to_string(), "*");
        let list = DashboardScope::parse("ems_001, ems-002,ems_001").expect("list");
        let ids = ["ems_001", "ems-002"].map(|n| DeviceId::parse(n).expect("valid"));
        assert_eq!(list, DashboardScope::Devices(ids.to_vec()));
        assert_eq!(list.to_string(), "ems_001,ems-002");
        let bad = [
            "", ",", "a,", ",a", "a,,b", "*,a", "a,*", "a b", "a;b", "a'b", "**",
        ];
        for bad in bad {
            let refused = DashboardScope::parse(bad);
            assert!(
                matches!(refused, Err(HubctlError::InvalidScope(_))),
                "{bad:?}"
            );
        }
        let empty = DashboardScope::Devices(Vec::new()).to_wire();
        assert!(matches!(empty, Err(HubctlError::InvalidScope(_))));
    }

    #[test]
    fn device_ids_are_validated_and_tokens_refused() {
        assert_eq!(
            parse_device_id("ems_001").expect("valid").as_str(),
            "ems_001"
        );
        assert!(parse_device_id("tdev_kitchen").is_ok());
        let invalid = parse_device_id("ems 001");
        assert!(matches!(invalid, Err(HubctlError::InvalidDeviceId { .. })));
        let token = telemetry_protocol::generate_token(TokenKind::Device, |b| b.fill(7));
        let typo = format!("{}x{}", &token[..20], &token[21..]);
        for pasted in [&token, &typo] {
            let refused = parse_device_id(pasted);
            assert!(matches!(refused, Err(HubctlError::DeviceIdLooksLikeToken)));
        }
        let error = DashboardScope::parse(&format!("a,{token}")).expect_err("token in scope");
        assert!(!error.to_string().contains(&token[5..]));
    }

    #[test]
    fn labels_take_quotes_and_unicode_up_to_200_characters_without_control_or_bidi() {
        let label = "Ops' wall ✓ \"lobby\"";
        assert_eq!(Label::parse(label).expect("ok").as_str(), label);
        assert!(Label::parse(&"é".repeat(200)).is_ok());
        let long = "é".repeat(201);
        let bad = [
            "",
            &long,
            "a\nb",
            "a\rb",
            "a\0b",
            "a\tb",
            "a\u{7f}",
            "a\u{85}",
            "a\u{202E}b",
        ];
        for bad in bad.into_iter().chain(["\u{2066}x"]) {
            assert!(Label::parse(bad).is_err(), "{bad:?}");
        }
    }
}
