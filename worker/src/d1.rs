//! The Worker's one way into D1: bound-parameter queries on the `DB` binding, and the credential lookups that
//! the gateway, the admin API and the device objects share.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use telemetry_protocol::DeviceId;
use worker::wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, D1Result, Env, Result};

use crate::access::{DashboardRecord, DeviceRecord};
use crate::log_event::{LogEvent, emit};

/// Binding name of the D1 database.
const DB_BINDING: &str = "DB";

/// The `hub_sync` subject of a device's credentials.
pub fn device_subject(device_id: &str) -> String {
    format!("device:{device_id}")
}

/// The `hub_sync` subject of a dashboard token's revocation.
pub fn token_subject(token_id: &str) -> String {
    format!("dashboard_token:{token_id}")
}

/// A device's credentials with the version of their last change (0 when never changed through the admin API).
pub const DEVICE_RECORD_SQL: &str = "SELECT d.token_sha256, d.disabled_at, d.previous_token_sha256, \
     d.previous_valid_until, COALESCE(s.version, 0) AS version \
     FROM devices d LEFT JOIN hub_sync s ON s.subject = 'device:' || d.id WHERE d.id = ?1";

/// The first row of `sql` with `params` bound, if any (a read: retried on a passing failure).
pub async fn first<T: DeserializeOwned>(
    env: &Env,
    sql: &str,
    params: &[JsValue],
) -> Result<Option<T>> {
    with_retries(|| async {
        let statement = env.d1(DB_BINDING)?.prepare(sql).bind(params)?;
        statement.first::<T>(None).await
    })
    .await
}

/// Every row of `sql` with `params` bound (a read: retried on a passing failure).
pub async fn all<T: DeserializeOwned>(env: &Env, sql: &str, params: &[JsValue]) -> Result<Vec<T>> {
    with_retries(|| async {
        let statement = env.d1(DB_BINDING)?.prepare(sql).bind(params)?;
        statement.all().await?.results::<T>()
    })
    .await
}

/// Runs a write with `params` bound and returns how many rows it changed.
pub async fn run(env: &Env, sql: &str, params: &[JsValue]) -> Result<usize> {
    let statement = env.d1(DB_BINDING)?.prepare(sql).bind(params)?;
    let result = statement.run().await?;
    Ok(changes(&result))
}

/// The first row of a write with `RETURNING`, tried once (a retry could apply the write twice).
pub async fn write_returning<T: DeserializeOwned>(
    env: &Env,
    sql: &str,
    params: &[JsValue],
) -> Result<Option<T>> {
    let statement = env.d1(DB_BINDING)?.prepare(sql).bind(params)?;
    statement.first::<T>(None).await
}

/// A prepared statement for [`batch`].
pub fn statement(env: &Env, sql: &str, params: &[JsValue]) -> Result<D1PreparedStatement> {
    env.d1(DB_BINDING)?.prepare(sql).bind(params)
}

/// Runs `statements` in one transaction: all of them or none.
pub async fn batch(env: &Env, statements: Vec<D1PreparedStatement>) -> Result<Vec<D1Result>> {
    env.d1(DB_BINDING)?.batch(statements).await
}

/// How many rows a write changed.
pub fn changes(result: &D1Result) -> usize {
    result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0)
}

/// The device's credentials as D1 has them now, or `None` if there is no such device.
pub async fn device_record(env: &Env, device_id: &DeviceId) -> Result<Option<DeviceRecord>> {
    first(env, DEVICE_RECORD_SQL, &[device_id.as_str().into()]).await
}

/// Runs a read, trying twice more after a short pause if D1 fails (a busy or restarting database): a
/// handshake should not fail for a hiccup that is over in milliseconds.
async fn with_retries<T, F, Fut>(read: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut pause_ms = 25;
    let mut outcome = read().await;
    for _ in 0..2 {
        let Err(error) = &outcome else {
            break;
        };
        emit(
            LogEvent::new("d1_read_retry")
                .with("pause_ms", pause_ms)
                .error(error),
        );
        worker::Delay::from(std::time::Duration::from_millis(pause_ms)).await;
        pause_ms *= 4;
        outcome = read().await;
    }
    outcome
}

/// A dashboard token looked up by hash for one device: the token's row, and whether the device exists.
#[derive(Debug, Clone)]
pub struct DashboardLookup {
    /// The token's row.
    pub record: DashboardRecord,
    /// Whether `devices` has the device (a `*` token opens only devices that exist).
    pub device_exists: bool,
}

/// Looks up the dashboard token with `token_sha256` for `device_id`.
pub async fn dashboard_lookup(
    env: &Env,
    token_sha256: &str,
    device_id: &DeviceId,
) -> Result<Option<DashboardLookup>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        token_sha256: String,
        devices: String,
        access: String,
        revoked_at: Option<String>,
        device_exists: f64,
    }
    let row: Option<Row> = first(
        env,
        "SELECT t.id, t.token_sha256, t.devices, t.access, t.revoked_at, \
         EXISTS (SELECT 1 FROM devices WHERE id = ?2) AS device_exists \
         FROM dashboard_tokens t WHERE t.token_sha256 = ?1",
        &[token_sha256.into(), device_id.as_str().into()],
    )
    .await?;
    Ok(row.map(|row| DashboardLookup {
        record: DashboardRecord {
            id: row.id,
            token_sha256: row.token_sha256,
            devices: row.devices,
            access: row.access,
            revoked_at: row.revoked_at,
        },
        device_exists: row.device_exists > 0.0,
    }))
}

/// Records that `device_id`'s object accepted dashboard token `token_id` (see `dashboard_sessions`); a failure
/// only costs speed, since a revocation reaches every device in the token's scope anyway.
pub async fn register_dashboard_session(env: &Env, token_id: &str, device_id: &DeviceId) {
    let now = worker::Date::now().as_millis();
    let result = run(
        env,
        "INSERT OR IGNORE INTO dashboard_sessions (token_id, device_id, first_seen_ms) VALUES (?1, ?2, ?3)",
        &[
            token_id.into(),
            device_id.as_str().into(),
            JsValue::from_f64(now as f64),
        ],
    )
    .await;
    if let Err(error) = result {
        emit(
            LogEvent::new("dashboard_session_record_failed")
                .device(device_id.as_str())
                .with("token_id", token_id)
                .error(error),
        );
    }
}
