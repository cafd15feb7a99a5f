//! The hub under test: the real Worker under `wrangler dev` on 127.0.0.1, with fresh local D1 and DO state.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hubctl::credential::new_token;
use hubctl::{
    Access, DashboardScope, ProvisionedDashboardToken, ProvisionedDevice, token_sha256_hex,
};
use telemetry_protocol::TokenKind;

use crate::http::{self, HttpResponse};
use crate::logs::Logs;
use crate::provisioning::Provisioner;
use crate::scratch_dir::{TempDir, scratch_dir};
use crate::worker_build::worker_bundle;
use crate::wrangler_config::{write_dev_vars, write_test_config};
use crate::wrangler_process::{WranglerProcess, ready_or_exit};

/// How long `wrangler dev` may take to print `Ready on`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Variables of the shared hub: many tests refuse authentication on purpose, all from 127.0.0.1, so the
/// Worker's default limit (10 failures a minute per address) would turn later refusals into 429. Tests of
/// the limit itself start a private hub with [`HubServer::start`] or [`HubServer::start_with_vars`].
pub const SHARED_HUB_VARS: &[(&str, &str)] = &[
    ("AUTH_FAILURE_LIMIT", "1000000"),
    ("AUTH_FAILURE_ADDRESS_LIMIT", "1000000"),
];

/// The Worker variable holding the SHA-256 of the admin API's token.
pub const ADMIN_HASH_VAR: &str = "ADMIN_TOKEN_SHA256";

/// A running hub. Dropping it stops `wrangler dev` and deletes its state.
///
/// Use [`HubServer::shared`] when a test only needs *a* hub (and its own device ids); use
/// [`HubServer::start`] for a private one that the test may [`stop`](HubServer::stop) and
/// [`restart`](HubServer::restart).
pub struct HubServer {
    port: u16,
    admin_token: String,
    config: PathBuf,
    persist_to: PathBuf,
    logs: Logs,
    process: Option<WranglerProcess>,
    // Declared last: fields drop in order, so the process is gone before its directory is removed.
    dir: TempDir,
}

impl HubServer {
    /// Builds the Worker (once per process), creates fresh state, applies `schema.sql` and starts
    /// `wrangler dev` on a free port. Panics with wrangler's output if it does not become ready in time.
    pub fn start() -> Self {
        Self::start_with_vars(&[])
    }

    /// Like [`HubServer::start`], with environment variables for the Worker that override wrangler.toml's
    /// `[vars]` (e.g. a higher `AUTH_FAILURE_LIMIT`). They are written to a `.dev.vars` file beside the test
    /// config, never put on a command line, and kept across restarts.
    ///
    /// Every hub gets a fresh admin token ([`HubServer::admin_token`]) whose hash goes into
    /// [`ADMIN_HASH_VAR`], unless `vars` sets that variable itself.
    pub fn start_with_vars(vars: &[(&str, &str)]) -> Self {
        let bundle = worker_bundle();
        let started = Instant::now();
        let dir = scratch_dir();
        let config = write_test_config(dir.path(), bundle);
        let admin_token = new_token(TokenKind::Admin).expect("an admin token from the OS RNG");
        let admin_hash = token_sha256_hex(&admin_token);
        let mut all_vars = vars.to_vec();
        if !vars.iter().any(|(name, _)| *name == ADMIN_HASH_VAR) {
            all_vars.push((ADMIN_HASH_VAR, &admin_hash));
        }
        write_dev_vars(dir.path(), &all_vars);
        let persist_to = dir.path().join("state");
        let provisioner = Provisioner::new(&config, &persist_to);
        provisioner.apply_schema();
        let schema_applied = started.elapsed();
        let mut hub = Self {
            port: 0,
            admin_token,
            config,
            persist_to,
            logs: Logs::default(),
            process: None,
            dir,
        };
        hub.launch(0);
        eprintln!(
            "hub-e2e: hub ready on 127.0.0.1:{} in {} ms (schema {} ms)",
            hub.port,
            started.elapsed().as_millis(),
            schema_applied.as_millis()
        );
        hub
    }

    /// Like [`HubServer::start_with_vars`], with the shared hub's failure limits ([`SHARED_HUB_VARS`]) before
    /// `vars`: for a private hub whose tests refuse authentication on purpose but do not test the limit.
    pub fn start_lenient(vars: &[(&str, &str)]) -> Self {
        Self::start_with_vars(&[SHARED_HUB_VARS, vars].concat())
    }

    /// One hub for the whole test binary, started on first use (with [`SHARED_HUB_VARS`]) and stopped when the
    /// process exits.
    pub fn shared() -> &'static Self {
        static SHARED: OnceLock<HubServer> = OnceLock::new();
        SHARED.get_or_init(|| Self::start_with_vars(SHARED_HUB_VARS))
    }

    /// Stops `wrangler dev` (and workerd); the state stays. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
            self.logs.push_line("[hub-e2e] --- stopped ---");
        }
    }

    /// Stops the hub if it runs and starts it again on the same port with the same persisted state.
    pub fn restart(&mut self) {
        self.stop();
        self.logs.push_line("[hub-e2e] --- restarting ---");
        let port = self.port;
        self.launch(port);
        if self.port != port {
            self.fail(&format!(
                "restarted on port {} instead of {port}",
                self.port
            ));
        }
    }

    /// Whether `wrangler dev` is running (between start or restart and stop).
    pub fn is_running(&self) -> bool {
        self.process.is_some()
    }

    /// The process group of the running `wrangler dev` (its supervisor's pid), if it runs.
    pub fn process_group(&self) -> Option<u32> {
        self.process.as_ref().map(WranglerProcess::process_group)
    }

    /// The bearer token of the admin API (`tadm_…`), valid unless [`ADMIN_HASH_VAR`] was overridden.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The port on 127.0.0.1 the hub listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `ws://127.0.0.1:PORT{path}`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    /// Everything wrangler and workerd printed so far (across restarts), e.g. to assert that no token leaks.
    pub fn logs(&self) -> String {
        self.logs.snapshot()
    }

    /// The last `lines` lines of the log, to explain a failed assertion.
    pub fn log_tail(&self, lines: usize) -> String {
        let all = self.logs.snapshot();
        let kept: Vec<&str> = all.lines().rev().take(lines).collect();
        kept.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// The live log, for waiting on a line ([`Logs::wait_for`]) or reading only new output ([`Logs::since`]).
    pub fn log_stream(&self) -> &Logs {
        &self.logs
    }

    /// Creates devices with fresh tokens in this hub's D1 (works while the hub runs).
    pub fn provision_devices(&self, ids: &[&str]) -> Vec<ProvisionedDevice> {
        self.provisioner().devices(ids)
    }

    /// Creates a dashboard token in this hub's D1.
    pub fn provision_dashboard(
        &self,
        scope: &DashboardScope,
        access: Access,
    ) -> ProvisionedDashboardToken {
        self.provisioner().dashboard(scope, access)
    }

    /// Provisioning for this hub's D1, including a raw hubctl handle for disabling and revoking.
    pub fn provisioner(&self) -> Provisioner {
        Provisioner::new(&self.config, &self.persist_to)
    }

    /// The test wrangler config (no `[build]`, `main` at a private copy of the Worker).
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// The `--persist-to` directory holding D1 and Durable Object state.
    pub fn persist_dir(&self) -> &Path {
        &self.persist_to
    }

    /// A plain HTTP/1.1 GET against the hub (see [`http::get`]).
    pub async fn http_get(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        http::get(self.port, path, headers).await
    }

    /// Any HTTP/1.1 request against the hub, e.g. a `POST` with a JSON body (see [`http::request`]).
    pub async fn http_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        http::request(self.port, method, path, headers, body).await
    }

    /// Starts `wrangler dev` on `port` (0: any free port) and waits for `Ready on`.
    fn launch(&mut self, port: u16) {
        let args = self.dev_args(port);
        let offset = self.logs.len();
        let started = Instant::now();
        let process = WranglerProcess::spawn(&args, self.dir.path(), &self.logs);
        self.process = Some(process);
        match self.logs.wait_for(offset, READY_TIMEOUT, ready_or_exit) {
            Some(Ok(ready_port)) => {
                self.port = ready_port;
                self.logs.push_line(&format!(
                    "[hub-e2e] ready on port {ready_port} after {} ms",
                    started.elapsed().as_millis()
                ));
            }
            Some(Err(())) => self.fail("wrangler dev exited before it was ready"),
            None => self.fail(&format!(
                "wrangler dev was not ready within {READY_TIMEOUT:?}"
            )),
        }
    }

    fn dev_args(&self, port: u16) -> Vec<String> {
        let config = self.config.to_string_lossy().into_owned();
        let persist_to = self.persist_to.to_string_lossy().into_owned();
        [
            "dev",
            "--config",
            &config,
            "--ip",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--inspector-port",
            "0",
            "--persist-to",
            &persist_to,
            // Exposes GET /__scheduled, so tests can run the cron trigger (the sync sweeper) on demand.
            "--test-scheduled",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    fn fail(&mut self, why: &str) -> ! {
        self.stop();
        panic!("{why}; its output:\n{}", self.logs.snapshot());
    }
}

impl std::fmt::Debug for HubServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubServer")
            .field("port", &self.port)
            .field("admin_token", &"<redacted>")
            .field("config", &self.config)
            .field("running", &self.is_running())
            .finish_non_exhaustive()
    }
}

impl Drop for HubServer {
    fn drop(&mut self) {
        self.stop();
    }
}
