//! The agent's configuration: one typed [`AgentConfig`], built once from embedded defaults, then a TOML file,
//! then the environment, and validated into a `Result` whose error names the bad key.
//!
//! Environment: the plain `DEVICE_ID`, `API_TOKEN`, `API_TOKEN_FILE` and `SERVER_URL` (what a `.env` file or a
//! systemd `EnvironmentFile=` provides), systemd's `CREDENTIALS_DIRECTORY` (see [`TokenSource`] for where the
//! token comes from) and, for every other key, `EDGE_` plus the key in capitals with `__` between
//! table and key: `EDGE_SAMPLE_INTERVAL_SECS=5`, `EDGE_STORE__PATH=/data/samples`,
//! `EDGE_CONNECTION__PING_INTERVAL_SECS=20`, `EDGE_GPIO_OUTPUTS=17,27`. The plain names win over `EDGE_` ones.
//! An `EDGE_` name that is not such a key is refused before it is read; other variables are ignored.

mod env_names;
mod load_message;
mod token_source;
mod validate;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::builder::DefaultState;
use config::{Config, ConfigBuilder, Environment, File, FileFormat};
use telemetry_protocol::DeviceId;

use crate::backoff::BackoffPolicy;
use crate::endpoint::HubEndpoint;
use crate::log_format::LogFormat;
use crate::sensors::SensorConfig;
use crate::token::ApiToken;
pub use token_source::{CREDENTIAL_NAME, TokenOrigin, TokenSource};

/// Where the agent looks for its config file when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/edge-agent/config.toml";

/// The built-in defaults, lowest layer of every config.
pub const DEFAULTS_TOML: &str = r#"
allow_insecure = false
sample_interval_secs = 1
gpio_outputs = []
log_format = "text"

[store]
path = "/var/lib/edge-agent/samples"
max_samples = 86400
sync_interval_secs = 0
segment_kib = 1024

[connection]
connect_timeout_secs = 10
ping_interval_secs = 20
read_timeout_secs = 45
ack_timeout_secs = 30
backoff_base_secs = 1
backoff_cap_secs = 60
backoff_reset_after_secs = 30
fast_retry_secs = 60

[metrics]
listen = ""
allow_remote = false
"#;

/// Environment variables read under their plain names, and the key each sets.
const PLAIN_ENV: [(&str, &str); 4] = [
    ("DEVICE_ID", "device_id"),
    ("API_TOKEN", "api_token"),
    ("API_TOKEN_FILE", "api_token_file"),
    ("SERVER_URL", "server_url"),
];

/// A configuration that could not be loaded. Every message names the key, the variable or the file, and none shows
/// the token.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is missing or out of range.
    #[error("config key {key}: {reason}")]
    Invalid {
        /// The key, e.g. `store.max_samples` or `api_token (API_TOKEN)`.
        key: String,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// An environment variable has the `EDGE_` prefix but its name is not a config key (`EDGE_X[1]`, `EDGE_A.B`,
    /// `EDGE_A__B__C`), so it was not read.
    #[error("environment variable {name} is not a config key: {reason}")]
    Variable {
        /// The variable's name, quoted, and cut short if long; never its value.
        name: String,
        /// What is wrong with it and what is expected.
        reason: String,
    },
    /// The file could not be read or parsed, or a value has the wrong type. The message names the key, or the file
    /// with line and column; it quotes no line of the file, and anything shaped like a token in it is hidden.
    #[error("{0}")]
    Load(String),
}

impl ConfigError {
    pub(crate) fn invalid(key: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The validated configuration of the agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfig {
    /// This device's id (`device_id`, `DEVICE_ID`).
    pub device_id: DeviceId,
    /// The device token, from `api_token_file`, systemd's credential or `api_token` (`API_TOKEN`), in that
    /// order; never printed.
    pub api_token: ApiToken,
    /// Where the token was read from, and any warnings about it, to log at start.
    pub api_token_origin: TokenOrigin,
    /// The hub's base URL (`server_url`, `SERVER_URL`).
    pub server: HubEndpoint,
    /// An extra PEM file of CA certificates to trust, for a private hub (`ca_file`).
    pub ca_file: Option<PathBuf>,
    /// Time between samples (`sample_interval_secs`, fractions allowed, default 1).
    pub sample_interval: Duration,
    /// BCM pins that `gpio_write` commands may drive (`gpio_outputs`, default none).
    pub gpio_outputs: Vec<u8>,
    /// Where and how many samples are kept (`[store]`).
    pub store: StoreConfig,
    /// Timeouts, heartbeat and backoff (`[connection]`).
    pub connection: ConnectionConfig,
    /// What to measure (`[[sensors]]`, default one simulated sensor).
    pub sensors: Vec<SensorConfig>,
    /// How log lines look (`log_format`, `text` or `json`, default `text`); `--log-format` overrides it.
    pub log_format: LogFormat,
    /// The Prometheus endpoint (`[metrics]`).
    pub metrics: MetricsConfig,
}

/// The `[metrics]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetricsConfig {
    /// Where `GET /metrics` is served (`listen`, an IP address and port such as `127.0.0.1:9187`; empty, the
    /// default, for no endpoint). An address that is not loopback needs `allow_remote = true`.
    pub listen: Option<SocketAddr>,
}

/// The `[store]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// The store's directory (`path`, default `/var/lib/edge-agent/samples`).
    pub path: PathBuf,
    /// Most samples kept; beyond it the oldest are dropped (`max_samples`, default 86,400: a day at 1 Hz).
    pub max_samples: u64,
    /// Zero: every sample is synced to disk before it is sent. Otherwise syncs are grouped this far apart
    /// (`sync_interval_secs`, default 0): far less wear, and a power cut loses up to this much.
    pub sync_interval: Duration,
    /// Size of each log segment file (`segment_kib`, default 1024 KiB).
    pub segment_bytes: u64,
}

/// The `[connection]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// TCP + TLS + upgrade must finish within this (`connect_timeout_secs`, default 10).
    pub connect_timeout: Duration,
    /// The text ping `{"type":"ping"}` goes out this often (`ping_interval_secs`, default 20); the hub reports a
    /// device offline after 45 s without a frame or a ping, so keep it well under that.
    pub ping_interval: Duration,
    /// With nothing read for this long the socket is dropped (`read_timeout_secs`, default 45).
    pub read_timeout: Duration,
    /// Samples in flight this long without an ack drop the socket (`ack_timeout_secs`, default 30).
    pub ack_timeout: Duration,
    /// Reconnect backoff (`backoff_base_secs` 1, `backoff_cap_secs` 60) and fast retries after a lost
    /// connection (`fast_retry_secs` 60, 0 for none).
    pub backoff: BackoffPolicy,
    /// A connection up this long resets the backoff (`backoff_reset_after_secs`, default 30).
    pub backoff_reset_after: Duration,
}

/// Where to read the config file from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigFile {
    /// No file: defaults and environment only.
    None,
    /// This file if it exists (the default path).
    Optional(PathBuf),
    /// This file, which must exist (given with `--config`).
    Required(PathBuf),
}

impl ConfigFile {
    /// The file's path, if there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::None => None,
            Self::Optional(path) | Self::Required(path) => Some(path),
        }
    }
}

impl AgentConfig {
    /// Builds the config from the defaults, `file` and `env` (the process environment in production, a map in
    /// tests), and validates it.
    pub fn load(
        file: &ConfigFile,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = env.into_iter().collect();
        env_names::check(env.keys().map(String::as_str))?;
        let credentials = env.get(token_source::CREDENTIALS_DIRECTORY);
        let credential = token_source::credential_in(credentials.map(String::as_str));
        let token_in_env = env.get("API_TOKEN").is_some_and(|t| !t.trim().is_empty());
        let raw: validate::RawConfig = layers(file, env)?
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|error| load_error(&error, file))?;
        raw.validate(credential, token_in_env)
    }

    /// Only the store's directory (`store.path`) from the same layers, for `edge-agent status`, which must
    /// work without the device's id or token.
    pub fn load_store_path(
        file: &ConfigFile,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<PathBuf, ConfigError> {
        let env: HashMap<String, String> = env.into_iter().collect();
        layers(file, env)?
            .build()
            .and_then(|config| config.get::<PathBuf>("store.path"))
            .map_err(|error| load_error(&error, file))
    }

    /// The URL the agent connects to: `{server}/ws/device/{device_id}`.
    pub fn device_url(&self) -> String {
        self.server.device_url(&self.device_id)
    }
}

/// The defaults, then `file`, then `env` (whose names [`env_names::check`] has passed), not yet read.
fn layers(
    file: &ConfigFile,
    mut env: HashMap<String, String>,
) -> Result<ConfigBuilder<DefaultState>, ConfigError> {
    let mut builder = Config::builder().add_source(File::from_str(DEFAULTS_TOML, FileFormat::Toml));
    builder = match file {
        ConfigFile::None => builder,
        ConfigFile::Optional(path) => builder.add_source(toml_file(path).required(false)),
        ConfigFile::Required(path) => builder.add_source(toml_file(path).required(true)),
    };
    let pins = env.remove("EDGE_GPIO_OUTPUTS");
    let plain: Vec<(&str, String)> = PLAIN_ENV
        .iter()
        .filter_map(|(var, key)| env.remove(*var).map(|value| (*key, value)))
        .collect();
    builder = builder.add_source(
        Environment::with_prefix(env_names::PREFIX)
            .prefix_separator(env_names::PREFIX_SEPARATOR)
            .separator(env_names::SEPARATOR)
            .source(Some(env.into_iter().collect())),
    );
    if let Some(pins) = pins {
        builder = builder
            .set_override("gpio_outputs", validate::split_pins(&pins)?)
            .map_err(|error| load_error(&error, file))?;
    }
    for (key, value) in plain {
        builder = builder
            .set_override(key, value)
            .map_err(|error| load_error(&error, file))?;
    }
    Ok(builder)
}

fn toml_file(path: &Path) -> File<config::FileSourceFile, FileFormat> {
    File::from(path).format(FileFormat::Toml)
}

/// A [`ConfigError::Load`] whose message quotes nothing from `file` and hides anything shaped like a token.
fn load_error(error: &config::ConfigError, file: &ConfigFile) -> ConfigError {
    ConfigError::Load(load_message::describe(error, file.path()))
}

#[cfg(test)]
mod tests;
