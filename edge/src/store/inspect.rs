//! Reading a store without opening it for writing, for `edge-agent status`: what it holds, whether it can be
//! read, and whether an agent has it open. Changes nothing on disk.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::scan::{recover, scan_segment};
use super::segment::{list_segments, store_in_use};

/// What a store directory holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreReport {
    /// The store's directory.
    pub path: PathBuf,
    /// `ok`, `new` (nothing stored yet) or `unreadable` (the agent moves it aside at its next start).
    pub health: &'static str,
    /// Why it is unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// A running agent has the store open.
    pub in_use: bool,
    /// The epoch of its seqs.
    pub epoch: Option<String>,
    /// The newest seq stored (0: none yet).
    pub last_stored_seq: u64,
    /// Every seq up to this one is acknowledged by the hub or dropped.
    pub last_acked_seq: u64,
    /// Samples waiting to be confirmed by the hub.
    pub backlog: u64,
    /// Samples dropped since the store was created (it or the memory bound was full, or unreadable).
    pub dropped: u64,
    /// Seqs reserved by a run that sends before syncing or was holding samples in memory (0: none).
    pub reserved_through: u64,
    /// Segment files and their bytes on disk.
    pub segments: usize,
    /// Bytes of the segment files.
    pub bytes: u64,
    /// Stores moved aside earlier because they could not be read, kept for inspection.
    pub moved_aside: Vec<PathBuf>,
}

/// Reads the store in `dir`.
pub fn inspect(dir: &Path) -> StoreReport {
    let mut report = StoreReport {
        path: dir.to_owned(),
        health: "new",
        problem: None,
        in_use: store_in_use(dir),
        epoch: None,
        last_stored_seq: 0,
        last_acked_seq: 0,
        backlog: 0,
        dropped: 0,
        reserved_through: 0,
        segments: 0,
        bytes: 0,
        moved_aside: moved_aside(dir),
    };
    if let Err(problem) = read_into(dir, &mut report) {
        report.health = "unreadable";
        report.problem = Some(problem);
    }
    report
}

fn read_into(dir: &Path, report: &mut StoreReport) -> Result<(), String> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return Err("a file, not a store directory (a store of an older agent?)".into());
    }
    let (indexes, _) = list_segments(dir).map_err(|e| e.to_string())?;
    let mut scanned = Vec::new();
    for (position, &index) in indexes.iter().enumerate() {
        let bytes =
            fs::read(dir.join(super::segment::segment_name(index))).map_err(|e| e.to_string())?;
        report.bytes += bytes.len() as u64;
        match scan_segment(index, &bytes) {
            Ok(segment) => scanned.push(segment),
            // A last segment whose creation was cut short: the agent removes it at start.
            Err(_) if position + 1 == indexes.len() && bytes.iter().all(|&b| b == 0) => {}
            Err(damage) => return Err(damage.to_string()),
        }
    }
    report.segments = indexes.len();
    if scanned.is_empty() {
        return Ok(());
    }
    let state = recover(&scanned).map_err(|damage| damage.to_string())?;
    report.health = "ok";
    report.last_stored_seq = state.entries.last().map_or(state.floor, |e| e.seq);
    report.last_acked_seq = state.floor;
    report.backlog = state.entries.len() as u64;
    report.dropped = state.dropped;
    report.reserved_through = state.reserved;
    report.epoch = Some(state.epoch);
    Ok(())
}

/// Siblings of `dir` named `<dir>.unreadable-*`.
fn moved_aside(dir: &Path) -> Vec<PathBuf> {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name().and_then(|n| n.to_str()))
    else {
        return Vec::new();
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let prefix = format!("{name}.unreadable-");
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}
