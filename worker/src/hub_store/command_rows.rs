//! The rows of the command queue in the device object's SQLite: one row per command, keyed by its place in the
//! queue (no other index, so a change writes one row).

use serde::Deserialize;
use serde_json::{Map, Value};
use telemetry_protocol::{Command, CommandState};
use worker::SqlStorageValue;

use super::HubStore;
use crate::command_queue::QueuedCommand;

/// A row as read.
#[derive(Deserialize)]
struct Row {
    seq: i64,
    id: String,
    name: String,
    args: String,
    state: String,
    queued_ms: u64,
    expires_ms: u64,
    finished_ms: Option<u64>,
}

impl Row {
    /// The entry the row holds; `None` for a row this version cannot read.
    fn entry(self) -> Option<QueuedCommand> {
        let args: Map<String, Value> = serde_json::from_str(&self.args).ok()?;
        Some(QueuedCommand {
            seq: self.seq,
            command: Command {
                id: self.id,
                name: self.name,
                args,
            },
            state: CommandState::parse(&self.state)?,
            queued_ms: self.queued_ms,
            expires_ms: self.expires_ms,
            finished_ms: self.finished_ms,
        })
    }
}

impl HubStore {
    /// Every entry of the queue, in queue order.
    pub fn queued_commands(&self) -> Vec<QueuedCommand> {
        let rows: Vec<Row> = self.rows(
            "SELECT seq, id, name, args, state, queued_ms, expires_ms, finished_ms \
             FROM command_queue ORDER BY seq",
            Vec::new(),
        );
        rows.into_iter().filter_map(Row::entry).collect()
    }

    /// Stores a new entry (one row written).
    pub fn insert_command(&self, entry: &QueuedCommand) -> bool {
        let args = serde_json::to_string(&entry.command.args).unwrap_or_else(|_| "{}".to_owned());
        self.write(
            "INSERT INTO command_queue (seq, id, name, args, state, queued_ms, expires_ms, finished_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                entry.seq.into(),
                entry.command.id.as_str().into(),
                entry.command.name.as_str().into(),
                args.into(),
                entry.state.as_str().into(),
                (entry.queued_ms as i64).into(),
                (entry.expires_ms as i64).into(),
                optional_ms(entry.finished_ms),
            ],
        )
    }

    /// Stores an entry's new state (one row written).
    pub fn update_command(&self, entry: &QueuedCommand) -> bool {
        self.write(
            "UPDATE command_queue SET state = ?, finished_ms = ? WHERE seq = ?",
            vec![
                entry.state.as_str().into(),
                optional_ms(entry.finished_ms),
                entry.seq.into(),
            ],
        )
    }

    /// Deletes the rows of entries no longer kept (one row written each).
    pub fn delete_commands(&self, seqs: &[i64]) -> bool {
        seqs.iter().all(|seq| {
            self.write(
                "DELETE FROM command_queue WHERE seq = ?",
                vec![(*seq).into()],
            )
        })
    }
}

fn optional_ms(ms: Option<u64>) -> SqlStorageValue {
    ms.map_or(SqlStorageValue::Null, |ms| (ms as i64).into())
}
