//! The hub Worker: authenticates devices and dashboards and routes each device id to its own Durable Object.
//!
//! The pure core (routing, handshake checks, access decisions, the per-frame rules, the history) compiles
//! everywhere and is unit-tested natively; the Worker glue only exists in the WASM build. Read it top-down:
//!
//! - `gateway`: the fetch handler. [`route::route`] names what a request asks for, as one [`route::Route`]; the
//!   gateway hands it to its handler and renders the outcome with `response`.
//! - Handlers: `socket_api` (the WebSocket handshakes, handed to the device's object as one
//!   [`handoff::Handoff`]), `dashboard_api` (`GET /api/devices`), `history_api`, `admin_api`.
//! - What handlers share: `request` (headers, client address, test faults), `response` (JSON answers and every
//!   [`error::HubError`] rendered), `guard_client` (the failed-authentication guard), `dashboard_auth` (a
//!   dashboard token over HTTP), `hub_client` (the device object's stub and its internal requests), `d1`.
//! - The device's Durable Object: `device_hub` (the object and its frames) with `hub_admission`,
//!   `hub_presence`, `hub_history`, `hub_commands`, `hub_sockets`, `hub_store`; `hub_sync` pushes credential
//!   changes to it.
//! - The pure core under all of them: `route`, `handshake`, `handoff`, `access`, `credentials`, `session`,
//!   `history`, `command_queue`, `flood`, `presence`, `auth_guard`, `admin` (request bodies), `error`,
//!   `config`.

pub mod access;
pub mod admin;
pub mod auth_guard;
pub mod clock;
pub mod command_queue;
pub mod config;
pub mod credentials;
pub mod delivery;
pub mod error;
pub mod fanout;
pub mod flood;
pub mod guard_memo;
pub mod handoff;
pub mod handshake;
pub mod history;
pub mod presence;
pub mod route;
pub mod seq_ranges;
pub mod session;

#[cfg(target_arch = "wasm32")]
mod admin_api;
#[cfg(target_arch = "wasm32")]
mod auth_guard_object;
#[cfg(target_arch = "wasm32")]
mod d1;
#[cfg(target_arch = "wasm32")]
mod dashboard_api;
#[cfg(target_arch = "wasm32")]
mod dashboard_auth;
#[cfg(target_arch = "wasm32")]
mod device_hub;
#[cfg(target_arch = "wasm32")]
mod gateway;
#[cfg(target_arch = "wasm32")]
mod guard_client;
#[cfg(target_arch = "wasm32")]
mod history_api;
#[cfg(target_arch = "wasm32")]
mod hub_admission;
#[cfg(target_arch = "wasm32")]
mod hub_client;
#[cfg(target_arch = "wasm32")]
mod hub_commands;
#[cfg(target_arch = "wasm32")]
mod hub_history;
#[cfg(target_arch = "wasm32")]
mod hub_presence;
#[cfg(target_arch = "wasm32")]
mod hub_sockets;
#[cfg(target_arch = "wasm32")]
mod hub_store;
#[cfg(target_arch = "wasm32")]
mod hub_sync;
#[cfg(target_arch = "wasm32")]
mod random;
#[cfg(target_arch = "wasm32")]
mod request;
#[cfg(target_arch = "wasm32")]
mod response;
#[cfg(target_arch = "wasm32")]
mod socket_api;

#[cfg(target_arch = "wasm32")]
mod entry {
    use worker::{Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent, event};

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
        crate::gateway::handle(req, &env, &ctx).await
    }

    /// The cron trigger (every minute): pushes credential changes that device objects have not confirmed yet.
    #[event(scheduled)]
    async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
        crate::hub_sync::sweep(&env).await;
    }
}
