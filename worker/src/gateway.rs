//! The Worker's fetch handler, the top of the hub: routes a request and hands it to the handler of its route.
//! Every refusal, from the router or a handler, is rendered in one place (`response`).

use worker::{Context, Env, Request, Response, Result};

use crate::handoff::Role;
use crate::request::{method, test_faults};
use crate::response::render;
use crate::route::{Route, route};
use crate::{admin_api, dashboard_api, history_api, socket_api};

/// Handles one request.
pub async fn handle(req: Request, env: &Env, ctx: &Context) -> Result<Response> {
    let faults = test_faults(&req, env);
    let outcome = match route(method(&req), &req.path()) {
        Ok(Route::DeviceSocket(id)) => {
            socket_api::handle(req, env, ctx, faults, Role::Device, id).await
        }
        Ok(Route::DashboardSocket(id)) => {
            socket_api::handle(req, env, ctx, faults, Role::Dashboard, id).await
        }
        Ok(Route::DeviceList) => dashboard_api::handle(req, env, ctx, faults).await,
        Ok(Route::History(history)) => history_api::handle(req, env, ctx, faults, history).await,
        Ok(Route::Admin(op)) => admin_api::handle(req, env, faults, op).await,
        Err(refusal) => Err(refusal),
    };
    render(outcome)
}
