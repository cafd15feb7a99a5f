//! What a device object's storage cost since it last started: rows read and written as its SQL cursors report
//! them (what Cloudflare bills), alarms set (each billed as a row written), history written, and its size.

use serde::{Deserialize, Serialize};

/// Rows read and written as the SQL cursors report them, and alarms set, since the object started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageMeter {
    /// Rows read.
    pub rows_read: u64,
    /// Rows written (deletes and index entries included, as billed).
    pub rows_written: u64,
    /// History groups written.
    pub groups_written: u64,
    /// Samples written to history.
    pub samples_written: u64,
    /// Alarms set (each billed as a row written).
    pub alarms_set: u64,
    /// Size of the object's SQLite database, bytes.
    pub database_bytes: u64,
}
