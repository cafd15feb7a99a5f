//! What a device object's storage cost since it last started, as the admin API reports it in a device's `storage`:
//! rows read and written as its SQL cursors report them (what Cloudflare bills), alarms set (each billed as a row
//! written), history written, and its size.

use serde::{Deserialize, Serialize};

/// `storage` of a device row: rows read and written as the SQL cursors report them, alarms set and history
/// written since the object started, and its database size.
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

impl StorageMeter {
    /// What was counted between `earlier` and this reading (the database's size is this reading's, not a count).
    pub fn since(&self, earlier: &StorageMeter) -> StorageMeter {
        StorageMeter {
            rows_read: self.rows_read.saturating_sub(earlier.rows_read),
            rows_written: self.rows_written.saturating_sub(earlier.rows_written),
            groups_written: self.groups_written.saturating_sub(earlier.groups_written),
            samples_written: self.samples_written.saturating_sub(earlier.samples_written),
            alarms_set: self.alarms_set.saturating_sub(earlier.alarms_set),
            database_bytes: self.database_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_subtracts_counts_and_keeps_the_later_size() {
        let before = StorageMeter {
            rows_read: 10,
            rows_written: 7,
            database_bytes: 4096,
            ..StorageMeter::default()
        };
        let after = StorageMeter {
            rows_read: 25,
            rows_written: 7,
            database_bytes: 8192,
            ..StorageMeter::default()
        };
        let delta = after.since(&before);
        assert_eq!((delta.rows_read, delta.rows_written), (15, 0));
        assert_eq!(delta.database_bytes, 8192);
        assert_eq!(
            before.since(&after).rows_read,
            0,
            "a restarted object never goes negative"
        );
    }
}
