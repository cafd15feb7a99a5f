//! The variables both Rust hubs start with, so that no limit of theirs refuses the benchmark on purpose.

use anyhow::{Result, bail};

/// Every handshake comes from 127.0.0.1, hundreds a minute. Revisions that do not know a variable ignore it.
const DEFAULTS: [(&str, &str); 2] = [
    ("AUTH_FAILURE_LIMIT", "1000000"),
    ("AUTH_FAILURE_ADDRESS_LIMIT", "1000000"),
];

/// Adds to or overrides [`DEFAULTS`], as `NAME=VALUE,NAME=VALUE`: for a limit that a newer Worker introduces.
pub const EXTRA_ENV: &str = "HUB_BENCH_VARS";

/// [`DEFAULTS`] with what [`EXTRA_ENV`] says (if set) applied on top.
pub fn from_env() -> Result<Vec<(String, String)>> {
    merged(&std::env::var(EXTRA_ENV).unwrap_or_default())
}

fn merged(extra: &str) -> Result<Vec<(String, String)>> {
    let mut vars: Vec<(String, String)> = DEFAULTS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    for pair in extra.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = pair.split_once('=') else {
            bail!("{EXTRA_ENV}: {pair:?} is not NAME=VALUE");
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!("{EXTRA_ENV}: {name:?} is not a variable name");
        }
        vars.retain(|(known, _)| known != name);
        vars.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(vars: &[(String, String)]) -> Vec<(&str, &str)> {
        vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn defaults_without_extra() {
        assert_eq!(pairs(&merged("").expect("valid")), DEFAULTS.to_vec());
    }

    #[test]
    fn extra_adds_and_overrides() {
        let vars = merged("CONNECTS_PER_MINUTE=100000, AUTH_FAILURE_LIMIT = 5").expect("valid");
        assert_eq!(
            pairs(&vars),
            vec![
                ("AUTH_FAILURE_ADDRESS_LIMIT", "1000000"),
                ("CONNECTS_PER_MINUTE", "100000"),
                ("AUTH_FAILURE_LIMIT", "5"),
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_a_pair() {
        assert!(merged("NOVALUE").is_err());
        assert!(merged("BAD NAME=1").is_err());
        assert!(merged("=1").is_err());
    }
}
