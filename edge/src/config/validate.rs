//! The config as read (loose types, every key optional) and the checks that turn it into an [`AgentConfig`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use telemetry_protocol::DeviceId;

use super::token_source::{self, TokenInputs};
use super::{AgentConfig, ConfigError, ConnectionConfig, MetricsConfig, StoreConfig};
use crate::backoff::BackoffPolicy;
use crate::endpoint::HubEndpoint;
use crate::gpio::{ClaimedPin, validate_output_pins};
use crate::log_format::LogFormat;
use crate::sensors::{SensorConfig, default_sensors, validate_sensors};
use crate::store::MIN_SEGMENT_BYTES;

/// Shortest sample interval, in seconds (sub-second intervals are for tests and fast sensors).
const MIN_INTERVAL_SECS: f64 = 0.01;
/// Longest sample interval, in seconds.
const MAX_INTERVAL_SECS: f64 = 3600.0;
/// Longest timeout or backoff, in seconds (a day).
const MAX_TIMEOUT_SECS: f64 = 86_400.0;
/// Most samples a store may be configured to hold.
const MAX_STORE_SAMPLES: u64 = 10_000_000;
/// Longest grouped-sync interval, in seconds.
const MAX_SYNC_INTERVAL_SECS: f64 = 3600.0;
/// Largest store segment, in KiB.
const MAX_SEGMENT_KIB: u64 = 64 * 1024;

/// Every key of the config file, as deserialised; unknown keys are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    device_id: Option<String>,
    api_token: Option<String>,
    api_token_file: Option<PathBuf>,
    server_url: Option<String>,
    allow_insecure: bool,
    ca_file: Option<PathBuf>,
    sample_interval_secs: f64,
    gpio_outputs: Vec<u8>,
    store: RawStore,
    connection: RawConnection,
    sensors: Option<Vec<SensorConfig>>,
    log_format: String,
    metrics: RawMetrics,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: String,
    allow_remote: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: PathBuf,
    max_samples: u64,
    sync_interval_secs: f64,
    segment_kib: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnection {
    connect_timeout_secs: f64,
    ping_interval_secs: f64,
    read_timeout_secs: f64,
    ack_timeout_secs: f64,
    backoff_base_secs: f64,
    backoff_cap_secs: f64,
    backoff_reset_after_secs: f64,
    fast_retry_secs: f64,
}

impl RawConfig {
    /// Checks every value; the first problem found is returned, naming its key. `credential` is systemd's token
    /// credential if there is one, `token_in_env` whether `API_TOKEN` was set (see [`token_source`]).
    pub(super) fn validate(
        self,
        credential: Option<PathBuf>,
        token_in_env: bool,
    ) -> Result<AgentConfig, ConfigError> {
        let device_id = required(self.device_id, "device_id (DEVICE_ID)")?;
        let device_id = DeviceId::parse(device_id.trim())
            .map_err(|e| ConfigError::invalid("device_id (DEVICE_ID)", e.to_string()))?;
        let (api_token, api_token_origin) = token_source::resolve(&TokenInputs {
            file: self.api_token_file.filter(|p| !p.as_os_str().is_empty()),
            credential,
            inline: self.api_token.filter(|t| !t.trim().is_empty()),
            inline_from_env: token_in_env,
        })?;
        let url = required(self.server_url, "server_url (SERVER_URL)")?;
        let server = HubEndpoint::parse(&url, self.allow_insecure)
            .map_err(|reason| ConfigError::invalid("server_url (SERVER_URL)", reason))?;
        let ca_file = self.ca_file.filter(|p| !p.as_os_str().is_empty());
        let sample_interval = seconds(
            "sample_interval_secs",
            self.sample_interval_secs,
            MIN_INTERVAL_SECS,
            MAX_INTERVAL_SECS,
        )?;
        let sensors = self.sensors.unwrap_or_else(default_sensors);
        if sensors.is_empty() {
            return Err(ConfigError::invalid(
                "sensors",
                "at least one [[sensors]] table is needed",
            ));
        }
        validate_sensors(&sensors).map_err(|e| split_key(&e))?;
        validate_output_pins(&self.gpio_outputs, &claimed_pins(&sensors))
            .map_err(|e| split_key(&e))?;
        Ok(AgentConfig {
            device_id,
            api_token,
            api_token_origin,
            server,
            ca_file,
            sample_interval,
            gpio_outputs: self.gpio_outputs,
            store: self.store.validate()?,
            connection: self.connection.validate()?,
            sensors,
            log_format: LogFormat::parse(&self.log_format)
                .map_err(|reason| ConfigError::invalid("log_format", reason))?,
            metrics: self.metrics.validate()?,
        })
    }
}

impl RawStore {
    fn validate(self) -> Result<StoreConfig, ConfigError> {
        if self.path.as_os_str().is_empty() {
            return Err(ConfigError::invalid("store.path", "must not be empty"));
        }
        if !(1..=MAX_STORE_SAMPLES).contains(&self.max_samples) {
            return Err(ConfigError::invalid(
                "store.max_samples",
                format!(
                    "must be between 1 and {MAX_STORE_SAMPLES}, got {}",
                    self.max_samples
                ),
            ));
        }
        if !(0.0..=MAX_SYNC_INTERVAL_SECS).contains(&self.sync_interval_secs) {
            return Err(ConfigError::invalid(
                "store.sync_interval_secs",
                format!(
                    "must be between 0 (sync every sample) and {MAX_SYNC_INTERVAL_SECS}, got {}",
                    self.sync_interval_secs
                ),
            ));
        }
        let min_kib = MIN_SEGMENT_BYTES / 1024;
        if !(min_kib..=MAX_SEGMENT_KIB).contains(&self.segment_kib) {
            return Err(ConfigError::invalid(
                "store.segment_kib",
                format!(
                    "must be between {min_kib} and {MAX_SEGMENT_KIB}, got {}",
                    self.segment_kib
                ),
            ));
        }
        Ok(StoreConfig {
            path: self.path,
            max_samples: self.max_samples,
            sync_interval: Duration::from_secs_f64(self.sync_interval_secs),
            segment_bytes: self.segment_kib * 1024,
        })
    }
}

impl RawMetrics {
    /// An empty `listen` is no endpoint; otherwise an IP address and port, loopback unless `allow_remote`.
    fn validate(self) -> Result<MetricsConfig, ConfigError> {
        let listen = self.listen.trim();
        if listen.is_empty() {
            return Ok(MetricsConfig { listen: None });
        }
        let key = "metrics.listen (EDGE_METRICS__LISTEN)";
        let addr: SocketAddr = listen.parse().map_err(|_| {
            ConfigError::invalid(
                key,
                format!(
                    "{listen:?} is not an IP address and port, e.g. 127.0.0.1:9187 or [::1]:9187"
                ),
            )
        })?;
        if !addr.ip().is_loopback() && !self.allow_remote {
            return Err(ConfigError::invalid(
                key,
                format!(
                    "{addr} is reachable from other machines, and the metrics carry no authentication; \
                     set metrics.allow_remote = true to serve it there anyway"
                ),
            ));
        }
        Ok(MetricsConfig { listen: Some(addr) })
    }
}

impl RawConnection {
    fn validate(self) -> Result<ConnectionConfig, ConfigError> {
        let timeout = |key: &str, value| {
            seconds(&format!("connection.{key}"), value, 0.001, MAX_TIMEOUT_SECS)
        };
        let config = ConnectionConfig {
            connect_timeout: timeout("connect_timeout_secs", self.connect_timeout_secs)?,
            ping_interval: timeout("ping_interval_secs", self.ping_interval_secs)?,
            read_timeout: timeout("read_timeout_secs", self.read_timeout_secs)?,
            ack_timeout: timeout("ack_timeout_secs", self.ack_timeout_secs)?,
            backoff: BackoffPolicy {
                base: timeout("backoff_base_secs", self.backoff_base_secs)?,
                cap: timeout("backoff_cap_secs", self.backoff_cap_secs)?,
                fast_retry_for: seconds(
                    "connection.fast_retry_secs",
                    self.fast_retry_secs,
                    0.0,
                    MAX_TIMEOUT_SECS,
                )?,
            },
            backoff_reset_after: timeout(
                "backoff_reset_after_secs",
                self.backoff_reset_after_secs,
            )?,
        };
        if config.ping_interval >= config.read_timeout {
            return Err(ConfigError::invalid(
                "connection.read_timeout_secs",
                "must be longer than connection.ping_interval_secs, or a quiet hub looks dead",
            ));
        }
        if config.backoff.base > config.backoff.cap {
            return Err(ConfigError::invalid(
                "connection.backoff_cap_secs",
                "must not be shorter than connection.backoff_base_secs",
            ));
        }
        Ok(config)
    }
}

/// The header pins the sensors use: a `gpio_input` sensor's pins, an INA2xx sensor's I2C bus pins.
fn claimed_pins(sensors: &[SensorConfig]) -> Vec<ClaimedPin> {
    let claims = sensors.iter().enumerate().map(|(i, sensor)| match sensor {
        SensorConfig::GpioInput(config) => ClaimedPin::gpio_input(i, &config.pins),
        SensorConfig::Ina219(config) => ClaimedPin::i2c(i, "ina219", config.bus),
        SensorConfig::Ina226(config) => ClaimedPin::i2c(i, "ina226", config.bus),
        SensorConfig::Simulated(_) | SensorConfig::Command(_) => Vec::new(),
    });
    claims.flatten().collect()
}

/// Parses `EDGE_GPIO_OUTPUTS` (`17,27`, spaces allowed, empty for none) into pin numbers.
pub(super) fn split_pins(text: &str) -> Result<Vec<i64>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<i64>().map_err(|_| {
                ConfigError::invalid(
                    "gpio_outputs (EDGE_GPIO_OUTPUTS)",
                    format!("{p:?} is not a pin number"),
                )
            })
        })
        .collect()
}

fn required(value: Option<String>, key: &str) -> Result<String, ConfigError> {
    value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        ConfigError::invalid(
            key,
            "is missing; set it in the config file or the environment",
        )
    })
}

fn seconds(key: &str, value: f64, min: f64, max: f64) -> Result<Duration, ConfigError> {
    if !value.is_finite() || value < min || value > max {
        return Err(ConfigError::invalid(
            key,
            format!("must be between {min} and {max} seconds, got {value}"),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

/// Turns `sensors[1].address: reason` (the sensors' and GPIO checks' format) into a key and a reason.
fn split_key(message: &str) -> ConfigError {
    match message.split_once(": ") {
        Some((key, reason)) => ConfigError::invalid(key, reason),
        None => ConfigError::invalid("sensors", message),
    }
}
