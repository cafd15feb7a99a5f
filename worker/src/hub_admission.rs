//! How a device object decides the handshakes the gateway hands it, and how it applies credential changes.
//!
//! From its own copy it accepts at once (a 101 with no lookup and no storage write), then confirms the credential
//! against D1 in the background and closes the socket with 4001 if it was revoked meanwhile. Anything its copy
//! cannot accept goes back to the gateway as `needs_lookup`; once the guard allows it the object looks D1 up
//! itself, keeping the newest version it has seen, so a lookup that raced a disable can never win.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use telemetry_protocol::history::{STORED_ACK_HEADER, stored_ack_response};
use telemetry_protocol::limits::{
    CLOSE_POLICY_VIOLATION, CLOSE_REPLACED, CLOSE_REPLACED_REASON, CLOSE_REVOKED,
    CLOSE_REVOKED_REASON, CLOSE_TOO_MANY_DASHBOARDS_REASON, SUBPROTOCOL,
};
use telemetry_protocol::{DeviceId, HubToDashboard, PresenceReason, Snapshot};
use worker::{Delay, Request, Response, Result, WebSocket, WebSocketPair, console_log, js_sys};

use crate::access::{DeviceRecord, TokenHash};
use crate::credentials::{
    CachedGrant, accept_from_copy, decide_dashboard, decide_device, grace_end_ms, grant_from_copy,
    key_allowed, supersedes,
};
use crate::d1;
use crate::device_hub::{HubCore, now_ms};
use crate::fanout::{FanoutReport, RevokeFanout};
use crate::flood::too_many_dashboards;
use crate::handoff::{ConnectVerdict, Handoff, Role};
use crate::hub_client::{self, CredentialReport};
use crate::hub_sockets::{
    Attachment, TAG_DASHBOARD, TAG_DEVICE, attachment, live_device_sockets, open_sockets, send_json,
};

impl HubCore {
    /// `/connect`: a 101, or a [`ConnectVerdict`] for the gateway.
    pub(crate) async fn admit(core: &Rc<Self>, req: &Request) -> Result<Response> {
        let handoff = match Handoff::from_headers(|name| req.headers().get(name).ok().flatten()) {
            Ok(handoff) => handoff,
            Err(malformed) => {
                console_log!("refused an internal request to /connect: {malformed}");
                return Response::error("bad internal request", 400);
            }
        };
        let (device_id, presented) = (handoff.device_id.clone(), handoff.token_hash);
        match handoff.role {
            Role::Device => Self::admit_device(core, &handoff, device_id, &presented).await,
            Role::Dashboard => Self::admit_dashboard(core, &handoff, device_id, &presented).await,
        }
    }

    async fn admit_device(
        core: &Rc<Self>,
        handoff: &Handoff,
        device_id: DeviceId,
        presented: &TokenHash,
    ) -> Result<Response> {
        if !handoff.lookup {
            let copy = core.store.device_record();
            let Some(key_id) = accept_from_copy(copy.as_ref(), presented, now_ms()) else {
                return verdict(ConnectVerdict::NeedsLookup);
            };
            let response = core.accept_device(&device_id, key_id, handoff).await?;
            let confirming = Rc::clone(core);
            wasm_bindgen_futures::spawn_local(async move {
                confirming.confirm_device(&device_id).await;
            });
            return Ok(response);
        }
        let looked_up = match d1::device_record(&core.env, &device_id).await {
            Ok(record) => record,
            Err(error) => {
                console_log!("device lookup failed for {device_id}: {error}");
                return Response::error("lookup failed", 500);
            }
        };
        core.hold_for_test(handoff).await;
        let newest = core.adopt_device_record(looked_up).await;
        match decide_device(newest.as_ref(), presented, now_ms()) {
            Ok(key_id) => core.accept_device(&device_id, key_id, handoff).await,
            Err(reason) => verdict(ConnectVerdict::Denied { reason }),
        }
    }

    async fn admit_dashboard(
        core: &Rc<Self>,
        handoff: &Handoff,
        device_id: DeviceId,
        presented: &TokenHash,
    ) -> Result<Response> {
        let hash = presented.to_hex();
        if !handoff.lookup {
            let cached = core.store.grant(&hash);
            let Some(grant) = grant_from_copy(cached.as_ref(), |id| core.store.is_revoked(id))
            else {
                return verdict(ConnectVerdict::NeedsLookup);
            };
            let response = core.accept_dashboard(&device_id, &grant, handoff).await?;
            let confirming = Rc::clone(core);
            wasm_bindgen_futures::spawn_local(async move {
                confirming.confirm_dashboard(&device_id, &hash).await;
            });
            return Ok(response);
        }
        let lookup = match d1::dashboard_lookup(&core.env, &hash, &device_id).await {
            Ok(lookup) => lookup,
            Err(error) => {
                console_log!("dashboard token lookup failed for {device_id}: {error}");
                return Response::error("lookup failed", 500);
            }
        };
        core.hold_for_test(handoff).await;
        let record = lookup.as_ref().map(|l| &l.record);
        let exists = lookup.as_ref().is_some_and(|l| l.device_exists);
        let decision = decide_dashboard(presented, record, exists, &device_id, |id| {
            core.store.is_revoked(id)
        });
        match decision {
            Ok(grant) => {
                core.store.put_grant(&hash, &grant);
                let response = core.accept_dashboard(&device_id, &grant, handoff).await?;
                let env = core.env.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    d1::register_dashboard_session(&env, &grant.token_id, &device_id).await;
                });
                Ok(response)
            }
            Err(reason) => verdict(ConnectVerdict::Denied { reason }),
        }
    }

    /// Test fault: holds a lookup's answer, so a test can change D1 and this object in between.
    async fn hold_for_test(&self, handoff: &Handoff) {
        if self.config.test_faults && handoff.hold_lookup_ms > 0 {
            Delay::from(Duration::from_millis(handoff.hold_lookup_ms.min(10_000))).await;
        }
    }

    /// Accepts the device's socket. A newer connection wins: older ones are closed with 4000 `replaced`.
    async fn accept_device(
        &self,
        device_id: &DeviceId,
        key_id: String,
        handoff: &Handoff,
    ) -> Result<Response> {
        let older = open_sockets(&self.state, TAG_DEVICE);
        let was_online = !live_device_sockets(&self.state).is_empty();
        for socket in &older {
            let _ = socket.close(Some(CLOSE_REPLACED), Some(CLOSE_REPLACED_REASON));
        }
        let now = now_ms();
        let pair = WebSocketPair::new()?;
        self.state
            .accept_websocket_with_tags(&pair.server, &[TAG_DEVICE]);
        pair.server.serialize_attachment(Attachment {
            role: Role::Device,
            device_id: device_id.to_string(),
            access: None,
            token_id: None,
            key_id: Some(key_id),
            gone_announced: false,
            socket_id: socket_id(),
            connected_ms: now,
            last_frame_ms: now,
            timed_out: false,
            stored_acks: handoff.stored_acks,
        })?;
        let reason = if was_online {
            PresenceReason::Replaced
        } else {
            PresenceReason::Connected
        };
        self.announce(device_id, true, reason);
        self.ensure_alarm_by(now + self.config.presence.report_within_ms)
            .await;
        // Queued commands go first, before anything else is relayed to the new socket.
        self.deliver_commands(&pair.server, device_id, true, now);
        let response = upgrade_response(pair.client, handoff.select_subprotocol)?;
        if !handoff.stored_acks {
            return Ok(response);
        }
        let headers = response.headers().clone();
        headers.set(
            STORED_ACK_HEADER,
            &stored_ack_response(self.config.history.flush_ms.div_ceil(1000)),
        )?;
        Ok(response.with_headers(headers))
    }

    /// Accepts a dashboard's socket and sends it the snapshot at once; past the device's dashboard limit the
    /// socket is told why and closed with 1008 instead.
    async fn accept_dashboard(
        &self,
        device_id: &DeviceId,
        grant: &CachedGrant,
        handoff: &Handoff,
    ) -> Result<Response> {
        let pair = WebSocketPair::new()?;
        let policy = &self.config.flood;
        if open_sockets(&self.state, TAG_DASHBOARD).len() >= policy.max_dashboards {
            console_log!(
                "device {device_id}: dashboard refused, {} open",
                policy.max_dashboards
            );
            pair.server.accept()?;
            send_json(
                &pair.server,
                &HubToDashboard::Error(too_many_dashboards(policy)),
            );
            let _ = pair.server.close(
                Some(CLOSE_POLICY_VIOLATION),
                Some(CLOSE_TOO_MANY_DASHBOARDS_REASON),
            );
            return upgrade_response(pair.client, handoff.select_subprotocol);
        }
        let token_tag = format!("token:{}", grant.token_id);
        self.state
            .accept_websocket_with_tags(&pair.server, &[TAG_DASHBOARD, &token_tag]);
        pair.server.serialize_attachment(Attachment {
            role: Role::Dashboard,
            device_id: device_id.to_string(),
            access: Some(grant.access),
            token_id: Some(grant.token_id.clone()),
            key_id: None,
            gone_announced: false,
            socket_id: socket_id(),
            connected_ms: now_ms(),
            last_frame_ms: 0,
            timed_out: false,
            stored_acks: false,
        })?;
        self.load_history().await;
        let snapshot = HubToDashboard::Snapshot(Snapshot {
            device_id: device_id.to_string(),
            online: !live_device_sockets(&self.state).is_empty(),
            last: self.last_sample(),
            commands: self.command_statuses(device_id, now_ms()),
        });
        send_json(&pair.server, &snapshot);
        upgrade_response(pair.client, handoff.select_subprotocol)
    }

    /// After a 101 from the copy: reads D1 and applies what it says (closing the socket if it was revoked).
    async fn confirm_device(&self, device_id: &DeviceId) {
        match d1::device_record(&self.env, device_id).await {
            Ok(record) => {
                self.adopt_device_record(record).await;
            }
            Err(error) => console_log!("confirming {device_id} against D1 failed: {error}"),
        }
    }

    async fn confirm_dashboard(&self, device_id: &DeviceId, hash: &str) {
        let lookup = match d1::dashboard_lookup(&self.env, hash, device_id).await {
            Ok(lookup) => lookup,
            Err(error) => {
                console_log!("confirming a dashboard of {device_id} against D1 failed: {error}");
                return;
            }
        };
        let Some(presented) = TokenHash::from_hex(hash) else {
            return;
        };
        let record = lookup.as_ref().map(|l| &l.record);
        let exists = lookup.as_ref().is_some_and(|l| l.device_exists);
        let decision = decide_dashboard(&presented, record, exists, device_id, |id| {
            self.store.is_revoked(id)
        });
        let Err(reason) = decision else {
            return;
        };
        let Some(token_id) = self.store.grant(hash).map(|g| g.token_id) else {
            return;
        };
        console_log!(
            "dashboard token {token_id} of {device_id} no longer valid ({}): closing",
            reason.as_str()
        );
        if record.is_some_and(|r| r.revoked_at.is_some()) {
            self.store.revoke(&token_id, now_ms(), true);
        } else {
            self.store.forget_grant(hash);
        }
        self.close_token_sockets(&token_id);
    }

    /// Keeps `incoming` if it is the newest version seen and enforces it on live sessions; returns the newest.
    pub(crate) async fn adopt_device_record(
        &self,
        incoming: Option<DeviceRecord>,
    ) -> Option<DeviceRecord> {
        let held = self.store.device_record();
        let now = now_ms();
        let Some(record) = incoming else {
            // The device is gone from D1: nothing it presents is valid any more.
            if held.is_some() {
                self.store.clear_device_record();
            }
            self.close_device_sessions(|_| false);
            return None;
        };
        if !supersedes(held.as_ref(), &record) {
            return held;
        }
        // Close first: a close sent after a write waits until the write is durable.
        self.enforce_device_record(&record, now);
        if held.as_ref() != Some(&record) {
            self.store.put_device_record(&record);
        }
        if let Some(end) = grace_end_ms(&record).filter(|end| *end > now) {
            self.ensure_alarm_by(end).await;
        }
        Some(record)
    }

    /// Closes the device sessions `record` no longer allows; returns how many.
    pub(crate) fn enforce_device_record(&self, record: &DeviceRecord, now: u64) -> u64 {
        self.close_device_sessions(|attachment| {
            attachment
                .key_id
                .as_deref()
                .is_none_or(|key| key_allowed(record, key, now))
        })
    }

    /// Closes with 4001 every open device socket for which `allowed` is false, and tells dashboards.
    fn close_device_sessions(&self, allowed: impl Fn(&Attachment) -> bool) -> u64 {
        let mut closed = 0;
        for socket in open_sockets(&self.state, TAG_DEVICE) {
            let Some(mut attachment) = attachment(&socket) else {
                continue;
            };
            if allowed(&attachment) {
                continue;
            }
            let was_live = !attachment.timed_out;
            attachment.gone_announced = true;
            let _ = socket.serialize_attachment(&attachment);
            let _ = socket.close(Some(CLOSE_REVOKED), Some(CLOSE_REVOKED_REASON));
            closed += 1;
            if was_live
                && live_device_sockets(&self.state).is_empty()
                && let Ok(device_id) = DeviceId::parse(&attachment.device_id)
            {
                self.announce(&device_id, false, PresenceReason::Revoked);
            }
        }
        closed
    }

    /// Closes with 4001 the dashboards that authenticated with `token_id`; returns how many.
    fn close_token_sockets(&self, token_id: &str) -> u64 {
        let sockets = open_sockets(&self.state, &format!("token:{token_id}"));
        for socket in &sockets {
            let _ = socket.close(Some(CLOSE_REVOKED), Some(CLOSE_REVOKED_REASON));
        }
        sockets.len() as u64
    }

    /// `/credentials`: a credential change pushed by the admin API or the sync sweeper.
    pub(crate) async fn on_credentials(&self, record: DeviceRecord) -> CredentialReport {
        let before = self.count_device_sockets();
        let newest = self.adopt_device_record(Some(record)).await;
        CredentialReport {
            version: newest.map_or(0, |r| r.version),
            closed: before.saturating_sub(self.count_device_sockets()),
        }
    }

    fn count_device_sockets(&self) -> u64 {
        open_sockets(&self.state, TAG_DEVICE).len() as u64
    }

    /// `/fanout`: pass the order on, close the token's sockets here and remember the revocation.
    ///
    /// The order matters: the object's outgoing messages wait while a write is not yet durable, so the calls
    /// down the tree and the closes go out before the write, and the write comes before any await, so no
    /// handshake can slip in between.
    pub(crate) async fn on_fanout(&self, order: RevokeFanout) -> FanoutReport {
        let mut children = Box::pin(hub_client::fan_out_revocation(
            &self.env,
            &order.token_id,
            order.relay,
        ));
        // One poll issues every child's request.
        let early = poll_once(children.as_mut()).await;
        let closed = self.close_token_sockets(&order.token_id);
        // An object that never accepted the token writes nothing: its memory covers a lookup in flight.
        let durable = closed > 0 || self.store.has_grant_of(&order.token_id);
        self.store.revoke(&order.token_id, now_ms(), durable);
        let mut report = FanoutReport {
            reached: 1,
            closed,
            unreached: Vec::new(),
        };
        report.absorb(match early {
            Poll::Ready(done) => done,
            Poll::Pending => children.await,
        });
        report
    }
}

/// Polls `future` once, so whatever it starts (a `fetch`) is under way before the caller goes on.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

fn verdict(verdict: ConnectVerdict) -> Result<Response> {
    Response::from_json(&verdict)
}

/// A random id for a socket's flood buckets (not a secret).
fn socket_id() -> u64 {
    (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64
}

fn upgrade_response(client: WebSocket, select_subprotocol: bool) -> Result<Response> {
    let response = Response::from_websocket(client)?;
    if select_subprotocol {
        let headers = worker::Headers::new();
        headers.set("Sec-WebSocket-Protocol", SUBPROTOCOL)?;
        return Ok(response.with_headers(headers));
    }
    Ok(response)
}
