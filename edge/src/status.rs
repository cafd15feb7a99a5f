//! `edge-agent status [--config PATH] [--store DIR] [--json]`: what the sample store holds and whether it is
//! healthy, read without disturbing a running agent. The first thing to run on a Pi.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::config::{AgentConfig, ConfigFile, DEFAULT_CONFIG_PATH};
use crate::store::{StoreReport, inspect};

/// Usage of the subcommand.
pub const STATUS_USAGE: &str = "usage: edge-agent status [--config PATH] [--store DIR] [--json]

Prints the sample store's epoch, last stored and last acknowledged seq, backlog, dropped samples and
health. The store is found like the agent finds it (store.path in the config file, EDGE_STORE__PATH),
or given with --store. Exit status: 0 healthy or new, 1 unreadable, 78 bad arguments or config.";

/// What `status` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusArgs {
    /// The config file to read `store.path` from.
    pub config: ConfigFile,
    /// The store directory, overriding the config.
    pub store: Option<PathBuf>,
    /// Print JSON instead of text.
    pub json: bool,
}

/// Reads the arguments after `status`; `Ok(None)` for `--help`.
pub fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<StatusArgs>, String> {
    let mut parsed = StatusArgs {
        config: ConfigFile::Optional(PathBuf::from(DEFAULT_CONFIG_PATH)),
        store: None,
        json: false,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => {
                let path = args.next().ok_or("--config needs a path")?;
                parsed.config = ConfigFile::Required(PathBuf::from(path));
            }
            "--store" => {
                parsed.store = Some(PathBuf::from(
                    args.next().ok_or("--store needs a directory")?,
                ))
            }
            "--json" => parsed.json = true,
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(Some(parsed))
}

/// The report for `args`, or the config error that kept the store's path from being known.
pub fn report(
    args: &StatusArgs,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<StoreReport, String> {
    let path = match &args.store {
        Some(path) => path.clone(),
        None => AgentConfig::load_store_path(&args.config, env).map_err(|e| e.to_string())?,
    };
    Ok(inspect(&path))
}

/// The report as `--json` prints it.
pub fn to_json(report: &StoreReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// The report as text, one `name: value` per line.
pub fn to_text(report: &StoreReport) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: String| {
        let _ = writeln!(out, "{name:<17}{value}");
    };
    line("store:", report.path.display().to_string());
    let health = match (&report.problem, report.in_use) {
        (Some(problem), _) => {
            format!("unreadable: {problem} (the agent moves it aside at its next start)")
        }
        (None, true) => format!("{} (open by a running agent)", report.health),
        (None, false) => format!("{} (no agent has it open)", report.health),
    };
    line("health:", health);
    line("epoch:", report.epoch.clone().unwrap_or_else(|| "-".into()));
    line("last stored seq:", report.last_stored_seq.to_string());
    line("last acked seq:", report.last_acked_seq.to_string());
    line("backlog:", format!("{} samples", report.backlog));
    line("dropped:", format!("{} samples", report.dropped));
    if report.reserved_through != 0 {
        line(
            "reserved:",
            format!(
                "seqs up to {} (samples were sent before they were durable; a restart continues after it)",
                report.reserved_through
            ),
        );
    }
    line(
        "on disk:",
        format!("{} segments, {} KiB", report.segments, report.bytes / 1024),
    );
    for aside in &report.moved_aside {
        line("moved aside:", aside.display().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_read_and_refused_clearly() {
        let args = |list: &[&str]| parse_args(list.iter().map(|s| (*s).to_owned()));
        let parsed = args(&["--json", "--store", "/tmp/s"])
            .expect("parse")
            .expect("not help");
        assert!(parsed.json);
        assert_eq!(parsed.store, Some(PathBuf::from("/tmp/s")));
        assert_eq!(args(&["--help"]), Ok(None));
        assert_eq!(args(&["--store"]), Err("--store needs a directory".into()));
        assert_eq!(
            args(&["--jsn"]),
            Err("unexpected argument \"--jsn\"".into())
        );
    }

    #[test]
    fn the_text_names_every_figure_and_an_unreadable_store_says_what_happens_next() {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let path = dir.path().join("s");
        {
            let store = crate::store::SampleStore::open(&path, 100).expect("open");
            for n in 0..5 {
                store
                    .append("2026-01-01T00:00:00.000Z", serde_json::Map::new())
                    .expect("append");
                let _ = n;
            }
            store.ack_through(2).expect("ack");
            store.persist().expect("persist");
        }
        let report = inspect(&path);
        assert_eq!(
            (
                report.last_stored_seq,
                report.last_acked_seq,
                report.backlog
            ),
            (5, 2, 3)
        );
        let text = to_text(&report);
        for expected in [
            "health:          ok (no agent has it open)",
            "last stored seq: 5",
            "last acked seq:  2",
            "backlog:         3 samples",
            "dropped:         0 samples",
        ] {
            assert!(text.contains(expected), "{expected:?} in\n{text}");
        }
        let json: serde_json::Value = serde_json::from_str(&to_json(&report)).expect("json");
        assert_eq!(json["backlog"], 3);
        assert_eq!(json["health"], "ok");
        std::fs::write(path.join("0000000000000000.seg"), b"garbage").expect("damage");
        let text = to_text(&inspect(&path));
        assert!(
            text.contains("unreadable: segment 0 has no valid header"),
            "{text}"
        );
    }
}
