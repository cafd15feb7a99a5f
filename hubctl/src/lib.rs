//! Provisioning library behind the `hubctl` CLI.
//!
//! Devices and dashboard tokens are created in the hub's D1 database by running `wrangler d1 execute` with a
//! generated SQL file. Tokens come from the OS CSPRNG through [`telemetry_protocol::token::generate_token`];
//! only `hex(sha256(token))` reaches the SQL, and the token is handed back once to be printed.
//!
//! Pure parts (SQL building, scopes, labels, argument parsing, wrangler's output) are unit-tested in their
//! modules; [`Wrangler`] is the thin shell that starts the process.

pub mod cli;
pub mod credential;
mod d1_output;
pub mod error;
pub mod output;
pub mod provision;
pub mod run;
pub mod scope;
pub mod sql;
pub mod wrangler;

pub use cli::Cli;
pub use credential::{TokenHash, token_sha256_hex};
pub use error::HubctlError;
pub use provision::{ProvisionedDashboardToken, ProvisionedDevice};
pub use run::run;
pub use scope::{Access, DashboardScope, Label};
pub use sql::MAX_DEVICES_PER_BATCH;
pub use wrangler::{Target, Wrangler, WranglerProgram};
