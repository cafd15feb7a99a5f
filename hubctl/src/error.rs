//! The one error type of the hubctl library. No variant holds a token, so every message is safe to print.

use std::path::PathBuf;

use telemetry_protocol::{DeviceId, InvalidDeviceId, TokenFormatError};

/// Everything that can go wrong while provisioning.
#[derive(Debug, thiserror::Error)]
pub enum HubctlError {
    /// A device id given on the command line or to the library is not valid.
    #[error("invalid device id {raw:?}: {source}")]
    InvalidDeviceId {
        /// The text as given (an id, never a token: see [`HubctlError::DeviceIdLooksLikeToken`]).
        raw: String,
        /// Why it was rejected.
        source: InvalidDeviceId,
    },
    /// A device id argument is a well-formed token, most likely pasted in the wrong place.
    #[error(
        "a device id argument is a bearer token; refusing to use a token as an id (it was not stored)"
    )]
    DeviceIdLooksLikeToken,
    /// The same device id was given twice.
    #[error("device id {0} is given more than once")]
    DuplicateDeviceId(DeviceId),
    /// No device id was given.
    #[error("no device id given")]
    NoDevices,
    /// More devices than one batch may create.
    #[error("at most {max} devices can be created at once, {given} were given")]
    TooManyDevices {
        /// The limit, [`crate::MAX_DEVICES_PER_BATCH`].
        max: usize,
        /// How many were given.
        given: usize,
    },
    /// Devices that already exist; nothing was created.
    #[error("device already exists: {} (nothing was created)", join_ids(.0))]
    DeviceExists(Vec<DeviceId>),
    /// A dashboard scope is neither `*` nor a comma-separated list of device ids.
    #[error("invalid device scope: {0}")]
    InvalidScope(String),
    /// An access level other than `read` or `control`.
    #[error("invalid access {0:?}: expected read or control")]
    InvalidAccess(String),
    /// A dashboard token label that cannot be stored.
    #[error("invalid label: {0}")]
    InvalidLabel(&'static str),
    /// A token that fails the offline format check.
    #[error("malformed token: {0}")]
    TokenFormat(#[from] TokenFormatError),
    /// The OS random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Randomness(#[from] getrandom::Error),
    /// A file hubctl needs (wrangler config, schema) does not exist.
    #[error("{what} not found: {}", .path.display())]
    FileNotFound {
        /// What the file is for.
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// Reading input, writing the SQL file or printing failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The wrangler program could not be started.
    #[error("could not run wrangler ({}): {source}", .program.display())]
    WranglerNotRunnable {
        /// The program that was tried.
        program: PathBuf,
        /// Why it could not start.
        source: std::io::Error,
    },
    /// The D1 tables are missing.
    #[error("{0} (apply the schema first: hubctl schema apply)")]
    SchemaMissing(String),
    /// wrangler ran and reported an error; the text is what it printed (it never sees a token).
    #[error("wrangler failed: {0}")]
    Wrangler(String),
}

/// Ids joined by `, ` for a message.
fn join_ids(ids: &[DeviceId]) -> String {
    let names: Vec<&str> = ids.iter().map(DeviceId::as_str).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_exists_names_every_id() {
        let ids = ["ems_001", "ems_002"].map(|id| DeviceId::parse(id).expect("valid"));
        let shown = HubctlError::DeviceExists(ids.to_vec()).to_string();
        assert_eq!(
            shown,
            "device already exists: ems_001, ems_002 (nothing was created)"
        );
    }
}
