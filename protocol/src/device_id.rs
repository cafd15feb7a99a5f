//! Device identifiers: 1 to 64 characters of `[A-Za-z0-9_-]`, checked once at every boundary.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest device id the hub accepts.
pub const MAX_DEVICE_ID_LEN: usize = 64;

/// A validated device id. It is safe to put in a URL path, a log line or an SQL literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(String);

/// Why a string is not a device id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidDeviceId {
    /// The id is the empty string.
    Empty,
    /// The id is longer than [`MAX_DEVICE_ID_LEN`] bytes.
    TooLong,
    /// The id holds a character outside `[A-Za-z0-9_-]`.
    BadCharacter,
}

impl fmt::Display for InvalidDeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self {
            Self::Empty => "device id is empty",
            Self::TooLong => "device id is longer than 64 characters",
            Self::BadCharacter => "device id may only contain A-Z, a-z, 0-9, '_' and '-'",
        };
        f.write_str(why)
    }
}

impl std::error::Error for InvalidDeviceId {}

impl DeviceId {
    /// Checks `raw` and wraps it.
    pub fn parse(raw: &str) -> Result<Self, InvalidDeviceId> {
        if raw.is_empty() {
            return Err(InvalidDeviceId::Empty);
        }
        if raw.len() > MAX_DEVICE_ID_LEN {
            return Err(InvalidDeviceId::TooLong);
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(InvalidDeviceId::BadCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeviceId {
    type Error = InvalidDeviceId;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<DeviceId> for String {
    fn from(id: DeviceId) -> Self {
        id.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DeviceId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_full_alphabet_and_length_bounds() {
        assert!(DeviceId::parse("a").is_ok());
        assert!(DeviceId::parse("ems_001-Pi").is_ok());
        assert!(DeviceId::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_foreign_characters() {
        assert_eq!(DeviceId::parse(""), Err(InvalidDeviceId::Empty));
        assert_eq!(
            DeviceId::parse(&"x".repeat(65)),
            Err(InvalidDeviceId::TooLong)
        );
        for bad in ["a b", "a/b", "a.b", "ä", "a%20", "a\n", "../x"] {
            assert_eq!(
                DeviceId::parse(bad),
                Err(InvalidDeviceId::BadCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn deserialising_validates() {
        let ok: DeviceId = serde_json::from_str("\"ems_001\"").expect("valid id");
        assert_eq!(ok.as_str(), "ems_001");
        assert!(serde_json::from_str::<DeviceId>("\"bad id\"").is_err());
    }
}
