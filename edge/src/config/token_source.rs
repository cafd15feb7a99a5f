//! Where the device token comes from, first found wins: the file named by `api_token_file`, then systemd's
//! credential `$CREDENTIALS_DIRECTORY/api_token` (`LoadCredential=api_token:…`), then the `api_token` key
//! (`API_TOKEN` in the environment, the fallback for development).
//!
//! [`choose`] is the pure rule; [`resolve`] reads the file it picks. A file is read whole (one token, the trailing
//! newline trimmed), must not be empty, and draws a warning when its mode is wider than 0640. No message here
//! ever contains the token: errors name the file and the problem.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::ConfigError;
use crate::token::ApiToken;

/// The credential's name in `$CREDENTIALS_DIRECTORY`, as in `LoadCredential=api_token:/etc/edge-agent/api_token`.
pub const CREDENTIAL_NAME: &str = "api_token";

/// The variable systemd sets to the directory of the unit's credentials.
pub(super) const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// Largest token file read, in bytes: a token is 54 characters; more is not a token file.
const MAX_FILE_BYTES: u64 = 4096;

/// Permission bits a token file may have without a warning: 0640 (systemd's own credentials are 0400 or 0440).
const QUIET_MODE: u32 = 0o640;

/// The config key of the token file, with its plain variable.
const FILE_KEY: &str = "api_token_file (API_TOKEN_FILE)";

/// The key named when the systemd credential cannot be used.
const CREDENTIAL_KEY: &str = "api_token (systemd credential)";

/// The config key of an inline token, with its plain variable.
const INLINE_KEY: &str = "api_token (API_TOKEN)";

/// Where the device token was read from: logged at start, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// The file named by `api_token_file` (`API_TOKEN_FILE`).
    File(PathBuf),
    /// systemd's credential, `$CREDENTIALS_DIRECTORY/api_token`.
    Credential(PathBuf),
    /// The `API_TOKEN` environment variable.
    Environment,
    /// The `api_token` key of the config file.
    ConfigFile,
}

/// Where the token came from and what an operator should hear about it (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOrigin {
    /// The source used.
    pub source: TokenSource,
    /// Things worth a warning: a token given twice, a file readable by others, a token in the environment.
    pub warnings: Vec<String>,
}

impl TokenOrigin {
    /// Logs the source at info and each warning at warn; call once at start.
    pub fn log(&self) {
        match &self.source {
            TokenSource::File(path) => {
                tracing::info!(file = %path.display(), "device token read from api_token_file")
            }
            TokenSource::Credential(path) => {
                tracing::info!(file = %path.display(), "device token read from the systemd credential")
            }
            TokenSource::Environment => tracing::info!("device token read from API_TOKEN"),
            TokenSource::ConfigFile => {
                tracing::info!("device token read from the config file's api_token")
            }
        }
        for warning in &self.warnings {
            tracing::warn!("{warning}");
        }
    }
}

/// What is known about the token before any file is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct TokenInputs {
    /// `api_token_file`, if set and not empty.
    pub file: Option<PathBuf>,
    /// `$CREDENTIALS_DIRECTORY/api_token`, if that file exists.
    pub credential: Option<PathBuf>,
    /// `api_token`, if set and not blank.
    pub inline: Option<String>,
    /// Whether `API_TOKEN` was in the environment (else an inline token is from the config file).
    pub inline_from_env: bool,
}

/// The source [`choose`] picked.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Choice {
    /// Read the token from the file named by `api_token_file`.
    File(PathBuf),
    /// Read the token from systemd's credential file.
    Credential(PathBuf),
    /// Use the `api_token` value, from this source.
    Inline(TokenSource),
}

/// The precedence rule: `api_token_file`, then the systemd credential, then `api_token`; with the warnings the
/// choice deserves. Pure.
pub(super) fn choose(inputs: &TokenInputs) -> Result<(Choice, Vec<String>), ConfigError> {
    let mut warnings = Vec::new();
    let (choice, path) = match (&inputs.file, &inputs.credential) {
        (Some(file), credential) => {
            if let Some(credential) = credential {
                warnings.push(format!(
                    "the systemd credential {} is ignored: api_token_file names {}",
                    credential.display(),
                    file.display()
                ));
            }
            (Choice::File(file.clone()), file)
        }
        (None, Some(credential)) => (Choice::Credential(credential.clone()), credential),
        (None, None) => return choose_inline(inputs),
    };
    if inputs.inline.is_some() {
        warnings.push(format!(
            "{} is set too and ignored: the token is read from {}",
            inline_name(inputs),
            path.display()
        ));
    }
    Ok((choice, warnings))
}

/// The rule when no file is named: the `api_token` value, with a warning if it is in the environment.
fn choose_inline(inputs: &TokenInputs) -> Result<(Choice, Vec<String>), ConfigError> {
    if inputs.inline.is_none() {
        return Err(ConfigError::invalid(
            INLINE_KEY,
            "is missing; put the token in a file named by api_token_file, in the systemd credential \
             api_token (LoadCredential=), or, for development, in API_TOKEN",
        ));
    }
    if !inputs.inline_from_env {
        return Ok((Choice::Inline(TokenSource::ConfigFile), Vec::new()));
    }
    let warning = "the device token comes from the environment (API_TOKEN), which processes of the same \
                   user can read; on a device use api_token_file or systemd's LoadCredential=api_token:…";
    Ok((
        Choice::Inline(TokenSource::Environment),
        vec![warning.to_owned()],
    ))
}

/// How the inline token was given, for a warning.
fn inline_name(inputs: &TokenInputs) -> &'static str {
    if inputs.inline_from_env {
        "API_TOKEN"
    } else {
        "api_token in the config file"
    }
}

/// Picks the source by [`choose`] and reads the token from it.
pub(super) fn resolve(inputs: &TokenInputs) -> Result<(ApiToken, TokenOrigin), ConfigError> {
    let (choice, mut warnings) = choose(inputs)?;
    let (key, path, source) = match choice {
        Choice::File(path) => (FILE_KEY, path.clone(), TokenSource::File(path)),
        Choice::Credential(path) => (CREDENTIAL_KEY, path.clone(), TokenSource::Credential(path)),
        Choice::Inline(source) => {
            let text = inputs.inline.as_deref().unwrap_or_default();
            let token = ApiToken::parse(text)
                .map_err(|e| ConfigError::invalid(INLINE_KEY, e.to_string()))?;
            return Ok((token, TokenOrigin { source, warnings }));
        }
    };
    let (token, wide_mode) =
        read_token_file(&path).map_err(|reason| ConfigError::invalid(key, reason))?;
    warnings.extend(wide_mode);
    Ok((token, TokenOrigin { source, warnings }))
}

/// The credential file in `directory` (the value of `CREDENTIALS_DIRECTORY`), if it exists.
pub(super) fn credential_in(directory: Option<&str>) -> Option<PathBuf> {
    let directory = directory.filter(|d| !d.trim().is_empty())?;
    let path = Path::new(directory).join(CREDENTIAL_NAME);
    path.exists().then_some(path)
}

/// Reads one token from `path`, with a warning if the file's mode is wider than [`QUIET_MODE`]. The error
/// names the file and the problem, never the content.
fn read_token_file(path: &Path) -> Result<(ApiToken, Option<String>), String> {
    let shown = path.display();
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !metadata.is_file() {
        return Err(format!("{shown} is not a regular file"));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{shown} is {} bytes; a token file holds one token",
            metadata.len()
        ));
    }
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|file| file.take(MAX_FILE_BYTES).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.trim().is_empty() {
        return Err(format!(
            "{shown} is empty; it must hold the device token (tdev_…)"
        ));
    }
    let token =
        ApiToken::parse(text).map_err(|e| format!("{shown} does not hold a device token: {e}"))?;
    Ok((token, mode_warning(path, &metadata)))
}

/// A warning if others, or the group beyond reading, may use the file.
#[cfg(unix)]
fn mode_warning(path: &Path, metadata: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    (mode & !QUIET_MODE != 0).then(|| {
        format!(
            "the token file {} has mode {mode:04o}, wider than {QUIET_MODE:04o}: run chmod 600 on it",
            path.display()
        )
    })
}

#[cfg(not(unix))]
fn mode_warning(_path: &Path, _metadata: &std::fs::Metadata) -> Option<String> {
    None
}

#[cfg(test)]
mod tests;
