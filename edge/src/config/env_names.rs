//! The names of the agent's own environment variables (`EDGE_…`), checked before the `config` crate reads them.
//!
//! The crate reads a variable's name as a path into the config: `[N]` makes an array of N elements and every
//! `__` or `.` nests one more table, which it clones recursively. `EDGE_X[99999999999]` (a 9.6 TB allocation) or
//! `EDGE_A__A__…` thousands of levels deep (a stack overflow) would abort the agent there. So a name with the
//! prefix must be a plain key: `A-Z`, `0-9` and `_`, at most [`MAX_DEPTH`] parts deep. Names without the prefix
//! are not the agent's and are never looked at; values are never looked at either.

use super::ConfigError;

/// The prefix of the agent's variables, without its separator (the `config` crate's `Environment` prefix).
pub(super) const PREFIX: &str = "EDGE";

/// Between [`PREFIX`] and the key.
pub(super) const PREFIX_SEPARATOR: &str = "_";

/// Between a table and its key: `EDGE_STORE__PATH` is `store.path`.
pub(super) const SEPARATOR: &str = "__";

/// Parts of the deepest key that a variable can set: `EDGE_TABLE__KEY`, e.g. `EDGE_CONNECTION__ACK_TIMEOUT_SECS`.
/// The only deeper keys are inside `[[sensors]]`, an array of tables, which the environment cannot set.
const MAX_DEPTH: usize = 2;

/// Longest name shown whole in a message; a longer one is cut there, and its length given.
const MAX_SHOWN_CHARS: usize = 64;

/// What a valid name looks like, at the end of every refusal.
const EXPECTED: &str = "use EDGE_KEY or EDGE_TABLE__KEY in capitals, e.g. EDGE_SAMPLE_INTERVAL_SECS or EDGE_STORE__MAX_SAMPLES";

/// Refuses the first name (in sorted order, so the message is stable) that has the agent's prefix and is not a
/// plain key. The error shows the name, never a value.
pub(super) fn check<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), ConfigError> {
    let mut ours: Vec<&str> = names.into_iter().filter(|name| has_prefix(name)).collect();
    ours.sort_unstable();
    for name in ours {
        check_name(name).map_err(|reason| ConfigError::Variable {
            name: shown(name),
            reason,
        })?;
    }
    Ok(())
}

/// Whether the `config` crate would read `name`: it compares the prefix in lower case, so `edge_x` counts too.
fn has_prefix(name: &str) -> bool {
    let prefix = format!("{PREFIX}{PREFIX_SEPARATOR}").to_lowercase();
    name.to_lowercase().starts_with(&prefix)
}

/// Why `name`, which has the prefix, is not a plain key: the reason, ending with what is expected.
fn check_name(name: &str) -> Result<(), String> {
    let plain = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_';
    if let Some(c) = name.chars().find(|c| !plain(*c)) {
        return Err(format!("{c:?} is not one of A-Z, 0-9 and _; {EXPECTED}"));
    }
    let key = name
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_prefix(PREFIX_SEPARATOR))
        .unwrap_or_default();
    let parts: Vec<&str> = key.split(SEPARATOR).collect();
    if parts
        .iter()
        .any(|part| part.is_empty() || part.starts_with('_') || part.ends_with('_'))
    {
        return Err(format!(
            "a part of the key is empty or starts or ends with _ (nothing after EDGE_, or ___); {EXPECTED}"
        ));
    }
    if parts.len() > MAX_DEPTH {
        return Err(format!(
            "it is {} parts deep and keys have at most {MAX_DEPTH}; {EXPECTED}",
            parts.len()
        ));
    }
    Ok(())
}

/// `name` quoted for a message, control characters escaped, cut after [`MAX_SHOWN_CHARS`] characters.
fn shown(name: &str) -> String {
    let length = name.chars().count();
    if length <= MAX_SHOWN_CHARS {
        return format!("{name:?}");
    }
    let start: String = name.chars().take(MAX_SHOWN_CHARS).collect();
    format!("{start:?}… ({length} characters)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(name: &str) -> String {
        check([name]).expect_err(name).to_string()
    }

    #[test]
    fn plain_keys_up_to_table_and_key_pass() {
        for name in [
            "EDGE_SAMPLE_INTERVAL_SECS",
            "EDGE_STORE__MAX_SAMPLES",
            "EDGE_CONNECTION__BACKOFF_CAP_SECS",
            "EDGE_GPIO_OUTPUTS",
            "EDGE_NO_SUCH_KEY",
            "EDGE_X9",
        ] {
            assert!(check([name]).is_ok(), "{name}");
        }
    }

    #[test]
    fn names_without_the_prefix_are_not_looked_at() {
        let others = [
            "DEVICE_ID",
            "API_TOKEN",
            "SERVER_URL",
            "RUST_LOG",
            "PATH",
            "X[99999999999]",
            "EDGEX[1]",
            "EDGE",
            "MY_EDGE_A.B",
            "A__A__A__A__B",
            "",
        ];
        assert!(check(others).is_ok());
    }

    #[test]
    fn a_path_index_or_dot_in_the_name_is_refused() {
        for (name, culprit) in [
            ("EDGE_X[99999999999]", "'['"),
            ("EDGE_X[-99999999999]", "'['"),
            ("EDGE_STORE.PATH", "'.'"),
            ("EDGE_A-B", "'-'"),
            ("EDGE_A\nB", "'\\n'"),
        ] {
            let message = refusal(name);
            assert!(
                message.contains(&format!("{name:?}")) && message.contains(culprit),
                "{message}"
            );
            assert!(message.contains("EDGE_TABLE__KEY"), "{message}");
        }
    }

    #[test]
    fn the_prefix_counts_in_any_case_as_the_config_crate_reads_it_but_the_key_must_be_capitals() {
        for name in ["edge_store__path", "Edge_STORE__PATH", "EDGE_store__path"] {
            let message = refusal(name);
            assert!(message.contains("is not one of A-Z"), "{message}");
        }
    }

    #[test]
    fn empty_parts_and_stray_underscores_are_refused() {
        for name in [
            "EDGE_",
            "EDGE__X",
            "EDGE___X",
            "EDGE_STORE___PATH",
            "EDGE_STORE____PATH",
            "EDGE_X_",
        ] {
            assert!(
                refusal(name).contains("empty or starts or ends with _"),
                "{name}"
            );
        }
    }

    #[test]
    fn deeper_than_table_and_key_is_refused() {
        assert!(refusal("EDGE_A__B__C").contains("3 parts deep"));
        let deep = format!("EDGE_{}B", "A__".repeat(20_000));
        let message = refusal(&deep);
        assert!(message.contains("20001 parts deep"), "{message}");
        assert!(message.contains(&deep[..MAX_SHOWN_CHARS]), "{message}");
        assert!(message.contains("(60006 characters)"), "{message}");
        assert!(message.len() < 400, "{message}");
    }

    #[test]
    fn the_first_bad_name_in_sorted_order_is_the_one_named() {
        let names = [
            "EDGE_Z.Z",
            "PATH",
            "EDGE_STORE__PATH",
            "EDGE_B[1]",
            "EDGE_C.C",
        ];
        let message = check(names).expect_err("refused").to_string();
        assert!(message.contains("\"EDGE_B[1]\""), "{message}");
    }
}
