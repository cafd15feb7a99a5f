//! Target for the agent's configuration (`edge_agent::config`): defaults, a TOML file and the environment.
//!
//! Input: `env: NAME=VALUE` lines (the environment the agent sees), then `file:` and the config file's text;
//! without a `file:` line the agent reads no file. Properties: a loaded config keeps every value within the
//! bounds validation promises and builds a device URL under its hub; the device token never shows in the
//! config's `Debug` output or in the agent's own validation messages, and `API_TOKEN` never in any message.
//!
//! Two known findings in the agent's config loading are left out of what [`agent_config`] fuzzes, so the pass
//! stays green until they are fixed; [`agent_config_without_exclusions`] keeps them in, and
//! `fuzz/regressions/agent_config/` holds their inputs:
//!
//! - an environment variable such as `EDGE_X[99999999999]=1` aborts the agent: the `config` crate reads the
//!   name as a path with an array index and allocates that many elements;
//! - so does one nested thousands of levels deep (`EDGE_A__A__...__B=1`, about 30 KB): the crate clones the
//!   nested tables recursively and overflows the stack;
//! - a TOML syntax error in the file quotes the line it is on, so a broken `api_token = ..` line prints the
//!   token (`ConfigError::Load`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use edge_agent::AgentConfig;
use edge_agent::config::{ConfigError, ConfigFile};
use edge_agent::gpio::HEADER_PINS;

use crate::fields::{Fields, text};

/// Shortest text taken as a token to look for in messages; shorter values may appear there by chance.
const MIN_SECRET_LEN: usize = 16;

thread_local! {
    /// This thread's scratch config file: replay tests run targets on several threads at once.
    static SCRATCH_FILE: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// Largest array index in an environment variable's name that the fuzzed target passes on.
const MAX_ENV_INDEX: u64 = 10_000;

/// Most levels of nesting (`__`, `.` or `[`) in an environment variable's name that the fuzzed target passes on.
const MAX_ENV_DEPTH: usize = 64;

/// Whether the known findings are left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Findings {
    /// Left out: inputs with a huge index or a deep nesting in an environment variable's name are skipped, and a
    /// token from the file is not looked for in the `config` crate's own messages.
    Excluded,
    /// Kept in: every input is loaded, and the token must show in no message at all, as `ConfigError` promises.
    Included,
}

/// `AgentConfig::load` on any environment and config file, without the known findings.
pub fn agent_config(data: &[u8]) {
    load_and_check(data, Findings::Excluded);
}

/// `AgentConfig::load` on any environment and config file, known findings included (an input with a huge index
/// or a deep name aborts the process: an allocation failure or a stack overflow is not a panic).
pub fn agent_config_without_exclusions(data: &[u8]) {
    load_and_check(data, Findings::Included);
}

fn load_and_check(data: &[u8], findings: Findings) {
    let text = text(data);
    let fields = Fields::parse(&text, "file");
    let env: HashMap<String, String> = fields
        .all("env")
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let known_abort = |name: &String| has_huge_index(name) || env_depth(name) > MAX_ENV_DEPTH;
    if findings == Findings::Excluded && env.keys().any(known_abort) {
        return;
    }
    let result = match fields.body() {
        None => AgentConfig::load(&ConfigFile::None, env.clone()),
        Some(toml) => with_scratch_file(toml, |path| {
            AgentConfig::load(&ConfigFile::Required(path), env.clone())
        }),
    };
    let from_file_checked =
        findings == Findings::Included || !matches!(result, Err(ConfigError::Load(_)));
    let mut secrets = env_secret(&env);
    if from_file_checked {
        secrets.extend(file_secrets(fields.body().unwrap_or("")));
    }
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

/// Whether `name` holds `[N]` or `[-N]` with N over [`MAX_ENV_INDEX`] (or too big for a `u64`).
fn has_huge_index(name: &str) -> bool {
    name.split('[').skip(1).any(|after| {
        let after = after.trim_start();
        let digits: String = after
            .strip_prefix('-')
            .unwrap_or(after)
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        !digits.is_empty() && digits.parse::<u64>().map_or(true, |n| n > MAX_ENV_INDEX)
    })
}

/// How deeply the `config` crate nests the value of the environment variable `name`.
fn env_depth(name: &str) -> usize {
    name.matches("__").count() + name.matches(['.', '[']).count()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_indexes_are_told_from_small_ones() {
        for huge in [
            "X[99999999999]",
            "X[-10001]",
            "A[0][ 20000]",
            "X[18446744073709551616]",
        ] {
            assert!(has_huge_index(huge), "{huge}");
        }
        for small in ["X", "X[10000]", "X[-1]", "X[]", "X[a]", "X]99999999999["] {
            assert!(!has_huge_index(small), "{small}");
        }
        assert_eq!(env_depth("EDGE_STORE__PATH"), 1);
        assert_eq!(env_depth("EDGE_A__B.C[0]"), 3);
    }
}
