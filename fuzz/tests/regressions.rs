//! Inputs that showed a bug in code this crate does not own, kept in `regressions/<target>/`. Each bug has a test
//! that replays its input through the target as it is fuzzed, so that it stays fixed.

use std::path::PathBuf;

use telemetry_fuzz::agent_config::agent_config;

fn regressions() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("regressions")
}

fn read(path: &str) -> Vec<u8> {
    let file = regressions().join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// `EDGE_X[99999999999]=1` in the environment aborted the agent at start (exit 134, not 78): the `config` crate
/// reads the name as a path with an array index and allocates that many elements (`config::path`
/// `get_mut_forcibly`, from `AgentConfig::load` in edge/src/config.rs). The agent now refuses the name first;
/// should that break, this test aborts the test process with "memory allocation of 9600000000000 bytes failed".
#[test]
fn agent_config_huge_env_index() {
    agent_config(&read("agent_config/huge-env-index"));
}

/// An environment variable nested 20,000 levels deep (`EDGE_A__A__...__B=1`, 60 KB) aborted the agent with a stack
/// overflow in `config::value::Value::clone`, called from `config::path::Expression::set` while
/// `AgentConfig::load` built the config (edge/src/config.rs). The agent now refuses the name first; should that
/// break, this test aborts the test process.
#[test]
fn agent_config_deep_env_name() {
    agent_config(&read("agent_config/deep-env-name"));
}

/// A TOML syntax error on the `api_token` line of the agent's config file printed the token: the toml crate's
/// message quotes the offending line, and `ConfigError::Load` passed it on (edge/src/config.rs). The agent's load
/// messages now quote no line of the file and hide token-like text.
#[test]
fn agent_config_token_in_toml_error() {
    agent_config(&read("agent_config/token-in-toml-syntax-error"));
}

/// Every input in the directory, including any added later.
#[test]
fn every_regression_passes_the_fuzzed_target() {
    let dir = regressions().join("agent_config");
    let files = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for file in files.filter_map(Result::ok) {
        agent_config(&std::fs::read(file.path()).expect("a regression input"));
    }
}
