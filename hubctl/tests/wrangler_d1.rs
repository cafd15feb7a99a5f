//! Runs the pinned wrangler against a throwaway local D1: schema, devices, dashboard tokens, and what is stored.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use hubctl::wrangler::QUIET_ENV;
use hubctl::{Access, DashboardScope, HubctlError, Wrangler, token_sha256_hex};
use serde_json::Value;
use telemetry_protocol::DeviceId;
use telemetry_protocol::token::{TokenKind, check_token_of_kind};

/// A temporary directory with a minimal Worker and a wrangler config that binds `DB`.
struct Sandbox {
    dir: tempfile::TempDir,
    wrangler: PathBuf,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = "name = \"hubctl-test\"\nmain = \"index.js\"\ncompatibility_date = \"2026-04-20\"\n\n\
                      [[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"telemetry-hub\"\n\
                      database_id = \"00000000-0000-0000-0000-000000000000\"\n";
        std::fs::write(dir.path().join("wrangler.toml"), config).expect("config");
        let worker = "export default { fetch() { return new Response(\"ok\") } }\n";
        std::fs::write(dir.path().join("index.js"), worker).expect("worker");
        Self {
            dir,
            wrangler: pinned_wrangler(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn hubctl(&self) -> Wrangler {
        Wrangler::local(
            &self.wrangler,
            self.path("wrangler.toml"),
            self.path("state"),
        )
    }

    /// Rows of `sql`, read with wrangler directly rather than through the library under test.
    fn select(&self, sql: &str) -> Vec<Value> {
        let output = Command::new(&self.wrangler)
            .args(["d1", "execute", "DB", "--local", "--persist-to"])
            .arg(self.path("state"))
            .arg("--config")
            .arg(self.path("wrangler.toml"))
            .args(["--command", sql, "--json"])
            .current_dir(self.dir.path())
            .envs(QUIET_ENV)
            .stdin(Stdio::null())
            .output()
            .expect("wrangler runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
        let results: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        results[0]["results"].as_array().expect("rows").clone()
    }
}

/// `node_modules/.bin/wrangler` in the nearest ancestor of this crate (installed by `npm ci` at the root).
fn pinned_wrangler() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|dir| dir.join("node_modules/.bin/wrangler"))
        .find(|path| path.is_file())
        .expect("wrangler not found: run `npm ci` at the repository root")
}

fn schema_sql() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.sql")
}

fn ids(names: &[&str]) -> Vec<DeviceId> {
    names
        .iter()
        .map(|n| DeviceId::parse(n).expect("valid"))
        .collect()
}

/// Every text column of every row, to prove a token appears in none.
fn all_text(rows: &[Value]) -> Vec<String> {
    let objects = rows.iter().filter_map(Value::as_object);
    let values = objects.flat_map(|row| row.values().filter_map(Value::as_str));
    values.map(str::to_owned).collect()
}

fn assert_token_absent(rows: &[Value], token: &str) {
    let body = &token[token.len() - 49..];
    for text in all_text(rows) {
        assert!(!text.contains(body), "a token was stored");
    }
}

#[test]
fn provisioning_stores_only_hashes_and_refuses_existing_ids() {
    let sandbox = Sandbox::new();
    let hub = sandbox.hubctl();
    let early = hub
        .create_devices(&ids(&["ems_001"]))
        .expect_err("no tables yet");
    assert!(matches!(early, HubctlError::SchemaMissing(_)), "{early}");

    hub.apply_schema(&schema_sql()).expect("schema");
    hub.apply_schema(&schema_sql()).expect("schema again");

    let devices = hub
        .create_devices(&ids(&["ems_001", "ems_002"]))
        .expect("devices");
    assert_eq!(devices.len(), 2);
    for device in &devices {
        assert_eq!(
            check_token_of_kind(&device.token, TokenKind::Device),
            Ok(())
        );
    }
    assert_ne!(devices[0].token, devices[1].token);

    let again = hub
        .create_devices(&ids(&["ems_003", "ems_001"]))
        .expect_err("exists");
    assert!(matches!(&again, HubctlError::DeviceExists(found) if found == &ids(&["ems_001"])));
    assert!(again.to_string().contains("ems_001"), "{again}");

    let scope = DashboardScope::parse("ems_001,ems_002").expect("scope");
    let label = "Ops' wall; -- ✓";
    let dashboard = hub
        .create_dashboard_token(&scope, Access::Control, Some(label))
        .expect("dashboard token");
    assert_eq!(
        check_token_of_kind(&dashboard.token, TokenKind::Dashboard),
        Ok(())
    );
    assert!(dashboard.token_id.starts_with("dt_") && dashboard.token_id.len() == 15);

    let stored = sandbox.select("SELECT * FROM devices ORDER BY id");
    assert_eq!(
        stored.len(),
        2,
        "ems_003 must not have been created: {stored:?}"
    );
    for (row, device) in stored.iter().zip(&devices) {
        assert_eq!(row["id"], device.device_id.as_str());
        assert_eq!(row["token_sha256"], token_sha256_hex(&device.token));
        assert!(row["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert_eq!(row["disabled_at"], Value::Null);
        assert_token_absent(&stored, &device.token);
    }

    let tokens = sandbox.select("SELECT * FROM dashboard_tokens");
    assert_eq!(tokens.len(), 1);
    let row = &tokens[0];
    assert_eq!(row["id"], dashboard.token_id.as_str());
    assert_eq!(row["token_sha256"], token_sha256_hex(&dashboard.token));
    assert_eq!(row["devices"], "ems_001,ems_002");
    assert_eq!(row["access"], "control");
    assert_eq!(row["label"], label);
    assert_eq!(row["revoked_at"], Value::Null);
    assert_token_absent(&tokens, &dashboard.token);
}

fn run_hubctl(sandbox: &Sandbox, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hubctl"))
        .arg("--wrangler")
        .arg(&sandbox.wrangler)
        .args(["--config", "wrangler.toml", "--persist-to", "state"])
        .args(args)
        .current_dir(sandbox.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hubctl starts");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("hubctl ends")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn the_binary_provisions_with_json_output_and_checks_tokens_from_stdin() {
    let sandbox = Sandbox::new();
    let schema = schema_sql();
    let schema = schema.to_str().expect("UTF-8 path");
    let applied = run_hubctl(&sandbox, &["schema", "apply", "--file", schema], "");
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );

    let created = json_of(&run_hubctl(
        &sandbox,
        &["device", "create", "pi-1", "--json"],
        "",
    ));
    let device = &created["devices"][0];
    assert_eq!(device["device_id"], "pi-1");
    let token = device["token"].as_str().expect("token");
    let stored = sandbox.select("SELECT token_sha256 FROM devices WHERE id = 'pi-1'");
    assert_eq!(stored[0]["token_sha256"], token_sha256_hex(token));

    let duplicate = run_hubctl(&sandbox, &["device", "create", "pi-1"], "");
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists: pi-1"));

    let args = [
        "dashboard",
        "create",
        "--devices",
        "*",
        "--access",
        "read",
        "--json",
    ];
    let dashboard = json_of(&run_hubctl(&sandbox, &args, ""));
    assert_eq!(dashboard["devices"], "*");
    assert_eq!(dashboard["access"], "read");
    assert!(
        dashboard["token_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("dt_"))
    );

    let checked = run_hubctl(&sandbox, &["token", "check", "-"], &format!("{token}\n"));
    let verdict = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success() && verdict.starts_with("device token"),
        "{verdict}"
    );
    assert!(!verdict.contains(token));
}
