//! Making device objects learn every credential change committed in D1, and retrying until they have: pushes
//! after an admin write, and the sweeper the cron trigger runs every minute over `hub_sync`.

use serde::Deserialize;
use telemetry_protocol::DeviceId;
use worker::wasm_bindgen::JsValue;
use worker::{Date, Env};

use crate::access::DeviceRecord;
use crate::config::TestFaults;
use crate::d1::{self, device_subject, token_subject};
use crate::delivery::{SWEEP_SUBREQUEST_BUDGET, retry_delay_ms};
use crate::hub_client;
use crate::log_event::{LogEvent, emit};

/// What a push achieved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    /// Live sockets the objects closed with 4001.
    pub closed: u64,
    /// Device objects not reached yet; the sweeper retries them.
    pub pending_devices: u64,
}

/// Pushes `record` (the device's credentials as just committed) to the device's object.
pub async fn sync_device(
    env: &Env,
    device_id: &DeviceId,
    record: &DeviceRecord,
    faults: TestFaults,
) -> SyncOutcome {
    let subject = device_subject(device_id.as_str());
    let pushed = if faults.hub_push_unavailable {
        Err(worker::Error::RustError("test fault: hub_push".into()))
    } else {
        hub_client::push_credentials(env, device_id, record).await
    };
    match pushed {
        Ok(report) => {
            mark_delivered(env, &subject, record.version).await;
            SyncOutcome {
                closed: report.closed,
                pending_devices: 0,
            }
        }
        Err(error) => {
            emit(
                LogEvent::new("sync_failed")
                    .with("subject", subject.as_str())
                    .with("version", record.version)
                    .reason("push failed")
                    .error(error),
            );
            mark_failed(env, &subject, record.version).await;
            SyncOutcome {
                closed: 0,
                pending_devices: 1,
            }
        }
    }
}

/// Revokes `token_id` in the objects of every device its `scope` covers (`*` or a comma-separated list).
pub async fn sync_revocation(
    env: &Env,
    token_id: &str,
    scope: &str,
    version: u64,
    faults: TestFaults,
) -> SyncOutcome {
    let subject = token_subject(token_id);
    let targets = match scope_targets(env, scope).await {
        Ok(targets) => targets,
        Err(error) => {
            emit(
                LogEvent::new("sync_failed")
                    .with("subject", subject.as_str())
                    .with("version", version)
                    .reason("listing devices failed")
                    .error(error),
            );
            mark_failed(env, &subject, version).await;
            return SyncOutcome {
                closed: 0,
                pending_devices: 1,
            };
        }
    };
    let total = targets.len() as u64;
    if faults.hub_push_unavailable {
        mark_failed(env, &subject, version).await;
        return SyncOutcome {
            closed: 0,
            pending_devices: total,
        };
    }
    // First the objects that accepted the token (its live sockets close within moments), then every other
    // device in its scope (a session whose registration was lost, a lookup in flight).
    let accepted = accepted_on(env, token_id).await;
    let (first, rest): (Vec<String>, Vec<String>) =
        targets.into_iter().partition(|id| accepted.contains(id));
    let mut report = hub_client::fan_out_revocation(env, token_id, first).await;
    report.absorb(hub_client::fan_out_revocation(env, token_id, rest).await);
    if report.unreached.is_empty() {
        mark_delivered(env, &subject, version).await;
        let _ = d1::run(
            env,
            "DELETE FROM dashboard_sessions WHERE token_id = ?1",
            &[token_id.into()],
        )
        .await;
    } else {
        emit(
            LogEvent::new("sync_failed")
                .with("subject", subject.as_str())
                .with("version", version)
                .reason("devices not reached")
                .with("unreached", report.unreached.len())
                .with("devices", total),
        );
        mark_failed(env, &subject, version).await;
    }
    SyncOutcome {
        closed: report.closed,
        pending_devices: report.unreached.len() as u64,
    }
}

/// The devices whose objects accepted `token_id` (empty if unknown: then every device is reached the slow way).
async fn accepted_on(env: &Env, token_id: &str) -> std::collections::HashSet<String> {
    #[derive(Deserialize)]
    struct Row {
        device_id: String,
    }
    let rows: Vec<Row> = d1::all(
        env,
        "SELECT device_id FROM dashboard_sessions WHERE token_id = ?1",
        &[token_id.into()],
    )
    .await
    .unwrap_or_default();
    rows.into_iter().map(|r| r.device_id).collect()
}

/// The device ids a scope covers: the listed ones, or every device for `*`.
async fn scope_targets(env: &Env, scope: &str) -> worker::Result<Vec<String>> {
    if scope.trim() != "*" {
        return Ok(scope
            .split(',')
            .filter_map(|id| DeviceId::parse(id.trim()).ok())
            .map(|id| id.to_string())
            .collect());
    }
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let rows: Vec<Id> = d1::all(env, "SELECT id FROM devices ORDER BY id", &[]).await?;
    Ok(rows
        .into_iter()
        .filter(|r| DeviceId::parse(&r.id).is_ok())
        .map(|r| r.id)
        .collect())
}

async fn mark_delivered(env: &Env, subject: &str, version: u64) {
    let result = d1::run(
        env,
        "UPDATE hub_sync SET delivered_version = MAX(delivered_version, ?2), attempts = 0, \
         next_attempt_ms = 0 WHERE subject = ?1",
        &[subject.into(), JsValue::from_f64(version as f64)],
    )
    .await;
    if let Err(error) = result {
        // The sweeper will push again: harmless, the object keeps the newest version.
        emit(
            LogEvent::new("sync_record_failed")
                .with("subject", subject)
                .reason("marking delivered failed")
                .error(error),
        );
    }
}

async fn mark_failed(env: &Env, subject: &str, version: u64) {
    #[derive(Deserialize)]
    struct Attempts {
        attempts: u32,
    }
    let counted: worker::Result<Option<Attempts>> = d1::write_returning(
        env,
        "UPDATE hub_sync SET attempts = attempts + 1 WHERE subject = ?1 AND delivered_version < ?2 \
         RETURNING attempts",
        &[subject.into(), JsValue::from_f64(version as f64)],
    )
    .await;
    let attempts = match counted {
        Ok(Some(row)) => row.attempts,
        Ok(None) => return,
        Err(error) => {
            emit(
                LogEvent::new("sync_record_failed")
                    .with("subject", subject)
                    .reason("recording a failed sync failed")
                    .error(error),
            );
            return;
        }
    };
    let next = Date::now().as_millis() + retry_delay_ms(attempts);
    let _ = d1::run(
        env,
        "UPDATE hub_sync SET next_attempt_ms = ?2 WHERE subject = ?1",
        &[subject.into(), JsValue::from_f64(next as f64)],
    )
    .await;
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Subjects pushed and confirmed.
    pub delivered: u64,
    /// Subjects still pending after this sweep.
    pub pending: u64,
}

/// Pushes every unconfirmed change whose retry time has come, within the subrequest budget.
pub async fn sweep(env: &Env) -> SweepReport {
    #[derive(Deserialize)]
    struct Pending {
        subject: String,
        version: u64,
    }
    let now = Date::now().as_millis();
    let pending: Vec<Pending> = match d1::all(
        env,
        "SELECT subject, version FROM hub_sync WHERE delivered_version < version \
         AND next_attempt_ms <= ?1 ORDER BY next_attempt_ms LIMIT 20",
        &[JsValue::from_f64(now as f64)],
    )
    .await
    {
        Ok(rows) => rows,
        Err(error) => {
            emit(
                LogEvent::new("sync_sweep_failed")
                    .reason("reading hub_sync failed")
                    .error(error),
            );
            return SweepReport::default();
        }
    };
    let mut report = SweepReport::default();
    let mut spent = 1;
    for item in pending {
        if spent >= SWEEP_SUBREQUEST_BUDGET {
            report.pending += 1;
            continue;
        }
        let outcome = if let Some(id) = item.subject.strip_prefix("device:") {
            spent += 3;
            sweep_device(env, id, item.version).await
        } else if let Some(token_id) = item.subject.strip_prefix("dashboard_token:") {
            spent += 3 + crate::fanout::FANOUT_WIDTH;
            sweep_revocation(env, token_id, item.version).await
        } else {
            None
        };
        match outcome {
            Some(outcome) if outcome.pending_devices == 0 => report.delivered += 1,
            _ => report.pending += 1,
        }
    }
    emit(
        LogEvent::new("sync_sweep")
            .with("delivered", report.delivered)
            .with("pending", report.pending),
    );
    report
}

async fn sweep_device(env: &Env, id: &str, version: u64) -> Option<SyncOutcome> {
    let device_id = DeviceId::parse(id).ok()?;
    match d1::device_record(env, &device_id).await {
        Ok(Some(record)) => {
            Some(sync_device(env, &device_id, &record, TestFaults::default()).await)
        }
        Ok(None) => {
            // The device is gone; nothing left to tell its object that a lookup would not find.
            mark_delivered(env, &device_subject(id), version).await;
            Some(SyncOutcome::default())
        }
        Err(error) => {
            emit(
                LogEvent::new("sync_sweep_failed")
                    .device(id)
                    .reason("reading the device failed")
                    .error(error),
            );
            None
        }
    }
}

async fn sweep_revocation(env: &Env, token_id: &str, version: u64) -> Option<SyncOutcome> {
    #[derive(Deserialize)]
    struct Scope {
        devices: String,
    }
    let scope: Option<Scope> = d1::first(
        env,
        "SELECT devices FROM dashboard_tokens WHERE id = ?1",
        &[token_id.into()],
    )
    .await
    .ok()?;
    match scope {
        Some(scope) => Some(
            sync_revocation(
                env,
                token_id,
                &scope.devices,
                version,
                TestFaults::default(),
            )
            .await,
        ),
        None => {
            mark_delivered(env, &token_subject(token_id), version).await;
            Some(SyncOutcome::default())
        }
    }
}
