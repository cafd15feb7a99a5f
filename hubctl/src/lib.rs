//! Provisioning library behind the `hubctl` CLI.
//!
//! Two paths lead to the hub's credentials. With a hub URL, [`AdminClient`] calls the Worker's admin API over
//! HTTPS (plain HTTP only on loopback, for `wrangler dev`), authenticated with an admin token that is checked
//! offline first; the hub makes the tokens. Without one, [`Wrangler`] runs `wrangler d1 execute` with a
//! generated SQL file; tokens come from the OS CSPRNG through [`telemetry_protocol::token::generate_token`]
//! and only `hex(sha256(token))` reaches the SQL. Either way a token is handed back once, to be printed or
//! written to a new owner-only file.
//!
//! Pure parts (URLs, error mapping, SQL building, scopes, durations, argument parsing, output) are unit-tested
//! in their modules; [`AdminClient`] and [`Wrangler`] are the thin shells that do I/O.

pub mod admin_client;
pub mod admin_token;
pub mod admin_wire;
mod api_commands;
pub mod api_error;
pub mod cli;
pub mod commands;
pub mod credential;
mod d1_output;
pub mod error;
pub mod grace;
pub mod hub_url;
mod listing;
pub mod output;
pub mod provision;
pub mod redact;
pub mod run;
pub mod scope;
pub mod sql;
pub mod token_file;
pub mod wrangler;

pub use admin_client::{AdminClient, RevokedDashboardToken, RotatedDevice};
pub use admin_token::{AdminToken, NewAdminToken};
pub use api_error::AdminApiError;
pub use cli::Cli;
pub use credential::{TokenHash, TokenId, token_sha256_hex};
pub use error::HubctlError;
pub use hub_url::HubUrl;
pub use provision::{ProvisionedDashboardToken, ProvisionedDevice};
pub use run::run;
pub use scope::{Access, DashboardScope, Label};
pub use sql::MAX_DEVICES_PER_BATCH;
pub use wrangler::{Target, Wrangler, WranglerProgram};
