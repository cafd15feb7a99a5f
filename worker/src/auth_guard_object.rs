//! The `AuthGuard` Durable Object: one per key (a client address or a target), counting failed authentications.

use std::cell::Cell;

use worker::{Date, DurableObject, Env, Request, Response, Result, State, durable_object};

use crate::auth_guard::{FailureWindow, GuardPolicy};

/// Counts failures of one key in memory. An evicted guard starts from zero, which only ever shortens a block.
#[durable_object(fetch)]
pub struct AuthGuard {
    window: Cell<FailureWindow>,
    policy: GuardPolicy,
}

impl DurableObject for AuthGuard {
    fn new(_state: State, env: Env) -> Self {
        let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
        let policy = GuardPolicy::from_vars(
            var("AUTH_FAILURE_LIMIT").as_deref(),
            var("AUTH_FAILURE_WINDOW_SECS").as_deref(),
        );
        Self {
            window: Cell::new(FailureWindow::default()),
            policy,
        }
    }

    /// `GET /check` answers the verdict; `POST /fail` counts a failure first.
    async fn fetch(&self, req: Request) -> Result<Response> {
        let now = Date::now().as_millis();
        let mut window = self.window.get();
        if req.path() == "/fail" {
            window.record_failure(now, self.policy);
            self.window.set(window);
        }
        Response::from_json(&window.verdict(now, self.policy))
    }
}
