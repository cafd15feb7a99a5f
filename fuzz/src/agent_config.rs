//! Target for the agent's configuration (`edge_agent::config`): defaults, a TOML file and the environment.
//!
//! Input: `env: NAME=VALUE` lines (the environment the agent sees), then `file:` and the config file's text;
//! without a `file:` line the agent reads no file. Properties: a loaded config keeps every value within the
//! bounds validation promises and builds a device URL under its hub; the device token, from `API_TOKEN` or the
//! file's `api_token`, never shows in the config's `Debug` output or in any message.
//!
//! `fuzz/regressions/agent_config/` holds inputs that once aborted the agent (a huge array index or a deep nesting
//! in an `EDGE_` variable's name) or printed the token (a TOML syntax error on the `api_token` line).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use edge_agent::AgentConfig;
use edge_agent::config::ConfigFile;
use edge_agent::gpio::HEADER_PINS;

use crate::fields::{Fields, text};

/// Shortest text taken as a token to look for in messages; shorter values may appear there by chance.
const MIN_SECRET_LEN: usize = 16;

thread_local! {
    /// This thread's scratch config file: replay tests run targets on several threads at once.
    static SCRATCH_FILE: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// `AgentConfig::load` on any environment and config file.
pub fn agent_config(data: &[u8]) {
    let text = text(data);
    let fields = Fields::parse(&text, "file");
    let env: HashMap<String, String> = fields
        .all("env")
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let result = match fields.body() {
        None => AgentConfig::load(&ConfigFile::None, env.clone()),
        Some(toml) => with_scratch_file(toml, |path| {
            AgentConfig::load(&ConfigFile::Required(path), env.clone())
        }),
    };
    let mut secrets = env_secret(&env);
    secrets.extend(file_secrets(fields.body().unwrap_or("")));
    let shown = match &result {
        Ok(config) => {
            check_config(config);
            format!("{config:?}")
        }
        Err(error) => format!("{error} {error:?}"),
    };
    for secret in secrets.into_iter().filter(|s| s.len() >= MIN_SECRET_LEN) {
        // Text given twice (say, also as the server URL) may rightly be quoted under its other name.
        if text.matches(secret).count() == 1 {
            assert!(!shown.contains(secret), "the token shows in: {shown}");
        }
    }
}

/// The token the environment gives, if any.
fn env_secret(env: &HashMap<String, String>) -> Vec<&str> {
    env.get("API_TOKEN").map(|v| v.trim()).into_iter().collect()
}

/// The values of the file's `api_token = ".."` lines.
fn file_secrets(toml: &str) -> impl Iterator<Item = &str> {
    toml.lines().filter_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "api_token").then(|| value.trim().trim_matches('"'))
    })
}

fn check_config(config: &AgentConfig) {
    let url = config.device_url();
    assert!(
        url.starts_with("wss://") || url.starts_with("ws://"),
        "{url}"
    );
    assert!(url.ends_with(&format!("/ws/device/{}", config.device_id)));
    assert!(config.server.is_secure() == url.starts_with("wss://"));
    let interval = config.sample_interval;
    assert!((Duration::from_millis(10)..=Duration::from_secs(3600)).contains(&interval));
    let connection = &config.connection;
    assert!(connection.ping_interval < connection.read_timeout);
    assert!(connection.backoff.base <= connection.backoff.cap);
    assert!((1..=10_000_000).contains(&config.store.max_samples));
    assert!(!config.store.path.as_os_str().is_empty());
    assert!(!config.sensors.is_empty());
    for (i, pin) in config.gpio_outputs.iter().enumerate() {
        assert!(HEADER_PINS.contains(pin) && !config.gpio_outputs[..i].contains(pin));
    }
}

/// Writes `toml` to this thread's scratch file, runs `load` on its path and removes the file again.
fn with_scratch_file<T>(toml: &str, load: impl FnOnce(PathBuf) -> T) -> T {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = SCRATCH_FILE.with_borrow_mut(|path| {
        path.get_or_insert_with(|| {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let name = format!("telemetry-fuzz-{}-{n}.toml", std::process::id());
            std::env::temp_dir().join(name)
        })
        .clone()
    });
    std::fs::write(&path, toml).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    let result = load(path.clone());
    let _ = std::fs::remove_file(&path);
    result
}
