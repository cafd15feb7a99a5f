//! What the gateway hands a device's Durable Object: a handshake to decide (and the object's verdict when it does
//! not accept), and a history query to answer. Each is one typed value, encoded and decoded here only.

use serde::{Deserialize, Serialize};
use telemetry_protocol::DeviceId;

use crate::access::{Denial, TokenHash};
use crate::history::HistoryQuery;

/// The internal header that carries a [`Handoff`] as JSON; only [`Handoff::to_header`] and
/// [`Handoff::from_headers`] name it.
const HANDOFF_HEADER: &str = "X-Hub-Handoff";

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
    /// The device the path names.
    pub device_id: DeviceId,
    /// SHA-256 of the presented token (lowercase hex on the wire).
    #[serde(rename = "token_sha256", with = "hash_hex")]
    pub token_hash: TokenHash,
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

/// Why a request to a device object carried no usable handoff. The gateway never sends one; the object answers
/// 400 instead of guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedHandoff {
    /// The header is absent.
    #[error("no {HANDOFF_HEADER} header")]
    Missing,
    /// The header is not a handoff (bad JSON, a missing field, a bad device id or hash).
    #[error("malformed {HANDOFF_HEADER} header: {0}")]
    Invalid(String),
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl Handoff {
    /// The one header (name, value) that carries this handoff to the device's object.
    pub fn to_header(&self) -> (&'static str, String) {
        // A struct of strings, numbers and booleans always serialises.
        let value = serde_json::to_string(self).unwrap_or_default();
        (HANDOFF_HEADER, value)
    }

    /// Reads the handoff from a request's headers; `header` looks one up by name.
    pub fn from_headers(
        header: impl FnOnce(&str) -> Option<String>,
    ) -> Result<Self, MalformedHandoff> {
        let text = header(HANDOFF_HEADER).ok_or(MalformedHandoff::Missing)?;
        serde_json::from_str(&text).map_err(|e| MalformedHandoff::Invalid(e.to_string()))
    }
}

/// `TokenHash` as lowercase hex, the form D1 stores.
mod hash_hex {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::access::TokenHash;

    pub fn serialize<S: Serializer>(hash: &TokenHash, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hash.to_hex())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<TokenHash, D::Error> {
        let text = String::deserialize(deserializer)?;
        TokenHash::from_hex(&text).ok_or_else(|| D::Error::custom("not 64 hex digits"))
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

/// `POST /history` to the device's object: a validated query of an authorised dashboard token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRequest {
    /// The device (the object does not otherwise know its own name).
    pub device_id: DeviceId,
    /// The query.
    pub query: HistoryQuery,
}

#[cfg(test)]
mod tests;
