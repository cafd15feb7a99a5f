//! Harness for the end-to-end tests: starts the real Worker under `wrangler dev` and drives it with real clients.
//!
//! ```no_run
//! use std::time::Duration;
//! use hub_e2e::{HubServer, WsClient};
//!
//! # async fn example() {
//! let hub = HubServer::shared();
//! let device = &hub.provision_devices(&["example-1"])[0];
//! let mut ws = WsClient::connect_bearer(&hub.ws_url("/ws/device/example-1"), &device.token).await;
//! ws.send_json(&serde_json::json!({"type": "telemetry", "epoch": "e", "seq": 1,
//!     "ts": "2026-01-01T00:00:00Z", "data": {}})).await;
//! let ack = ws.recv_json(Duration::from_secs(5)).await;
//! assert_eq!(ack["type"], "ack");
//! # }
//! ```

pub mod admin_http;
pub mod dashboard_build;
pub mod dev_server;
pub mod http;
pub mod hub_server;
pub mod logs;
pub mod provisioning;
pub mod scratch_dir;
pub mod worker_build;
pub mod workspace;
pub mod wrangler_config;
pub mod wrangler_process;
pub mod ws_client;

pub use admin_http::{AdminHttp, OWNER, handshake_status, json_body, stranger};
pub use edge_agent::testing::RunningAgent;
pub use http::HttpResponse;
pub use hub_server::HubServer;
pub use hubctl::{Access, DashboardScope, ProvisionedDashboardToken, ProvisionedDevice};
pub use logs::{Logs, events_where, worker_events};
pub use provisioning::Provisioner;
pub use ws_client::{ConnectError, Received, Refusal, WsClient};
