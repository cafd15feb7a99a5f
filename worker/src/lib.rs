//! The hub Worker: authenticates devices and dashboards and routes each device id to its own Durable Object.
//!
//! The pure core (routing, handshake checks, access decisions, the per-frame rules) compiles everywhere and is
//! unit-tested natively; the Worker glue (`gateway`, `device_hub`) only exists in the WASM build.

pub mod access;
pub mod admin;
pub mod auth_guard;
pub mod clock;
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
pub mod storage_meter;

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
