//! How to run `wrangler d1 execute` (which program, config, database and target) and how to read what it
//! printed. Both are pure ([`Wrangler::command`], [`interpret`]); only `Wrangler::run` starts the process.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::Value;

use crate::HubctlError;

/// Environment every wrangler run gets: no telemetry, no remote lookups it does not need, no banner.
pub const QUIET_ENV: [(&str, &str); 3] = [
    ("WRANGLER_SEND_METRICS", "false"),
    ("CLOUDFLARE_CF_FETCH_ENABLED", "false"),
    ("WRANGLER_HIDE_BANNER", "true"),
];

/// Where wrangler lives in an npm project, relative to the project root.
pub const NODE_MODULES_WRANGLER: &str = "node_modules/.bin/wrangler";

/// The wrangler executable and the arguments that come before wrangler's own (`npx wrangler`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WranglerProgram {
    program: PathBuf,
    leading_args: Vec<OsString>,
}

impl WranglerProgram {
    /// A wrangler executable at `program` (a path, or a bare name looked up in `PATH`).
    pub fn path(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            leading_args: Vec::new(),
        }
    }

    /// `npx wrangler`, the fallback when no local install is found.
    pub fn npx() -> Self {
        Self {
            program: PathBuf::from("npx"),
            leading_args: vec![OsString::from("wrangler")],
        }
    }

    /// `node_modules/.bin/wrangler` in `start` or the nearest ancestor that has one, else `npx wrangler`.
    pub fn discover(start: &Path) -> Self {
        start
            .ancestors()
            .map(|dir| dir.join(NODE_MODULES_WRANGLER))
            .find(|candidate| candidate.is_file())
            .map_or_else(Self::npx, Self::path)
    }
}

/// Which D1 database instance wrangler talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The local simulator's database, optionally persisted under a chosen directory.
    Local {
        /// Passed as `--persist-to` (wrangler keeps its state under `<dir>/v3/d1`).
        persist_to: Option<PathBuf>,
    },
    /// The deployed database on Cloudflare (needs `wrangler login` or `CLOUDFLARE_API_TOKEN`).
    Remote,
}

impl Target {
    /// `local` or `remote`, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Local { .. } => "local",
            Self::Remote => "remote",
        }
    }
}

/// What `d1 execute` runs: a file of statements, or one short command (used for read-only queries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlInput {
    /// `--file PATH`.
    File(PathBuf),
    /// `--command SQL`. Only for SQL that holds nothing secret (it appears in the process list).
    Command(String),
}

/// How to run wrangler against one D1 database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrangler {
    program: WranglerProgram,
    config: PathBuf,
    database: String,
    target: Target,
}

impl Wrangler {
    /// Binding name of the hub's database in `wrangler.toml`, the default `--database`.
    pub const DEFAULT_DATABASE: &'static str = "DB";

    /// Wrangler as `program`, with the config at `config`, against `database` (a binding or database name).
    pub fn new(
        program: WranglerProgram,
        config: impl Into<PathBuf>,
        database: impl Into<String>,
        target: Target,
    ) -> Self {
        Self {
            program,
            config: config.into(),
            database: database.into(),
            target,
        }
    }

    /// Local D1 persisted under `persist_to`, using the wrangler config at `config`.
    pub fn local(
        wrangler_program: impl Into<PathBuf>,
        config: impl Into<PathBuf>,
        persist_to: impl Into<PathBuf>,
    ) -> Self {
        let target = Target::Local {
            persist_to: Some(persist_to.into()),
        };
        let program = WranglerProgram::path(wrangler_program);
        Self::new(program, config, Self::DEFAULT_DATABASE, target)
    }

    /// The database binding or name.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The process that runs `input` quietly, with relative paths resolved against `cwd`, in the config's
    /// directory (pure: nothing is started).
    pub fn command(&self, input: &SqlInput, cwd: &Path) -> Command {
        let config = absolutize(&self.config, cwd);
        let mut command = Command::new(resolve_program(&self.program.program, cwd));
        command.current_dir(config.parent().unwrap_or(cwd));
        command.args(&self.program.leading_args);
        command.args(["d1", "execute", self.database.as_str(), "--config"]);
        command.arg(&config);
        match &self.target {
            Target::Local { persist_to } => {
                command.arg("--local");
                if let Some(dir) = persist_to {
                    command.arg("--persist-to").arg(absolutize(dir, cwd));
                }
            }
            Target::Remote => {
                command.arg("--remote");
            }
        }
        command.args(["--yes", "--json"]);
        match input {
            SqlInput::File(path) => command.arg("--file").arg(absolutize(path, cwd)),
            SqlInput::Command(sql) => command.arg("--command").arg(sql),
        };
        command.envs(QUIET_ENV).stdin(Stdio::null());
        command
    }

    /// Applies `schema_sql` (idempotent `CREATE … IF NOT EXISTS` statements).
    pub fn apply_schema(&self, schema_sql: &Path) -> Result<(), HubctlError> {
        self.run(&SqlInput::File(schema_sql.to_owned())).map(drop)
    }

    /// Writes `sql` to a temporary file (removed afterwards) and runs it with `--file`.
    pub fn execute_sql(&self, sql: &str) -> Result<(), HubctlError> {
        let mut file = tempfile::Builder::new()
            .prefix("hubctl-")
            .suffix(".sql")
            .tempfile()?;
        file.write_all(sql.as_bytes())?;
        file.flush()?;
        self.run(&SqlInput::File(file.path().to_owned())).map(drop)
    }

    /// Runs one read-only statement with `--command` and returns its rows.
    pub fn query(&self, sql: &str) -> Result<Vec<Value>, HubctlError> {
        let statements = self.run(&SqlInput::Command(sql.to_owned()))?;
        Ok(statements.into_iter().next().unwrap_or_default())
    }

    /// Starts wrangler for `input`, waits, and returns each statement's rows.
    fn run(&self, input: &SqlInput) -> Result<Vec<Vec<Value>>, HubctlError> {
        let cwd = std::env::current_dir()?;
        let mut command = self.command(input, &cwd);
        require_file("wrangler config", &absolutize(&self.config, &cwd))?;
        if let SqlInput::File(path) = input {
            require_file("SQL file", &absolutize(path, &cwd))?;
        }
        let output = command
            .output()
            .map_err(|source| HubctlError::WranglerNotRunnable {
                program: PathBuf::from(command.get_program()),
                source,
            })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        interpret(output.status.code(), &stdout, &stderr)
    }
}

/// A program given as a path is made absolute, since the child runs in another directory; a bare name is
/// left for the `PATH` lookup.
fn resolve_program(program: &Path, cwd: &Path) -> PathBuf {
    if program.components().count() > 1 {
        absolutize(program, cwd)
    } else {
        program.to_owned()
    }
}

/// `path` if absolute, else `cwd/path`.
fn absolutize(path: &Path, cwd: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        cwd.join(path)
    }
}

/// Fails with [`HubctlError::FileNotFound`] unless `path` is a file.
fn require_file(what: &'static str, path: &Path) -> Result<(), HubctlError> {
    if path.is_file() {
        Ok(())
    } else {
        Err(HubctlError::FileNotFound {
            what,
            path: path.to_owned(),
        })
    }
}

/// The message SQLite gives when an inserted device id already exists.
const DEVICE_ID_CONFLICT: &str = "UNIQUE constraint failed: devices.id";

/// What `wrangler d1 execute --json` prints: each statement's result, or an error report.
#[derive(Deserialize)]
#[serde(untagged)]
enum Printed {
    /// `[{"results": [...], "success": true, ...}, ...]`.
    Statements(Vec<StatementResult>),
    /// `{"error": {"text": ..., "notes": [{"text": ...}]}}`.
    Failure { error: Report },
}

/// One statement's result.
#[derive(Deserialize)]
struct StatementResult {
    #[serde(default)]
    results: Vec<Value>,
}

/// wrangler's error report: a text and notes.
#[derive(Deserialize)]
struct Report {
    text: Option<String>,
    #[serde(default)]
    notes: Vec<Report>,
}

impl Report {
    /// The text and each note's text, one per line.
    fn message(self) -> String {
        let text = self.text.unwrap_or_else(|| "unknown error".into());
        let notes = self.notes.into_iter().filter_map(|note| note.text);
        std::iter::once(text)
            .chain(notes)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Each statement's rows on success; otherwise wrangler's error text as a [`HubctlError`]. Failures before
/// wrangler prints JSON (a bad config) only reach stderr.
pub fn interpret(
    exit_code: Option<i32>,
    stdout: &str,
    stderr: &str,
) -> Result<Vec<Vec<Value>>, HubctlError> {
    match parse_printed(stdout) {
        Some(Printed::Failure { error }) => Err(classify(error.message())),
        _ if exit_code != Some(0) => Err(classify(fallback_message(exit_code, stdout, stderr))),
        Some(Printed::Statements(results)) => Ok(results.into_iter().map(|r| r.results).collect()),
        None => Ok(Vec::new()),
    }
}

/// Whether `error` is wrangler reporting that a device id already exists.
pub fn is_device_id_conflict(error: &HubctlError) -> bool {
    matches!(error, HubctlError::Wrangler(message) if message.contains(DEVICE_ID_CONFLICT))
}

/// The JSON document in `stdout`, tolerating lines printed before it.
fn parse_printed(stdout: &str) -> Option<Printed> {
    if let Ok(printed) = serde_json::from_str(stdout) {
        return Some(printed);
    }
    let start = stdout.find("\n[").or_else(|| stdout.find("\n{"))?;
    serde_json::from_str(&stdout[start..]).ok()
}

/// What wrangler printed to stderr, else to stdout (see [`useful_lines`]), else how it exited.
fn fallback_message(exit_code: Option<i32>, stdout: &str, stderr: &str) -> String {
    let printed = [stderr, stdout].map(useful_lines);
    let said = printed.into_iter().find(|text| !text.is_empty());
    said.unwrap_or_else(|| match exit_code {
        Some(code) => format!("wrangler exited with status {code} and printed nothing"),
        None => "wrangler was killed by a signal".to_owned(),
    })
}

/// `text`'s non-blank lines, trimmed, without colours and the log-file pointer (🪵).
fn useful_lines(text: &str) -> String {
    let clean = strip_ansi(text);
    let lines = clean.lines().map(str::trim);
    let lines = lines.filter(|l| !l.is_empty() && !l.starts_with("🪵"));
    lines.collect::<Vec<_>>().join("\n")
}

/// A missing table means the schema was never applied; anything else is passed on as wrangler said it.
fn classify(message: String) -> HubctlError {
    if message.contains("no such table") {
        HubctlError::SchemaMissing(message)
    } else {
        HubctlError::Wrangler(message)
    }
}

/// `text` without ANSI escape sequences (CSI `ESC [ … final-byte`, and lone `ESC x` pairs).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
        } else if chars.next_if_eq(&'[').is_some() {
            while chars.next().is_some_and(|c| !('@'..='~').contains(&c)) {}
        } else {
            chars.next();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_resolve_paths_and_run_in_the_config_directory() {
        let local = Wrangler::local("node_modules/.bin/wrangler", "conf/wrangler.toml", "state");
        let remote = Wrangler::new(WranglerProgram::npx(), "/abs/w.toml", "db", Target::Remote);
        let unpersisted = Target::Local { persist_to: None };
        let bare = Wrangler::new(
            WranglerProgram::path("wrangler"),
            "w.toml",
            "DB",
            unpersisted,
        );
        let file = SqlInput::File(PathBuf::from("schema.sql"));
        let command = SqlInput::Command("SELECT 1".into());
        let cases = [
            (
                &local,
                &file,
                "/repo/node_modules/.bin/wrangler",
                "/repo/conf",
                "d1 execute DB --config /repo/conf/wrangler.toml --local --persist-to /repo/state --yes --json \
              --file /repo/schema.sql",
            ),
            (
                &remote,
                &command,
                "npx",
                "/abs",
                "wrangler d1 execute db --config /abs/w.toml --remote --yes --json --command SELECT 1",
            ),
            (
                &bare,
                &command,
                "wrangler",
                "/repo",
                "d1 execute DB --config /repo/w.toml --local --yes --json --command SELECT 1",
            ),
        ];
        for (wrangler, input, program, dir, args) in cases {
            let command = wrangler.command(input, Path::new("/repo"));
            assert_eq!(command.get_program(), program);
            assert_eq!(command.get_current_dir(), Some(Path::new(dir)));
            let shown: Vec<_> = command.get_args().map(|a| a.to_string_lossy()).collect();
            assert_eq!(shown.join(" "), args);
        }
    }

    #[test]
    fn discovery_walks_up_to_node_modules_else_falls_back_to_npx() {
        let root = tempfile::tempdir().expect("tempdir");
        let nested = root.path().join("a/b");
        std::fs::create_dir_all(&nested).expect("mkdir");
        assert_eq!(WranglerProgram::discover(&nested), WranglerProgram::npx());
        let bin = root.path().join(NODE_MODULES_WRANGLER);
        std::fs::create_dir_all(bin.parent().expect("parent")).expect("mkdir");
        std::fs::write(&bin, "#!/bin/sh\n").expect("write");
        let found = WranglerProgram::discover(&nested);
        assert_eq!(found, WranglerProgram::path(bin));
    }

    #[test]
    fn successes_give_the_results_even_after_a_preamble() {
        let stdout = r#"[{"results":[{"id":"a"}],"success":true,"meta":{"duration":0}}]"#;
        let results = interpret(Some(0), stdout, "").expect("success");
        let rows = results[0].clone();
        assert_eq!(rows, vec![serde_json::json!({"id": "a"})]);
        let stdout = "note: something\n[{\"results\":[],\"success\":true}]";
        assert_eq!(interpret(Some(0), stdout, "").expect("success").len(), 1);
        let not_json = interpret(Some(0), "not json", "").expect("success");
        assert!(not_json.is_empty());
    }

    #[test]
    fn failures_give_wrangler_s_cleaned_text() {
        let conflict = "\n{\n  \"error\": {\n    \"text\": \"UNIQUE constraint failed: devices.id: X\"\n  }\n}\n";
        assert!(is_device_id_conflict(
            &interpret(Some(1), conflict, "").expect_err("failure")
        ));
        let stderr = "\u{1b}[31m✘ \u{1b}[41;31m[\u{1b}[41;97mERROR\u{1b}[41;31m]\u{1b}[0m \u{1b}[1mCould not read \
                      file: /x.toml\u{1b}[0m\n\n🪵  Logs were written to \"/root/log\"\n";
        let cases = [
            (
                Some(1),
                r#"{"error":{"text":"bad","notes":[{"text":"hint one"}]}}"#,
                "",
                "wrangler failed: bad\nhint one",
            ),
            (
                Some(1),
                r#"{"error":{"text":"no such table: devices: SQLITE_ERROR"}}"#,
                "",
                "no such table: devices: SQLITE_ERROR (apply the schema first: hubctl schema apply)",
            ),
            (
                Some(1),
                "",
                stderr,
                "wrangler failed: ✘ [ERROR] Could not read file: /x.toml",
            ),
            (
                Some(2),
                "",
                "",
                "wrangler failed: wrangler exited with status 2 and printed nothing",
            ),
            (
                None,
                "",
                "",
                "wrangler failed: wrangler was killed by a signal",
            ),
        ];
        for (code, stdout, stderr, expected) in cases {
            let error = interpret(code, stdout, stderr).expect_err("failure");
            assert_eq!(error.to_string(), expected);
        }
    }
}
