//! The `AuthGuard` Durable Object: one per client address, holding its [`AddressLedger`] of failed
//! authentications and attempts in flight.

use std::cell::RefCell;

use worker::{Date, DurableObject, Env, Request, Response, Result, State, durable_object};

use crate::auth_guard::{AddressLedger, GuardPolicy, GuardRequest};

/// Counts the failures of one address in memory. An evicted guard starts from zero, which only ever shortens a
/// block; an address that keeps failing keeps its guard awake.
#[durable_object(fetch)]
pub struct AuthGuard {
    ledger: RefCell<AddressLedger>,
    policy: GuardPolicy,
}

impl DurableObject for AuthGuard {
    fn new(_state: State, env: Env) -> Self {
        let config = crate::request::config(&env);
        Self {
            ledger: RefCell::new(AddressLedger::default()),
            policy: config.guard,
        }
    }

    /// `POST /` with a [`GuardRequest`]; answers its verdict.
    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let request: GuardRequest = match req.json().await {
            Ok(request) => request,
            Err(_) => return Response::error("bad guard request", 400),
        };
        let verdict =
            self.ledger
                .borrow_mut()
                .handle(request, Date::now().as_millis(), self.policy);
        Response::from_json(&verdict)
    }
}
