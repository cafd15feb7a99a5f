//! The test copy of wrangler.toml (no `[build]` step, `main` pointing at a private copy of the built Worker)
//! and the `.dev.vars` beside it.
//!
//! Each hub gets its own copy of `index.js` and `index_bg.wasm`, so a later rebuild of `worker/build/` (by
//! another test binary, or by `scripts/dev`) never makes a running `wrangler dev` reload under a test.

use std::fs;
use std::path::{Path, PathBuf};

use crate::worker_build::BUNDLE_FILES;
use crate::workspace;

/// Rewrites the project's wrangler.toml for tests: drops the `[build]` table and points `main` at `main_path`.
///
/// Only a `main` before the first table header is top-level and rewritten. Panics if there is none, since the
/// result would not start the Worker.
pub fn without_build_step(project_toml: &str, main_path: &Path) -> String {
    let mut out = String::with_capacity(project_toml.len());
    let mut in_table = false;
    let mut in_build_table = false;
    let mut main_replaced = false;
    for line in project_toml.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_table = true;
            in_build_table = is_build_table_header(trimmed);
        }
        if in_build_table {
            continue;
        }
        if !in_table && is_key(trimmed, "main") {
            out.push_str(&format!("main = {}\n", toml_string(main_path)));
            main_replaced = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(main_replaced, "wrangler.toml has no top-level `main` key");
    out
}

/// Copies the built Worker into `dir/worker/` and writes `dir/wrangler.toml`; returns the config's path.
pub fn write_test_config(dir: &Path, bundle: &Path) -> PathBuf {
    let worker_dir = dir.join("worker");
    fs::create_dir_all(&worker_dir).expect("create the test Worker directory");
    for file in BUNDLE_FILES {
        fs::copy(bundle.join(file), worker_dir.join(file))
            .unwrap_or_else(|e| panic!("copy {file} from {}: {e}", bundle.display()));
    }
    let project_toml = workspace::wrangler_toml();
    let project = fs::read_to_string(&project_toml)
        .unwrap_or_else(|e| panic!("read {}: {e}", project_toml.display()));
    let config = dir.join("wrangler.toml");
    let text = without_build_step(&project, &worker_dir.join("index.js"));
    fs::write(&config, text).unwrap_or_else(|e| panic!("write {}: {e}", config.display()));
    config
}

/// Writes `dir/.dev.vars` (read by `wrangler dev` from beside its config) unless `vars` is empty.
pub fn write_dev_vars(dir: &Path, vars: &[(&str, &str)]) {
    if vars.is_empty() {
        return;
    }
    let text: String = vars.iter().map(|(k, v)| dev_vars_line(k, v)).collect();
    let path = dir.join(".dev.vars");
    fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// `NAME="VALUE"` and a newline; panics on what the dotenv format cannot carry verbatim.
fn dev_vars_line(name: &str, value: &str) -> String {
    assert!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "variable name {name:?} must be [A-Za-z0-9_]+"
    );
    assert!(
        !value.contains(['"', '\\', '\n', '\r']),
        "the value of {name} must not contain quotes, backslashes or line breaks"
    );
    format!("{name}=\"{value}\"\n")
}

/// `[build]` or `[build.something]` (with optional spaces and a trailing comment), but not `[[build]]`.
fn is_build_table_header(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some((name, _)) = rest.split_once(']') else {
        return false;
    };
    let name = name.trim();
    name == "build" || name.starts_with("build.")
}

/// `key = ...` (bare key only).
fn is_key(line: &str, key: &str) -> bool {
    line.strip_prefix(key)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// A TOML basic string holding `path`.
fn toml_string(path: &Path) -> String {
    let raw = path.to_string_lossy();
    format!("\"{}\"", raw.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROJECT: &str = r#"# comment
name = "telemetry-hub"
main = "worker/build/index.js"
compatibility_date = "2026-04-20"

[build]
command = "scripts/build-worker"

[[d1_databases]]
binding = "DB"
maintenance = "not main"

[build.upload]
format = "modules"
"#;

    #[test]
    fn drops_the_build_table_and_rewrites_main() {
        let out = without_build_step(PROJECT, Path::new("/tmp/x/worker/index.js"));
        assert!(!out.contains("scripts/build-worker"), "{out}");
        assert!(out.contains("main = \"/tmp/x/worker/index.js\"\n"), "{out}");
        assert!(!out.contains("worker/build/index.js"), "{out}");
        assert!(out.contains("[[d1_databases]]\nbinding = \"DB\""), "{out}");
        assert!(out.contains("maintenance = \"not main\""), "{out}");
        assert!(out.contains("compatibility_date"), "{out}");
        assert!(!out.contains("[build.upload]"), "{out}");
    }

    #[test]
    fn recognises_only_build_table_headers() {
        assert!(is_build_table_header("[build]"));
        assert!(is_build_table_header("[ build ] # x"));
        assert!(is_build_table_header("[build.upload]"));
        assert!(!is_build_table_header("[[build]]"));
        assert!(!is_build_table_header("[builder]"));
        assert!(!is_build_table_header("[[d1_databases]]"));
    }

    #[test]
    #[should_panic(expected = "no top-level `main`")]
    fn refuses_a_config_without_main() {
        without_build_step("name = \"x\"\n", Path::new("/x"));
    }

    #[test]
    fn writes_dotenv_lines() {
        assert_eq!(
            dev_vars_line("AUTH_FAILURE_LIMIT", "1000"),
            "AUTH_FAILURE_LIMIT=\"1000\"\n"
        );
    }

    #[test]
    #[should_panic(expected = "must not contain")]
    fn refuses_values_dotenv_would_mangle() {
        dev_vars_line("X", "a\"b");
    }

    #[test]
    fn quotes_paths() {
        assert_eq!(toml_string(Path::new(r#"/a "b"\c"#)), r#""/a \"b\"\\c""#);
    }
}
