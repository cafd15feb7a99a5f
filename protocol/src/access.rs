//! Access levels of a dashboard token: what it may do on the devices in its scope.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a dashboard token may do on the devices in its scope. Serialised as `"read"` or `"control"`, the word
/// stored in D1's `dashboard_tokens.access` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Receive telemetry and presence (watch only).
    Read,
    /// Read, and send commands to the devices.
    Control,
}

/// A word that is neither `read` nor `control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownAccess;

impl fmt::Display for UnknownAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("access must be \"read\" or \"control\"")
    }
}

impl std::error::Error for UnknownAccess {}

impl Access {
    /// Every level, weakest first.
    pub const ALL: [Access; 2] = [Access::Read, Access::Control];

    /// The wire and stored word: `read` or `control`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Control => "control",
        }
    }

    /// Whether this level may send commands.
    pub const fn may_command(self) -> bool {
        matches!(self, Self::Control)
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Access {
    type Err = UnknownAccess;

    /// Exactly `read` or `control` (case matters, as on the wire).
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|access| access.as_str() == raw)
            .ok_or(UnknownAccess)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_back_and_match_serde() {
        for access in Access::ALL {
            assert_eq!(access.as_str().parse::<Access>(), Ok(access));
            let json = serde_json::to_string(&access).expect("json");
            assert_eq!(json, format!("\"{access}\""));
        }
        assert_eq!("Read".parse::<Access>(), Err(UnknownAccess));
        assert_eq!("write".parse::<Access>(), Err(UnknownAccess));
        assert!(Access::Control.may_command() && !Access::Read.may_command());
    }
}
