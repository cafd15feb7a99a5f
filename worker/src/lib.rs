//! The hub Worker: authenticates devices and dashboards and routes each device id to its own Durable Object.
//!
//! The pure core (routing, handshake checks, access decisions, the per-frame rules) compiles everywhere and is
//! unit-tested natively; the Worker glue (`gateway`, `device_hub`) only exists in the WASM build.

pub mod access;
pub mod admin;
pub mod auth_guard;
pub mod clock;
pub mod cursor;
pub mod error;
pub mod handshake;
pub mod route;
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
mod device_hub;
#[cfg(target_arch = "wasm32")]
mod gateway;
#[cfg(target_arch = "wasm32")]
mod random;

#[cfg(target_arch = "wasm32")]
mod entry {
    use worker::{Context, Env, Request, Response, Result, event};

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
        crate::gateway::handle(req, &env).await
    }
}
