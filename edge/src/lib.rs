//! The edge agent: samples sensors, keeps every sample until the hub confirms it (its `ack`, or its `stored`
//! when the hub offers stored acknowledgements), and obeys allowlisted commands.
//!
//! [`run`] is the whole agent; `main` only loads the [`config::AgentConfig`] and passes a shutdown signal.
//! Pure cores ([`backoff`], [`session`], [`delivery`] over [`outbox`] and [`stored_window`], [`commands`])
//! decide; thin shells do the I/O: the sampler task (sensors into the [`store`]), the event loop (reconnects)
//! and the link (the one place that reads and writes the socket). What they do is counted in [`metrics`], which
//! [`metrics_server`] serves to Prometheus when `metrics.listen` is set.

pub mod agent;
mod agent_error;
pub mod backoff;
mod command_runner;
pub mod commands;
pub mod config;
mod connection;
pub mod delivery;
pub mod endpoint;
mod event_loop;
pub mod gpio;
mod link;
pub mod log_filter;
pub mod log_format;
pub mod metrics;
pub mod metrics_server;
pub mod outbox;
mod sampler;
pub mod sensors;
pub mod seq_ranges;
pub mod session;
pub mod settings;
pub mod status;
pub mod store;
pub mod stored_window;
pub mod tls;
pub mod token;

#[cfg(feature = "testing")]
pub mod testing;

pub use agent::{AgentError, Hardware, run, run_with};
pub use config::AgentConfig;
