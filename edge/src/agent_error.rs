//! Why the agent stopped other than by shutdown: the one error type of [`crate::run`], the event loop and the
//! link.

use crate::gpio::GpioError;
use crate::sensors::SensorError;
use crate::store::StoreError;
use crate::tls::TlsError;

/// Why the agent stopped other than by shutdown.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The sample store could not be opened, read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The TLS configuration could not be built (a bad `ca_file`).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A sensor could not be opened.
    #[error("sensors: {0}")]
    Sensor(#[from] SensorError),
    /// The GPIO outputs could not be opened.
    #[error("gpio_outputs: {0}")]
    Gpio(#[from] GpioError),
    /// A sample could not be encoded.
    #[error("encoding samples: {0}")]
    Encode(serde_json::Error),
    /// The metrics endpoint could not listen on `metrics.listen` (a configuration error: exit 78).
    #[error("metrics.listen {addr}: cannot listen there: {source}")]
    MetricsListen {
        /// The configured address.
        addr: std::net::SocketAddr,
        /// Why binding failed (in use, not an address of this machine, no permission).
        source: std::io::Error,
    },
    /// A background task failed (a panic).
    #[error("internal task failed: {0}")]
    Task(String),
}
