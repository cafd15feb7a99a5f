//! Provisioning library behind the `hubctl` CLI, organised by noun: [`device`], [`dashboard`],
//! [`admin_token`], [`token`] and [`schema`] each own their subcommands from arguments to output.
//!
//! Two paths lead to the hub's credentials, both behind the [`Hub`] trait. With a hub URL, [`AdminClient`]
//! calls the Worker's admin API over HTTPS (plain HTTP only on loopback, for `wrangler dev`), authenticated
//! with an admin token that is checked offline first. Without one, [`Wrangler`] runs `wrangler d1 execute`
//! with a generated SQL file; tokens come from the OS CSPRNG and only `hex(sha256(token))` reaches the SQL.
//! Either way a token is handed back once, in an [`output::Output`] that prints it or writes it to a new
//! owner-only file.

pub mod admin_client;
pub mod admin_token;
pub mod api_error;
pub mod cli;
pub mod credential;
pub mod dashboard;
pub mod device;
pub mod error;
pub mod grace;
pub mod hub;
pub mod hub_url;
pub mod output;
pub mod quiet;
pub mod redact;
pub mod schema;
pub mod scope;
pub mod sql;
pub mod token;
pub mod token_file;
pub mod wrangler;

pub use admin_client::AdminClient;
pub use admin_token::{AdminToken, NewAdminToken};
pub use api_error::AdminApiError;
pub use cli::{Cli, run};
pub use credential::{TokenHash, TokenId, token_sha256_hex};
pub use error::HubctlError;
pub use hub::{
    Hub, MAX_DEVICES_PER_BATCH, ProvisionedDashboardToken, ProvisionedDevice,
    RevokedDashboardToken, RotatedDevice,
};
pub use hub_url::HubUrl;
pub use scope::{Access, DashboardScope, Label};
pub use wrangler::{Target, Wrangler, WranglerProgram};
