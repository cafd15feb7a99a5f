//! Replays the committed corpus through every fuzz target, so the normal test command runs each input that
//! fuzzing kept, and checks that the target list, the libFuzzer binaries and the corpus directories agree.

use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use telemetry_fuzz::{TARGETS, Target};

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files of `dir`, sorted; empty when it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn target(name: &str) -> Target {
    *TARGETS
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no target {name}"))
}

/// Runs every file of `corpus/<name>/` through the target and fails with the list of inputs that panicked.
fn replay(name: &str) {
    let target = target(name);
    let files = files_in(&fuzz_dir().join("corpus").join(name));
    assert!(!files.is_empty(), "corpus/{name}/ has no seeds");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(&data)));
            outcome.err().map(|payload| {
                let message = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                format!("{}: {message}", file.display())
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} inputs of {name} failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name));
            }
        )*

        /// The targets that have a replay test above.
        const REPLAYED: &[&str] = &[$(stringify!($name)),*];
    };
}

replay_tests!(
    device_frame,
    dashboard_frame,
    token_format,
    token_hash,
    handshake,
    device_session,
    dashboard_session,
    admin_routes,
    admin_bodies,
    agent_config,
    agent_commands,
    sensor_output,
    history_query,
);

#[test]
fn targets_binaries_corpora_and_replays_agree() {
    let names: BTreeSet<&str> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(names, REPLAYED.iter().copied().collect(), "replay tests");
    let binaries: BTreeSet<String> = files_in(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|path| path.file_stem()?.to_str().map(str::to_owned))
        .collect();
    let names: BTreeSet<String> = names.into_iter().map(str::to_owned).collect();
    assert_eq!(names, binaries, "fuzz_targets/*.rs");
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("Cargo.toml");
    for name in &names {
        assert!(manifest.contains(&format!(
            "name = \"{name}\"\npath = \"fuzz_targets/{name}.rs\""
        )));
    }
}
