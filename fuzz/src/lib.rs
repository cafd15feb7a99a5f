//! Fuzz targets for every input boundary of the hub and the agent, each a function of the raw input bytes.
//!
//! A target panics when the code under test panics or when a property it checks does not hold; it returns
//! quietly otherwise. The same functions run under libFuzzer (the binaries in `fuzz_targets/`, built with the
//! `libfuzzer` feature by `scripts/fuzz`) and under `cargo test`, which replays the committed seed corpus in
//! `corpus/<target>/` through them. Structured inputs use the readable layout of [`fields`].
//!
//! A new target is a function here and an entry in [`TARGETS`], a binary in `fuzz_targets/` with its `[[bin]]`
//! in Cargo.toml, a replay test in `tests/corpus.rs` and seeds in `corpus/<name>/` (written by
//! `examples/seed_corpus.rs`); `tests/corpus.rs` fails until all of them agree.

pub mod admin;
pub mod agent_commands;
pub mod agent_config;
pub mod fields;
pub mod frames;
pub mod handshake;
pub mod history;
pub mod hub_session;
pub mod json_equivalence;
pub mod sensor_output;
pub mod tokens;

/// A named fuzz target.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The name of its binary and of its corpus directory.
    pub name: &'static str,
    /// Runs one input; panics on a finding.
    pub run: fn(&[u8]),
}

/// Every target, in the order `scripts/fuzz` runs them.
pub const TARGETS: [Target; 13] = [
    Target {
        name: "device_frame",
        run: frames::device_frame,
    },
    Target {
        name: "dashboard_frame",
        run: frames::dashboard_frame,
    },
    Target {
        name: "token_format",
        run: tokens::token_format,
    },
    Target {
        name: "token_hash",
        run: tokens::token_hash,
    },
    Target {
        name: "handshake",
        run: handshake::handshake,
    },
    Target {
        name: "device_session",
        run: hub_session::device_session,
    },
    Target {
        name: "dashboard_session",
        run: hub_session::dashboard_session,
    },
    Target {
        name: "admin_routes",
        run: admin::admin_routes,
    },
    Target {
        name: "admin_bodies",
        run: admin::admin_bodies,
    },
    Target {
        name: "agent_config",
        run: agent_config::agent_config,
    },
    Target {
        name: "agent_commands",
        run: agent_commands::agent_commands,
    },
    Target {
        name: "sensor_output",
        run: sensor_output::sensor_output,
    },
    Target {
        name: "history_query",
        run: history::history_query,
    },
];
