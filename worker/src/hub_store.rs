//! A device object's durable state. In its SQLite: the newest copy of the device's credentials, the dashboard
//! grants it verified, and the dashboard tokens it was told are revoked. In its key-value storage: the seq
//! cursor, the last sample and when the device was last seen.
//!
//! The SQL calls are synchronous, so a decision and the writes it makes commit together in one event.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use telemetry_protocol::DashboardTelemetry;
use worker::{SqlStorage, SqlStorageValue, State, Storage, console_log};

use crate::access::{Access, DeviceRecord};
use crate::credentials::CachedGrant;
use crate::cursor::SeqCursor;

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
);";

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
        }
    }

    /// Whether the tables exist, without creating them.
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
                "SELECT count(*) AS tables FROM sqlite_master WHERE type = 'table' AND name = 'credential'",
                None,
            )
            .and_then(|c| c.one::<Count>())
            .is_ok_and(|c| c.tables > 0);
        self.schema_ready.set(found);
        found
    }

    fn rows<T: DeserializeOwned>(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Vec<T> {
        if !self.has_schema() {
            return Vec::new();
        }
        match self
            .sql
            .exec(query, bindings)
            .and_then(|c| c.to_array::<T>())
        {
            Ok(rows) => rows,
            Err(error) => {
                console_log!("device object: query failed: {error}");
                Vec::new()
            }
        }
    }

    fn write(&self, query: &str, bindings: Vec<SqlStorageValue>) -> bool {
        if !self.schema_ready.get() {
            if let Err(error) = self.sql.exec(SCHEMA, None) {
                console_log!("device object: creating tables failed: {error}");
                return false;
            }
            self.schema_ready.set(true);
        }
        match self.sql.exec(query, bindings) {
            Ok(_) => true,
            Err(error) => {
                console_log!("device object: write failed: {error}");
                false
            }
        }
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

    /// The seq cursor of the current epoch.
    pub async fn cursor(&self) -> Option<SeqCursor> {
        self.load_json(KEY_CURSOR).await
    }

    /// The last accepted sample.
    pub async fn last_sample(&self) -> Option<DashboardTelemetry> {
        self.load_json(KEY_LAST).await
    }

    /// When the hub last heard from the device, as stored (RFC 3339).
    pub async fn last_seen(&self) -> Option<String> {
        self.storage.get::<String>(KEY_SEEN).await.ok().flatten()
    }

    /// Records when the hub last heard from the device; a failed write only loses this hint.
    pub async fn mark_seen(&self, at: &str) {
        let _ = self.storage.put(KEY_SEEN, at).await;
    }

    /// Saves the cursor and the last sample (and the time it arrived) atomically.
    pub async fn save_samples(
        &self,
        cursor: &SeqCursor,
        last: &DashboardTelemetry,
    ) -> worker::Result<()> {
        // A struct becomes a plain object with one property per key; the keys are written atomically.
        #[derive(serde::Serialize)]
        struct Entries {
            cursor: String,
            last: String,
            seen: String,
        }
        let entries = Entries {
            cursor: serde_json::to_string(cursor).unwrap_or_default(),
            last: serde_json::to_string(last).unwrap_or_default(),
            seen: last.received_at.clone(),
        };
        self.storage.put_multiple(entries).await
    }

    /// Reads a value stored as JSON text; a missing or unreadable value is `None`.
    async fn load_json<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let text = self.storage.get::<String>(key).await.ok().flatten()?;
        serde_json::from_str(&text).ok()
    }
}
