//! Test support behind the `testing` feature (off by default, so the release binary has none of it): a fake hub
//! on port 0, the agent running in-process, scratch stores and a log capture. Used by this crate's integration
//! tests and by the end-to-end tests in `tests/`.
//!
//! ```toml
//! [dev-dependencies]
//! edge-agent = { path = "../edge", features = ["testing"] }
//! ```

mod agent;
mod capture;
mod fake_hub;
mod flood_limit;
mod history;
mod hub_record;
mod hub_session;
mod hub_state;
mod lock;

pub use agent::{
    Counter, DEVICE_ID, RunningAgent, agent_binary, agent_process, assert_contiguous_from_1,
    config, device_token, prefill, scratch_dir, store_in,
};
pub use capture::Captured;
pub use fake_hub::FakeHub;
pub use flood_limit::{FloodGate, FloodLimit};
pub use history::{History, HistoryPolicy};
pub use hub_record::{Handshake, Record};
pub use hub_state::Mode;
