//! The local copy of wrangler.toml (no `[build]` step, `main` at a built Worker, `[assets]` at a built dashboard)
//! and the `.dev.vars` beside it: the one generator of a local Worker config, used by the tests' hubs, the bench
//! and (through the `local-wrangler-config` binary) `scripts/dev`.
//!
//! Each test hub gets its own copy of `index.js` and `index_bg.wasm` and of `web/dist/`, so a later rebuild of
//! `worker/build/` or of the dashboard (by another test binary, or by `scripts/dev`) never makes a running
//! `wrangler dev` reload under a test.

use std::fs;
use std::path::{Path, PathBuf};

use crate::dashboard_build::{copy_dir, dashboard_build};
use crate::worker_build::BUNDLE_FILES;
use crate::workspace;

/// The project's wrangler.toml has no top-level `main`, so no local config of it could start the Worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoTopLevelMain;

impl std::fmt::Display for NoTopLevelMain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("wrangler.toml has no top-level `main` key")
    }
}

impl std::error::Error for NoTopLevelMain {}

/// The project's wrangler.toml (`project_toml`) for a local `wrangler dev`: without its `[build]` table and its
/// Analytics Engine datasets (locally the Worker then logs its fleet metrics, which tests read; `wrangler dev`
/// would bind a stand-in that keeps nothing), with
/// `main` at `main` and the `[assets]` directory (if it has one) at `assets`. Both paths should be absolute,
/// since wrangler resolves relative ones against the config's own directory.
pub fn local_config(
    project_toml: &str,
    main: &Path,
    assets: &Path,
) -> Result<String, NoTopLevelMain> {
    let config = without_build_step(project_toml, main)?;
    Ok(with_assets_directory(&config, assets))
}

/// Copies the built Worker's files from `bundle` into `worker_dir` (created); returns the copy's `index.js`.
pub fn copy_bundle(bundle: &Path, worker_dir: &Path) -> std::io::Result<PathBuf> {
    fs::create_dir_all(worker_dir)?;
    for file in BUNDLE_FILES {
        fs::copy(bundle.join(file), worker_dir.join(file)).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("copy {file} from {}: {e}", bundle.display()),
            )
        })?;
    }
    Ok(worker_dir.join("index.js"))
}

/// Drops the `[build]` table and points `main` at `main_path`. Only a `main` before the first table header is
/// top-level and rewritten; without one the result would not start the Worker.
fn without_build_step(project_toml: &str, main_path: &Path) -> Result<String, NoTopLevelMain> {
    let mut out = String::with_capacity(project_toml.len());
    let mut in_table = false;
    let mut in_build_table = false;
    let mut main_replaced = false;
    for line in project_toml.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_table = true;
            in_build_table = is_build_table_header(trimmed)
                || array_table_name(trimmed) == Some("analytics_engine_datasets");
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
    if main_replaced {
        Ok(out)
    } else {
        Err(NoTopLevelMain)
    }
}

/// Points the `directory` of the `[assets]` table at `assets`. A config without `[assets]` comes back unchanged.
fn with_assets_directory(config: &str, assets: &Path) -> String {
    let mut out = String::with_capacity(config.len());
    let mut in_assets = false;
    for line in config.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_assets = table_name(trimmed) == Some("assets");
        }
        if in_assets && is_key(trimmed, "directory") {
            out.push_str(&format!("directory = {}\n", toml_string(assets)));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Copies the built Worker into `dir/worker/` and the built dashboard into `dir/assets/`, and writes
/// `dir/wrangler.toml`; returns the config's path.
pub fn write_test_config(dir: &Path, bundle: &Path) -> PathBuf {
    let main = copy_bundle(bundle, &dir.join("worker")).unwrap_or_else(|e| panic!("{e}"));
    let project_toml = workspace::wrangler_toml();
    let project = fs::read_to_string(&project_toml)
        .unwrap_or_else(|e| panic!("read {}: {e}", project_toml.display()));
    let assets = dir.join("assets");
    if project
        .lines()
        .any(|l| table_name(l.trim_start()) == Some("assets"))
    {
        copy_dir(dashboard_build(), &assets);
    }
    let text = local_config(&project, &main, &assets).unwrap_or_else(|e| panic!("{e}"));
    let config = dir.join("wrangler.toml");
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
    table_name(line).is_some_and(|name| name == "build" || name.starts_with("build."))
}

/// The name of the table a `[name]` header opens (trimmed); `None` for `[[array]]` headers and other lines.
fn table_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('[')?;
    if rest.starts_with('[') {
        return None;
    }
    rest.split_once(']').map(|(name, _)| name.trim())
}

/// The name of the array of tables a `[[name]]` header adds to; `None` for other lines.
fn array_table_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("[[")?;
    rest.split_once("]]").map(|(name, _)| name.trim())
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

[[analytics_engine_datasets]]
binding = "FLEET_METRICS"
dataset = "telemetry_hub_fleet"

[[d1_databases]]
binding = "SECOND"
"#;

    #[test]
    fn drops_the_build_table_and_rewrites_main() {
        let out = without_build_step(PROJECT, Path::new("/tmp/x/worker/index.js")).expect("main");
        assert!(!out.contains("scripts/build-worker"), "{out}");
        assert!(out.contains("main = \"/tmp/x/worker/index.js\"\n"), "{out}");
        assert!(!out.contains("worker/build/index.js"), "{out}");
        assert!(out.contains("[[d1_databases]]\nbinding = \"DB\""), "{out}");
        assert!(out.contains("maintenance = \"not main\""), "{out}");
        assert!(
            !out.contains("FLEET_METRICS") && !out.contains("analytics_engine"),
            "the metrics dataset is left out locally: {out}"
        );
        assert!(
            out.contains("[[d1_databases]]\nbinding = \"SECOND\""),
            "{out}"
        );
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
    fn refuses_a_config_without_main() {
        let refused = without_build_step("name = \"x\"\n", Path::new("/x")).expect_err("no main");
        assert!(
            refused.to_string().contains("no top-level `main`"),
            "{refused}"
        );
    }

    #[test]
    fn points_the_assets_directory_at_an_absolute_path() {
        let config = "main = \"x\"\ndirectory = \"top\"\n\n[assets]\ndirectory = \"web/dist\"\nrun_worker_first = [\"/ws/*\"]\n\n[vars]\ndirectory = \"v\"\n";
        let out = with_assets_directory(config, Path::new("/tmp/h/assets"));
        assert!(
            out.contains("[assets]\ndirectory = \"/tmp/h/assets\"\nrun_worker_first"),
            "{out}"
        );
        assert!(out.contains("directory = \"top\""), "{out}");
        assert!(out.contains("[vars]\ndirectory = \"v\""), "{out}");
        assert_eq!(with_assets_directory(PROJECT, Path::new("/a")), PROJECT);
    }

    #[test]
    fn names_tables_but_not_arrays_of_tables() {
        assert_eq!(table_name("[assets]"), Some("assets"));
        assert_eq!(table_name("[ assets ] # x"), Some("assets"));
        assert_eq!(table_name("[[migrations]]"), None);
        assert_eq!(table_name("directory = 1"), None);
    }

    #[test]
    fn makes_the_projects_own_config_local() {
        let project = fs::read_to_string(workspace::wrangler_toml()).expect("wrangler.toml");
        let local = local_config(&project, Path::new("/w/index.js"), Path::new("/w/assets"))
            .expect("the project has a top-level main");
        assert!(!local.contains("[build]"), "{local}");
        assert!(local.contains("main = \"/w/index.js\"\n"), "{local}");
        assert!(
            local.contains("[assets]\ndirectory = \"/w/assets\"\n"),
            "{local}"
        );
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
