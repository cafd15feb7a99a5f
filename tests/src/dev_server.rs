//! Any Worker under `wrangler dev` on a free port of 127.0.0.1 with fresh local state, from a directory the caller
//! filled: an earlier revision's build, a reference hub. [`HubServer`](crate::HubServer) is the current tree's
//! Worker with everything the contract tests need (admin token, restarts); this is the plain case that
//! comparisons start several of side by side.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::hub_server::READY_TIMEOUT;
use crate::logs::Logs;
use crate::provisioning::Provisioner;
use crate::scratch_dir::TempDir;
use crate::wrangler_config::write_dev_vars;
use crate::wrangler_process::{WranglerProcess, ready_or_exit};

/// A running `wrangler dev`. Dropping it stops wrangler and deletes its directory.
pub struct DevServer {
    name: String,
    port: u16,
    config: PathBuf,
    persist_to: PathBuf,
    logs: Logs,
    process: Option<WranglerProcess>,
    // Declared last: fields drop in order, so the process is gone before its directory is removed.
    dir: TempDir,
}

impl DevServer {
    /// Starts the Worker configured by `dir/wrangler.toml` (which the caller wrote, with everything it names).
    ///
    /// Writes `vars` to `dir/.dev.vars`, applies `schema` to a fresh local D1 in `dir/state`, starts
    /// `wrangler dev` on a free port and waits for it. `name` says which server it is in messages. Panics with
    /// wrangler's output if the schema fails or the server is not ready within [`READY_TIMEOUT`].
    pub fn start(name: &str, dir: TempDir, schema: &Path, vars: &[(&str, &str)]) -> Self {
        let started = Instant::now();
        let config = dir.path().join("wrangler.toml");
        assert!(config.is_file(), "{name}: {} is missing", config.display());
        write_dev_vars(dir.path(), vars);
        let persist_to = dir.path().join("state");
        {
            let _one = Provisioner::lock();
            Provisioner::new(&config, &persist_to)
                .hubctl()
                .apply_schema(schema)
                .unwrap_or_else(|e| panic!("{name}: apply {}: {e}", schema.display()));
        }
        let mut server = Self {
            name: name.to_owned(),
            port: 0,
            config,
            persist_to,
            logs: Logs::default(),
            process: None,
            dir,
        };
        server.launch();
        eprintln!(
            "hub-e2e: {name} ready on 127.0.0.1:{} in {} ms",
            server.port,
            started.elapsed().as_millis()
        );
        server
    }

    /// Which server this is, as given to [`DevServer::start`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The port on 127.0.0.1 the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ws://127.0.0.1:PORT{path}`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    /// Provisioning (devices, dashboard tokens, queries) for this server's local D1, with the current hubctl.
    pub fn provisioner(&self) -> Provisioner {
        Provisioner::new(&self.config, &self.persist_to)
    }

    /// Everything wrangler and workerd printed so far.
    pub fn logs(&self) -> String {
        self.logs.snapshot()
    }

    /// The server's wrangler config.
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// Stops `wrangler dev` (and workerd); the directory stays until drop. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    fn launch(&mut self) {
        let config = self.config.to_string_lossy().into_owned();
        let persist_to = self.persist_to.to_string_lossy().into_owned();
        let args = [
            "dev",
            "--config",
            &config,
            "--ip",
            "127.0.0.1",
            "--port",
            "0",
            "--inspector-port",
            "0",
            "--persist-to",
            &persist_to,
        ]
        .map(str::to_owned);
        self.process = Some(WranglerProcess::spawn(&args, self.dir.path(), &self.logs));
        match self.logs.wait_for(0, READY_TIMEOUT, ready_or_exit) {
            Some(Ok(port)) => self.port = port,
            Some(Err(())) => self.fail("wrangler dev exited before it was ready"),
            None => self.fail(&format!(
                "wrangler dev was not ready within {READY_TIMEOUT:?}"
            )),
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        self.stop();
        panic!(
            "{}: {why}; its output:\n{}",
            self.name,
            self.logs.snapshot()
        );
    }
}

impl std::fmt::Debug for DevServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevServer")
            .field("name", &self.name)
            .field("port", &self.port)
            .field("config", &self.config)
            .field("running", &self.process.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        self.stop();
    }
}
