//! The gateway's side of the failed-authentication guard: one call to the client address's `AuthGuard`, the
//! isolate's memo of blocks, and failing open when the guard cannot be reached (an outage of the guard must
//! never lock the fleet out; it only lifts the limit while it lasts).

use std::cell::RefCell;
use std::time::Duration;

use futures_util::future::{Either, select};
use worker::{Date, Delay, Env, Method, Request, RequestInit};

use crate::auth_guard::{GuardRequest, GuardVerdict};
use crate::error::HubError;
use crate::guard_memo::BlockMemo;
use crate::log_event::{LogEvent, emit};

/// Binding name of the failed-authentication counters.
const GUARD_BINDING: &str = "AUTH_GUARD";
/// How long a guard call may take before the gateway goes on without it.
const GUARD_TIMEOUT: Duration = Duration::from_secs(2);

thread_local! {
    static MEMO: RefCell<BlockMemo> = RefCell::new(BlockMemo::default());
}

/// The guard of one client address, for one target (`device:ID`, `dashboard:ID`, `api`, `admin`).
#[derive(Debug, Clone)]
pub struct Guard {
    address: String,
    target: String,
    /// Test fault: behave as if the guard were unreachable.
    unavailable: bool,
}

/// A reserved attempt; finish it with its outcome.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(Option<u64>);

impl Guard {
    /// The guard of `address` for `target`.
    pub fn new(address: &str, target: &str) -> Self {
        Self {
            address: address.to_owned(),
            target: target.to_owned(),
            unavailable: false,
        }
    }

    /// The same guard, unreachable (test fault).
    pub fn unavailable(mut self, unavailable: bool) -> Self {
        self.unavailable = unavailable;
        self
    }

    /// 429 at once if this isolate already knows the address is blocked for the target.
    pub fn refuse_if_known_blocked(&self) -> Result<(), HubError> {
        let now = Date::now().as_millis();
        let known = MEMO.with(|memo| {
            memo.borrow()
                .retry_after_secs(&self.address, &self.target, now)
        });
        match known {
            Some(retry_after_secs) => Err(HubError::TooManyRequests { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// Reserves an attempt before a D1 lookup: 429 if the address is blocked.
    pub async fn begin(&self, env: &Env) -> Result<Ticket, HubError> {
        let request = GuardRequest::Begin {
            target: self.target.clone(),
        };
        match self.call(env, &request).await {
            Some(GuardVerdict::Allowed { ticket }) => Ok(Ticket(ticket)),
            Some(blocked @ GuardVerdict::Blocked { .. }) => Err(self.blocked(blocked)),
            None => Ok(Ticket(None)),
        }
    }

    /// Reports a reserved attempt's outcome.
    pub async fn finish(&self, env: &Env, ticket: Ticket, failed: bool) {
        if let Ticket(Some(ticket)) = ticket {
            self.call(env, &GuardRequest::Finish { ticket, failed })
                .await;
        }
    }

    /// Counts a failure found without a reservation; `Err(429)` if the address was blocked already, else the
    /// caller answers 403.
    pub async fn fail(&self, env: &Env) -> Result<(), HubError> {
        let request = GuardRequest::Fail {
            target: self.target.clone(),
        };
        match self.call(env, &request).await {
            Some(blocked @ GuardVerdict::Blocked { .. }) => Err(self.blocked(blocked)),
            _ => Ok(()),
        }
    }

    fn blocked(&self, verdict: GuardVerdict) -> HubError {
        let GuardVerdict::Blocked {
            retry_after_secs,
            address_wide,
        } = verdict
        else {
            return HubError::Internal;
        };
        let now = Date::now().as_millis();
        MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            if address_wide {
                memo.remember_address(&self.address, retry_after_secs, now);
            } else {
                memo.remember(&self.address, &self.target, retry_after_secs, now);
            }
        });
        HubError::TooManyRequests { retry_after_secs }
    }

    /// One call to the address's guard; `None` when it cannot be reached in time (the caller goes on).
    async fn call(&self, env: &Env, request: &GuardRequest) -> Option<GuardVerdict> {
        if self.unavailable {
            emit(LogEvent::new("auth_guard_unavailable").reason("test fault"));
            return None;
        }
        let call = Box::pin(async {
            let body = serde_json::to_string(request)
                .map_err(|e| worker::Error::RustError(e.to_string()))?;
            let mut init = RequestInit::new();
            init.with_method(Method::Post)
                .with_body(Some(body.as_str().into()));
            let req = Request::new_with_init("https://auth-guard/", &init)?;
            let stub = env
                .durable_object(GUARD_BINDING)?
                .id_from_name(&format!("addr:{}", self.address))?
                .get_stub()?;
            stub.fetch_with_request(req)
                .await?
                .json::<GuardVerdict>()
                .await
        });
        let timeout = Box::pin(Delay::from(GUARD_TIMEOUT));
        match select(call, timeout).await {
            Either::Left((Ok(verdict), _)) => Some(verdict),
            Either::Left((Err(error), _)) => {
                emit(
                    LogEvent::new("auth_guard_unavailable")
                        .reason("call failed")
                        .error(error),
                );
                None
            }
            Either::Right(_) => {
                emit(LogEvent::new("auth_guard_unavailable").reason("timeout"));
                None
            }
        }
    }
}
