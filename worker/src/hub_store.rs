//! A device object's durable state. In its SQLite: the newest copy of the device's credentials, the dashboard
//! grants it verified, the dashboard tokens it was told are revoked, the history: rows of compressed samples
//! keyed by time, and one head row with the seqs stored and the last sample; and the queue of commands with a
//! time to live (`command_rows`). In its key-value storage: when the
//! device was last seen (and, in objects older than the history, the seq cursor and the last sample).
//!
//! The SQL calls are synchronous, so a decision and the writes it makes commit together in one event.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use telemetry_protocol::{DashboardTelemetry, DeviceCounters};
use worker::{SqlStorage, SqlStorageValue, State, Storage, js_sys};

use crate::access::{Access, DeviceRecord};
use crate::credentials::CachedGrant;
use crate::history::ChunkRow;
use crate::log_event::{LogEvent, emit};
use crate::seq_ranges::SeqRanges;
use telemetry_protocol::StorageMeter;

mod command_rows;

const KEY_CURSOR: &str = "cursor";
const KEY_LAST: &str = "last";
const KEY_SEEN: &str = "seen";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS credential (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dashboard_grant (
    token_sha256 TEXT PRIMARY KEY,
    token_id TEXT NOT NULL,
    access TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked_token (
    token_id TEXT PRIMARY KEY,
    revoked_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS history_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    held TEXT NOT NULL,
    last TEXT NOT NULL,
    counters TEXT
);
CREATE TABLE IF NOT EXISTS history_chunk (
    id INTEGER PRIMARY KEY,
    end_ms INTEGER NOT NULL,
    count INTEGER NOT NULL,
    body BLOB NOT NULL,
    numbers BLOB
);
CREATE TABLE IF NOT EXISTS command_queue (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    args TEXT NOT NULL,
    state TEXT NOT NULL,
    queued_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    finished_ms INTEGER
);";

/// How many tables `has_schema` looks for (one per version of [`SCHEMA`]): an object that has some but not all
/// of them gets the missing ones on its next wake.
const VERSION_TABLES: usize = 3;

/// Rows of `history_chunk` are keyed `start_ms * CHUNK_KEY_SCALE + n`, so the table's own order is time order
/// (no index to write) and rows that start in the same millisecond still get keys of their own.
const CHUNK_KEY_SCALE: i64 = 1024;

/// A history row as read: its columns and, when asked for or when it has none, its JSON (both deflated).
#[derive(Debug, Clone)]
pub struct StoredRow {
    /// [`crate::history::NumberColumns`], deflated.
    pub numbers: Option<Vec<u8>>,
    /// The samples as deflated JSON.
    pub body: Option<Vec<u8>>,
}

/// Runs `work` in `storage.transactionSync`: if it fails, none of its writes are kept.
fn transaction_sync<T: 'static>(
    storage: &Storage,
    work: impl FnOnce() -> worker::Result<T> + 'static,
) -> worker::Result<T> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let raw: &wasm_bindgen::JsValue = storage.as_raw().as_ref();
    let run = js_sys::Reflect::get(raw, &"transactionSync".into())?
        .dyn_into::<js_sys::Function>()
        .map_err(|_| worker::Error::RustError("no transactionSync".into()))?;
    let result = std::rc::Rc::new(std::cell::RefCell::new(None));
    let slot = std::rc::Rc::clone(&result);
    let body = Closure::once(move || -> Result<(), wasm_bindgen::JsValue> {
        match work() {
            Ok(value) => {
                *slot.borrow_mut() = Some(value);
                Ok(())
            }
            // Throwing makes the runtime roll the transaction back.
            Err(error) => Err(wasm_bindgen::JsValue::from_str(&error.to_string())),
        }
    });
    run.call1(raw, body.as_ref().unchecked_ref())?;
    let value = result.borrow_mut().take();
    value.ok_or_else(|| worker::Error::RustError("the transaction returned nothing".into()))
}

/// What the history head row holds.
#[derive(Debug, Clone, Default)]
pub struct HistoryHead {
    /// The seqs written, for the current epoch.
    pub held: Option<SeqRanges>,
    /// The newest sample accepted.
    pub last: Option<DashboardTelemetry>,
    /// The device's counters as last written (`None`: none written yet; when writing, keep the stored ones).
    pub counters: Option<DeviceCounters>,
}

/// The object's storage.
pub struct HubStore {
    sql: SqlStorage,
    storage: Storage,
    /// Whether the tables are known to exist. They are created by the first write, not on every wake: a write
    /// holds the object's outgoing messages until it is durable, and most wakes write nothing.
    schema_ready: Cell<bool>,
    /// Tokens revoked while this object is in memory, durable or not: enough to refuse a handshake whose D1
    /// lookup was in flight when the revocation arrived.
    revoked_here: RefCell<HashSet<String>>,
    /// What the SQL calls cost so far.
    meter: Cell<StorageMeter>,
    /// Whether `history_head` is known to have its `counters` column (objects from before it get it once).
    counters_column: Cell<bool>,
}

impl HubStore {
    /// Opens the object's storage (no I/O).
    pub fn open(state: &State) -> Self {
        let storage = state.storage();
        let sql = storage.sql();
        Self {
            sql,
            storage,
            schema_ready: Cell::new(false),
            revoked_here: RefCell::new(HashSet::new()),
            meter: Cell::new(StorageMeter::default()),
            counters_column: Cell::new(false),
        }
    }

    /// Whether the tables exist, without creating them; an object from before the history or the command queue
    /// gets its new tables here, once.
    fn has_schema(&self) -> bool {
        if self.schema_ready.get() {
            return true;
        }
        #[derive(Deserialize)]
        struct Count {
            tables: u32,
        }
        let found = self
            .sql
            .exec(
                "SELECT count(*) AS tables FROM sqlite_master WHERE type = 'table' \
                 AND name IN ('credential', 'history_chunk', 'command_queue')",
                None,
            )
            .and_then(|c| c.one::<Count>())
            .map_or(0, |c| c.tables as usize);
        let ready = match found {
            0 => false,
            n if n < VERSION_TABLES => self.create_tables(),
            _ => true,
        };
        self.schema_ready.set(ready);
        ready
    }

    fn create_tables(&self) -> bool {
        self.exec_counted(SCHEMA, Vec::new(), "create_tables")
    }

    /// Runs `query` and meters its rows; a failure is logged as `storage_failed` with `reason`.
    fn exec_counted(&self, query: &str, bindings: Vec<SqlStorageValue>, reason: &str) -> bool {
        match self.sql.exec(query, bindings) {
            Ok(cursor) => {
                self.count(&cursor);
                true
            }
            Err(error) => {
                emit(LogEvent::new("storage_failed").reason(reason).error(error));
                false
            }
        }
    }

    /// Adds what `cursor` read and wrote to the meter.
    fn count(&self, cursor: &worker::SqlCursor) {
        let mut meter = self.meter.get();
        meter.rows_read += cursor.rows_read() as u64;
        meter.rows_written += cursor.rows_written() as u64;
        self.meter.set(meter);
    }

    /// Records that an alarm was set.
    pub fn count_alarm(&self) {
        let mut meter = self.meter.get();
        meter.alarms_set += 1;
        self.meter.set(meter);
    }

    /// What storage cost so far, with the database's size now.
    pub fn meter(&self) -> StorageMeter {
        let mut meter = self.meter.get();
        meter.database_bytes = self.sql.database_size() as u64;
        meter
    }

    fn rows<T: DeserializeOwned>(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Vec<T> {
        if !self.has_schema() {
            return Vec::new();
        }
        match self.sql.exec(query, bindings).and_then(|c| {
            let rows = c.to_array::<T>();
            self.count(&c);
            rows
        }) {
            Ok(rows) => rows,
            Err(error) => {
                emit(LogEvent::new("storage_failed").reason("query").error(error));
                Vec::new()
            }
        }
    }

    fn write(&self, query: &str, bindings: Vec<SqlStorageValue>) -> bool {
        if !self.schema_ready.get() {
            if !self.create_tables() {
                return false;
            }
            self.schema_ready.set(true);
        }
        self.exec_counted(query, bindings, "write")
    }

    /// The newest credential record this object has seen.
    pub fn device_record(&self) -> Option<DeviceRecord> {
        #[derive(Deserialize)]
        struct Row {
            record: String,
        }
        let rows: Vec<Row> = self.rows("SELECT record FROM credential WHERE id = 1", Vec::new());
        rows.first()
            .and_then(|row| serde_json::from_str(&row.record).ok())
    }

    /// Keeps `record` as the newest copy.
    pub fn put_device_record(&self, record: &DeviceRecord) -> bool {
        let text = serde_json::to_string(record).unwrap_or_default();
        self.write(
            "INSERT OR REPLACE INTO credential (id, version, record) VALUES (1, ?, ?)",
            vec![(record.version as i64).into(), text.into()],
        )
    }

    /// Forgets the copy (the device is gone from D1).
    pub fn clear_device_record(&self) -> bool {
        self.write("DELETE FROM credential", Vec::new())
    }

    /// The grant of the dashboard token with this hash, if verified here before.
    pub fn grant(&self, token_sha256: &str) -> Option<CachedGrant> {
        #[derive(Deserialize)]
        struct Row {
            token_id: String,
            access: String,
        }
        let rows: Vec<Row> = self.rows(
            "SELECT token_id, access FROM dashboard_grant WHERE token_sha256 = ?",
            vec![token_sha256.into()],
        );
        rows.into_iter().next().map(|row| CachedGrant {
            token_id: row.token_id,
            access: if row.access == "control" {
                Access::Control
            } else {
                Access::Read
            },
        })
    }

    /// Remembers a verified grant.
    pub fn put_grant(&self, token_sha256: &str, grant: &CachedGrant) -> bool {
        let access = match grant.access {
            Access::Read => "read",
            Access::Control => "control",
        };
        self.write(
            "INSERT OR REPLACE INTO dashboard_grant (token_sha256, token_id, access) VALUES (?, ?, ?)",
            vec![
                token_sha256.into(),
                grant.token_id.as_str().into(),
                access.into(),
            ],
        )
    }

    /// Whether this object was told that `token_id` is revoked.
    pub fn is_revoked(&self, token_id: &str) -> bool {
        self.revoked_here.borrow().contains(token_id)
            || self.any_row(
                "SELECT 1 AS found FROM revoked_token WHERE token_id = ? LIMIT 1",
                token_id,
            )
    }

    /// Whether this object holds a grant of `token_id` (so its revocation must be durable here).
    pub fn has_grant_of(&self, token_id: &str) -> bool {
        self.any_row(
            "SELECT 1 AS found FROM dashboard_grant WHERE token_id = ? LIMIT 1",
            token_id,
        )
    }

    /// Whether `query` (selecting `found`, with one binding) returns a row.
    fn any_row(&self, query: &str, binding: &str) -> bool {
        #[derive(Deserialize)]
        struct Found {
            #[allow(dead_code)]
            found: u8,
        }
        !self.rows::<Found>(query, vec![binding.into()]).is_empty()
    }

    /// Records that `token_id` is revoked: in memory always, and durably (with its grant forgotten, in one
    /// transaction) when `durable`, i.e. when this object ever accepted the token.
    pub fn revoke(&self, token_id: &str, now_ms: u64, durable: bool) -> bool {
        self.revoked_here.borrow_mut().insert(token_id.to_owned());
        if !durable {
            return true;
        }
        self.write(
            "INSERT OR IGNORE INTO revoked_token (token_id, revoked_ms) VALUES (?, ?)",
            vec![token_id.into(), (now_ms as i64).into()],
        ) && self.write(
            "DELETE FROM dashboard_grant WHERE token_id = ?",
            vec![token_id.into()],
        )
    }

    /// Forgets the grant of a token hash that D1 no longer knows.
    pub fn forget_grant(&self, token_sha256: &str) -> bool {
        self.write(
            "DELETE FROM dashboard_grant WHERE token_sha256 = ?",
            vec![token_sha256.into()],
        )
    }

    /// The history head: the seqs written and the last sample. An object from before the history has none yet
    /// and keeps its cursor and last sample in key-value storage; those are read instead, once.
    pub async fn history_head(&self) -> HistoryHead {
        #[derive(Deserialize)]
        struct Row {
            held: String,
            last: String,
            counters: Option<String>,
        }
        self.ensure_counters_column();
        let query = if self.counters_column.get() {
            "SELECT held, last, counters FROM history_head WHERE id = 1"
        } else {
            "SELECT held, last, NULL AS counters FROM history_head WHERE id = 1"
        };
        let rows: Vec<Row> = self.rows(query, Vec::new());
        if let Some(row) = rows.first() {
            return HistoryHead {
                held: serde_json::from_str(&row.held).ok(),
                last: serde_json::from_str(&row.last).ok(),
                counters: row
                    .counters
                    .as_deref()
                    .and_then(|c| serde_json::from_str(c).ok()),
            };
        }
        #[derive(Deserialize)]
        struct LegacyCursor {
            epoch: String,
            seq: u64,
        }
        let cursor: Option<LegacyCursor> = self.load_json(KEY_CURSOR).await;
        HistoryHead {
            held: cursor.map(|c| SeqRanges::up_to(&c.epoch, c.seq)),
            last: self.load_json(KEY_LAST).await,
            counters: None,
        }
    }

    /// Writes a group in one transaction: its rows, the head with the seqs now written and the last sample, and
    /// the deletion of rows that ended before the retention. If any statement fails, none of it is written.
    pub fn write_group(
        &self,
        rows: &[ChunkRow],
        head: &HistoryHead,
        prune_before_ms: u64,
    ) -> worker::Result<()> {
        if !self.schema_ready.get() && !self.has_schema() {
            if !self.create_tables() {
                return Err("creating the history tables failed".into());
            }
            self.schema_ready.set(true);
        }
        self.ensure_counters_column();
        let with_counters = self.counters_column.get();
        let held = serde_json::to_string(&head.held).unwrap_or_default();
        let last = serde_json::to_string(&head.last).unwrap_or_default();
        let counters: SqlStorageValue = match &head.counters {
            Some(counters) if with_counters => {
                serde_json::to_string(counters).unwrap_or_default().into()
            }
            _ => SqlStorageValue::Null,
        };
        let mut statements: Vec<(&str, Vec<SqlStorageValue>)> = Vec::with_capacity(rows.len() + 2);
        for row in rows {
            let key = row.start_ms as i64 * CHUNK_KEY_SCALE;
            statements.push((
                "INSERT INTO history_chunk (id, end_ms, count, body, numbers) VALUES \
                 ((SELECT COALESCE(MAX(id) + 1, ?) FROM history_chunk WHERE id >= ? AND id < ?), ?, ?, ?, ?)",
                vec![
                    key.into(),
                    key.into(),
                    (key + CHUNK_KEY_SCALE).into(),
                    (row.end_ms as i64).into(),
                    i64::from(row.count).into(),
                    row.body.clone().into(),
                    row.numbers.clone().into(),
                ],
            ));
        }
        // The counters ride on this row, which every group writes anyway: counting costs no row of its own.
        statements.push(if with_counters {
            (
                "INSERT INTO history_head (id, held, last, counters) VALUES (1, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET held = excluded.held, last = excluded.last, \
                 counters = COALESCE(excluded.counters, history_head.counters)",
                vec![held.into(), last.into(), counters],
            )
        } else {
            (
                "INSERT INTO history_head (id, held, last) VALUES (1, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET held = excluded.held, last = excluded.last",
                vec![held.into(), last.into()],
            )
        });
        statements.push((
            "DELETE FROM history_chunk WHERE id < ?",
            vec![(prune_before_ms as i64 * CHUNK_KEY_SCALE).into()],
        ));
        let sql = self.sql.clone();
        let outcome = transaction_sync(&self.storage, move || {
            let mut cursors = Vec::with_capacity(statements.len());
            for (query, bindings) in statements {
                cursors.push(sql.exec(query, bindings)?);
            }
            Ok(cursors)
        })?;
        for cursor in &outcome {
            self.count(cursor);
        }
        let mut meter = self.meter.get();
        meter.groups_written += u64::from(!rows.is_empty());
        meter.samples_written += rows.iter().map(|r| u64::from(r.count)).sum::<u64>();
        self.meter.set(meter);
        Ok(())
    }

    /// Gives `history_head` its `counters` column if the object's tables are older than it (once per object).
    fn ensure_counters_column(&self) {
        if self.counters_column.get() || !self.has_schema() {
            return;
        }
        let probe = self
            .sql
            .exec("SELECT counters FROM history_head LIMIT 0", None);
        let ready = probe.is_ok()
            || self.exec_counted(
                "ALTER TABLE history_head ADD COLUMN counters TEXT",
                Vec::new(),
                "add_counters_column",
            );
        self.counters_column.set(ready);
    }

    /// The history rows that start in `[from_ms, to_ms)` and end at or after `ends_from_ms`, oldest first, at
    /// most `limit`; and whether there were more. With `columns_only`, a row's JSON is read only when it has no
    /// columns.
    pub fn history_rows(
        &self,
        from_ms: u64,
        to_ms: u64,
        ends_from_ms: u64,
        limit: u32,
        columns_only: bool,
    ) -> (Vec<StoredRow>, bool) {
        if !self.has_schema() {
            return (Vec::new(), false);
        }
        let query = if columns_only {
            "SELECT numbers, CASE WHEN numbers IS NULL THEN body END AS body FROM history_chunk \
             WHERE id >= ? AND id < ? AND end_ms >= ? ORDER BY id LIMIT ?"
        } else {
            "SELECT NULL AS numbers, body FROM history_chunk \
             WHERE id >= ? AND id < ? AND end_ms >= ? ORDER BY id LIMIT ?"
        };
        let cursor = match self.sql.exec(
            query,
            vec![
                (from_ms as i64 * CHUNK_KEY_SCALE).into(),
                (to_ms as i64 * CHUNK_KEY_SCALE).into(),
                (ends_from_ms as i64).into(),
                (i64::from(limit) + 1).into(),
            ],
        ) {
            Ok(cursor) => cursor,
            Err(error) => {
                emit(
                    LogEvent::new("storage_failed")
                        .reason("read_history")
                        .error(error),
                );
                return (Vec::new(), false);
            }
        };
        let mut rows = Vec::new();
        for row in cursor.raw() {
            let Ok(values) = row else { continue };
            let mut values = values.into_iter();
            let blob = |value: Option<SqlStorageValue>| match value {
                Some(SqlStorageValue::Blob(bytes)) => Some(bytes),
                _ => None,
            };
            let numbers = blob(values.next());
            let body = blob(values.next());
            rows.push(StoredRow { numbers, body });
        }
        self.count(&cursor);
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        (rows, more)
    }

    /// When the hub last heard from the device, as stored (RFC 3339).
    pub async fn last_seen(&self) -> Option<String> {
        self.storage.get::<String>(KEY_SEEN).await.ok().flatten()
    }

    /// Records when the hub last heard from the device; a failed write only loses this hint.
    pub async fn mark_seen(&self, at: &str) {
        let _ = self.storage.put(KEY_SEEN, at).await;
    }

    /// Reads a value stored as JSON text; a missing or unreadable value is `None`.
    async fn load_json<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let text = self.storage.get::<String>(key).await.ok().flatten()?;
        serde_json::from_str(&text).ok()
    }
}
