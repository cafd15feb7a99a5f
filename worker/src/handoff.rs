//! The gateway's handoff of a handshake to the device's Durable Object, and the object's answer when it does not
//! accept: one typed value each way, encoded and decoded here only.

use serde::{Deserialize, Serialize};
use telemetry_protocol::DeviceId;

use crate::access::Denial;

/// The internal header that carries a [`Handoff`] as JSON.
pub const HANDOFF_HEADER: &str = "X-Hub-Handoff";

/// Who is connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The device itself.
    Device,
    /// A watcher of the device.
    Dashboard,
}

/// A handshake the gateway found well-formed, for the device's object to decide. It carries the token's hash,
/// never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    /// Device or dashboard.
    pub role: Role,
    /// The device the path names (validated).
    pub device_id: String,
    /// Lowercase hex SHA-256 of the presented token.
    pub token_sha256: String,
    /// Whether the 101 must select `telemetry.v1`.
    pub select_subprotocol: bool,
    /// Whether the object may look the credential up in D1: the gateway sets it only after the client's address
    /// cleared the failed-authentication guard.
    pub lookup: bool,
    /// Devices: the handshake asked for `stored` messages (`Telemetry-Ack: stored`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub stored_acks: bool,
    /// Test fault (`HUB_TEST_FAULTS`): hold a D1 lookup's answer this long before using it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hold_lookup_ms: u64,
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl Handoff {
    /// The header value.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a header value; `None` if it is not a handoff for a valid device id.
    pub fn decode(text: &str) -> Option<Self> {
        let handoff: Handoff = serde_json::from_str(text).ok()?;
        DeviceId::parse(&handoff.device_id).ok()?;
        (handoff.token_sha256.len() == 64).then_some(handoff)
    }

    /// The device id, validated by [`Handoff::decode`].
    pub fn device(&self) -> Option<DeviceId> {
        DeviceId::parse(&self.device_id).ok()
    }
}

/// The object's answer to a handoff it did not accept with a 101.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum ConnectVerdict {
    /// Its copy cannot decide; ask again with `lookup` once the guard allows it.
    NeedsLookup,
    /// D1 says no (the client gets the same 403 whatever the reason).
    Denied {
        /// Why, for the log.
        reason: Denial,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handoff() -> Handoff {
        Handoff {
            role: Role::Dashboard,
            device_id: "ems_001".into(),
            token_sha256: "ab".repeat(32),
            select_subprotocol: true,
            lookup: false,
            stored_acks: false,
            hold_lookup_ms: 0,
        }
    }

    #[test]
    fn round_trips_through_the_header() {
        let original = handoff();
        let text = original.encode();
        assert!(
            !text.contains("hold_lookup_ms"),
            "faults stay out unless set"
        );
        assert_eq!(Handoff::decode(&text), Some(original));
    }

    #[test]
    fn refuses_what_the_gateway_never_sends() {
        let mut bad_id = handoff();
        bad_id.device_id = "a b".into();
        assert_eq!(Handoff::decode(&bad_id.encode()), None);
        let mut short_hash = handoff();
        short_hash.token_sha256 = "ab".into();
        assert_eq!(Handoff::decode(&short_hash.encode()), None);
        assert_eq!(Handoff::decode("{}"), None);
        assert_eq!(Handoff::decode("not json"), None);
    }

    #[test]
    fn verdicts_have_a_stable_shape() {
        let denied = ConnectVerdict::Denied {
            reason: Denial::WrongToken,
        };
        let text = serde_json::to_string(&denied).expect("json");
        assert_eq!(text, r#"{"verdict":"denied","reason":"wrong_token"}"#);
        assert_eq!(
            serde_json::from_str::<ConnectVerdict>(r#"{"verdict":"needs_lookup"}"#).expect("parse"),
            ConnectVerdict::NeedsLookup
        );
    }
}
