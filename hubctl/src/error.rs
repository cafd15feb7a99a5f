//! The one error type of the hubctl library. No variant holds a token, so every message is safe to print.

use std::path::PathBuf;

use telemetry_protocol::{DeviceId, InvalidDeviceId, TokenFormatError, TokenKind};

use crate::api_error::AdminApiError;
use crate::credential::TokenSource;

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
    /// An argument that is not a token (a path, a URL, a token id) is a well-formed token, most likely pasted
    /// in the wrong place.
    #[error(
        "the {0} argument is a bearer token; refusing to use it (tokens are never taken as arguments)"
    )]
    ArgumentLooksLikeToken(&'static str),
    /// A path argument is empty.
    #[error("the path is empty")]
    EmptyPath,
    /// The `--hub` URL (or `HUB_URL`) cannot be used; the URL itself is not repeated.
    #[error("invalid hub URL: {0}")]
    InvalidHubUrl(&'static str),
    /// A command that needs an existing token (the admin token, `dashboard watch`'s dashboard token) has none.
    #[error("no {} token: set {} or pass {} PATH", .0.kind, .0.env, .0.flag)]
    TokenMissing(TokenSource),
    /// A token from a file or the environment fails the offline check (wrong kind, length or checksum).
    #[error("the {kind} token from {origin} is malformed: {source}")]
    TokenFormatFrom {
        /// The kind expected.
        kind: TokenKind,
        /// Where it came from (the variable, or the flag and file), never the token.
        origin: String,
        /// What is wrong with it.
        source: TokenFormatError,
    },
    /// A file named to hold a token cannot be read.
    #[error("cannot read the {kind} token file {}: {source}", .path.display())]
    TokenFileRead {
        /// The kind expected.
        kind: TokenKind,
        /// The file given.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// A command that only exists through the admin API was run without a hub.
    #[error(
        "`hubctl {0}` only works through the admin API: pass --hub URL (or set HUB_URL; for `wrangler dev`, \
         http://127.0.0.1:8787) and the admin token (HUB_ADMIN_TOKEN or --admin-token-file)"
    )]
    NeedsHub(&'static str),
    /// `dashboard watch` was run without a hub URL.
    #[error(
        "`hubctl dashboard watch` needs the hub's URL: pass --hub URL (or set HUB_URL; for `wrangler dev`, \
         http://127.0.0.1:8787)"
    )]
    WatchNeedsHub,
    /// `--hub` and a flag that selects wrangler's database were both given.
    #[error(
        "--hub selects the admin API, while --local, --remote and --persist-to select wrangler's database: \
         give one or the other"
    )]
    HubAndWrangler,
    /// A flag of one path (admin API or wrangler) was given to a command that runs on the other.
    #[error("{flag} does not apply here: {why}")]
    FlagNotApplicable {
        /// The flag as typed.
        flag: &'static str,
        /// Which path the command takes instead.
        why: &'static str,
    },
    /// A `--grace` value that is not a duration of at most 30 days; the value is not repeated.
    #[error("invalid grace period: {0}")]
    InvalidGrace(&'static str),
    /// A dashboard token id that is not `dt_` and 12 lowercase hex digits.
    #[error(
        "invalid token id: a token id is dt_ followed by 12 lowercase hex digits (e.g. dt_0123456789ab)"
    )]
    InvalidTokenId,
    /// `--token-file` names an existing file.
    #[error("{} already exists; refusing to overwrite it with a token", .0.display())]
    TokenFileExists(PathBuf),
    /// `--token-file` cannot be created; nothing was created on the hub.
    #[error("cannot create the token file {}: {source} (nothing was created)", .path.display())]
    TokenFileCreate {
        /// The file given with `--token-file`.
        path: PathBuf,
        /// Why it cannot be created.
        source: std::io::Error,
    },
    /// The credential exists, but writing its token to `--token-file` failed, so the token is lost.
    #[error(
        "the credential was created, but writing its token to {} failed: {source}; the token is lost, so \
         replace the credential (hubctl device rotate, or dashboard revoke and create)", .path.display()
    )]
    TokenFileWrite {
        /// The file given with `--token-file`.
        path: PathBuf,
        /// Why the write failed.
        source: std::io::Error,
    },
    /// `--token-file` holds one token, but several devices were to be created.
    #[error("--token-file holds one token: create one device at a time with it (or use --json)")]
    TokenFileNeedsOneDevice,
    /// Through the admin API devices are created one request at a time; one failed after others succeeded.
    /// Their tokens were already printed, so nothing is lost.
    #[error(
        "stopped at device {failed}: {source}; created before it: {} (tokens shown above){}",
        join_ids(.created), not_attempted(.skipped)
    )]
    DevicesPartlyCreated {
        /// Devices created (and shown) before the failure.
        created: Vec<DeviceId>,
        /// The device whose creation failed.
        failed: DeviceId,
        /// Devices not attempted after the failure.
        skipped: Vec<DeviceId>,
        /// Why it failed.
        source: Box<HubctlError>,
    },
    /// The admin API refused a request, failed, or could not be reached.
    #[error(transparent)]
    AdminApi(#[from] AdminApiError),
}

/// Ids joined by `, ` for a message.
fn join_ids(ids: &[DeviceId]) -> String {
    let names: Vec<&str> = ids.iter().map(DeviceId::as_str).collect();
    names.join(", ")
}

/// `; not attempted: a, b` when some ids were skipped, else nothing.
fn not_attempted(ids: &[DeviceId]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!("; not attempted: {}", join_ids(ids))
    }
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
