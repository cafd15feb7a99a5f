//! Presence that tells the truth, in the device object: announcing the device online or offline, the alarm that
//! reports a silent device (`timeout`) and ends rotation grace periods, and what the admin API lists.
//!
//! The alarm is scheduled from the device's last sign of life (a frame, or the runtime's auto-answer to its
//! `{"type":"ping"}`), so a connected device costs about one alarm a minute and an offline one none.

use telemetry_protocol::{DeviceId, HubToDashboard, Presence, PresenceReason};
use worker::{WebSocket, console_log, js_sys};

use crate::clock::rfc3339_millis;
use crate::credentials::grace_end_ms;
use crate::device_hub::{HubCore, now_ms, now_text};
use crate::handoff::Role;
use crate::hub_client::DeviceStatus;
use crate::hub_sockets::{
    TAG_DEVICE, attachment, auto_pong_ms, broadcast, live_device_sockets, open_sockets,
};
use crate::presence::{SilenceCheck, check_silence, earliest, last_activity};

impl HubCore {
    /// Tells every dashboard that the device came online or went offline.
    pub(crate) fn announce(&self, device_id: &DeviceId, online: bool, reason: PresenceReason) {
        broadcast(
            &self.state,
            &HubToDashboard::Presence(Presence {
                device_id: device_id.to_string(),
                online,
                at: now_text(),
                reason,
            }),
        );
    }

    /// After a socket closed or failed: if it was the device and no newer device socket is live, it is offline.
    pub(crate) async fn on_socket_gone(&self, ws: &WebSocket, reason: PresenceReason) {
        let Some(attachment) = attachment(ws) else {
            return;
        };
        if attachment.role != Role::Device {
            self.forget_socket(attachment.socket_id);
            return;
        }
        // Nothing keeps the object awake now: write what it holds before it can hibernate.
        self.write_history(now_ms());
        self.store.mark_seen(&now_text()).await;
        if live_device_sockets(&self.state).is_empty() {
            self.requeue_commands(&attachment.device_id);
        }
        if attachment.gone_announced || attachment.timed_out {
            return;
        }
        if let Ok(device_id) = DeviceId::parse(&attachment.device_id)
            && live_device_sockets(&self.state).is_empty()
        {
            self.announce(&device_id, false, reason);
        }
    }

    /// `/status`: whether the device is online (connected and not silent), and when it was last heard from.
    pub(crate) async fn status(&self) -> DeviceStatus {
        let live = live_device_sockets(&self.state);
        let heard = open_sockets(&self.state, TAG_DEVICE)
            .iter()
            .filter_map(|ws| {
                attachment(ws).map(|a| {
                    last_activity(
                        a.connected_ms,
                        Some(a.last_frame_ms),
                        auto_pong_ms(&self.state, ws),
                    )
                })
            })
            .max();
        self.load_history().await;
        let last = self.last_sample();
        let stored = [
            self.store.last_seen().await,
            last.as_ref().map(|l| l.received_at.clone()),
        ]
        .into_iter()
        .flatten()
        .max();
        let last_seen = match (heard, stored) {
            (Some(heard), stored) => {
                let live = rfc3339_millis(heard);
                Some(stored.filter(|s| *s > live).unwrap_or(live))
            }
            (None, stored) => stored,
        };
        DeviceStatus {
            online: !live.is_empty(),
            last_seen,
            last_seq: self.held_seqs().map(|h| h.highest()),
            storage: Some(self.store.meter()),
        }
    }

    /// Makes sure the alarm runs no later than `at_ms`.
    pub(crate) async fn ensure_alarm_by(&self, at_ms: u64) {
        let current = match self.alarm_at.get() {
            Some(at) => Some(at),
            None => self
                .state
                .storage()
                .get_alarm()
                .await
                .ok()
                .flatten()
                .and_then(|at| u64::try_from(at).ok()),
        };
        if current.is_some_and(|at| at <= at_ms) {
            self.alarm_at.set(current);
            return;
        }
        self.set_alarm(at_ms);
    }

    /// Schedules the alarm at `at_ms` without holding outgoing messages for the write (`allowUnconfirmed`): a
    /// lost alarm is rescheduled by the next event, while a held 101 would slow every connect.
    fn set_alarm(&self, at_ms: u64) {
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"allowUnconfirmed".into(), &true.into());
        let when = js_sys::Date::new(&(at_ms as f64).into());
        match self.state.storage().as_raw().set_alarm(when, options) {
            Ok(_) => {
                self.alarm_at.set(Some(at_ms));
                self.store.count_alarm();
            }
            Err(error) => console_log!("setting the alarm failed: {error:?}"),
        }
    }

    pub(crate) async fn on_alarm(&self) {
        self.alarm_at.set(None);
        let now = now_ms();
        self.write_history_on_alarm(now);
        let mut wake = vec![self.expire_commands(now)];
        if let Some(record) = self.store.device_record() {
            self.enforce_device_record(&record, now);
            wake.push(grace_end_ms(&record).filter(|end| *end > now));
        }
        let policy = self.config.presence;
        for ws in open_sockets(&self.state, TAG_DEVICE) {
            let Some(mut attachment) = attachment(&ws) else {
                continue;
            };
            if attachment.timed_out {
                continue;
            }
            // The attachment's frame time is kept to 5 s; the object's memory has it exactly, and looking a full
            // period after the exact time makes a streaming device cost one alarm a minute, not one in 55 s.
            let last_frame = attachment
                .last_frame_ms
                .max(self.last_frame_ms().unwrap_or(0));
            let heard = last_activity(
                attachment.connected_ms,
                Some(last_frame),
                auto_pong_ms(&self.state, &ws),
            );
            match check_silence(heard, now, policy) {
                SilenceCheck::Alive { next_check_ms } => wake.push(Some(next_check_ms)),
                SilenceCheck::Silent => {
                    attachment.timed_out = true;
                    let _ = ws.serialize_attachment(&attachment);
                    self.store.mark_seen(&rfc3339_millis(heard)).await;
                    if let Ok(device_id) = DeviceId::parse(&attachment.device_id)
                        && live_device_sockets(&self.state).is_empty()
                    {
                        console_log!("device {device_id} silent for {} ms: offline", now - heard);
                        self.announce(&device_id, false, PresenceReason::Timeout);
                    }
                }
            }
        }
        if let Some(at) = earliest(wake) {
            self.set_alarm(at);
        }
    }
}
