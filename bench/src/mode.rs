//! The command line: which measurement to run.

/// What `--help` prints.
pub const USAGE: &str = "\
usage: hub-bench                          latency, throughput, batch ingest and connect time of the current tree
       hub-bench connect [--baseline REV] connect time of the current tree, of revision REV and of the minimal
                                          JavaScript hub in bench/js-hub, side by side. Without --baseline: the
                                          Worker before its latest change (HEAD if the work tree changes the
                                          Worker, else the parent of the last commit that changed it)
       hub-bench history [--baseline REV] the cost of keeping history: throughput and latency side by side with
                                          REV (default 93058ae, the Worker before history), a fleet of devices at
                                          1 Hz against each, a day of history queried, and the storage counters
                                          with a cost per device-month
       hub-bench reconnect                a hub restarted under 200 real agents on the old reconnect schedule,
                                          then under 200 on the new one: time from the hub's return to each
                                          reconnect and arrivals per 100 ms side by side; then lone agents
                                          through outages of about 5 s and 30 s

environment: HUB_BENCH_MESSAGES (10000), HUB_BENCH_DASHBOARDS (10), HUB_BENCH_CONNECTS (200 handshakes of each
kind per hub); HUB_BENCH_VARS=NAME=VALUE,... adds Worker variables for both Rust hubs of `connect` (they start
with AUTH_FAILURE_LIMIT and AUTH_FAILURE_ADDRESS_LIMIT out of the way)

`history` sizes: HUB_BENCH_MESSAGES (10000 per round; throughput sends twice as many), HUB_BENCH_DASHBOARDS (10),
HUB_BENCH_ROUNDS (4 per hub), HUB_BENCH_FLEET (1000 devices), HUB_BENCH_FLEET_SECS (60), HUB_BENCH_DAY_SAMPLES
(86400), HUB_BENCH_QUERIES (20), HUB_BENCH_COUNTER_SAMPLES (6000)

`reconnect` sizes: HUB_BENCH_AGENTS (200 per schedule), HUB_BENCH_SOLO (5 lone agents per schedule)
";

/// A measurement `hub-bench` can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The README's figures for one hub of the current tree.
    Figures,
    /// Connect time of the current tree against `baseline` (a git revision) and the JavaScript hub.
    Connect {
        /// The revision to compare against, as git understands it; `None`: the Worker before its latest change.
        baseline: Option<String>,
    },
    /// What keeping history costs, against `baseline` (a git revision).
    History {
        /// The revision to compare against, as git understands it.
        baseline: String,
    },
    /// Reconnects of a fleet of agents after a hub restart, old schedule against new.
    Reconnect,
    /// Print [`USAGE`].
    Help,
}

/// The baseline of `history` when none is named: the last Worker that kept no history.
pub const HISTORY_BASELINE: &str = "93058ae";

/// Reads the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Mode, String> {
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        return Ok(Mode::Figures);
    };
    match first.as_str() {
        "-h" | "--help" | "help" => Ok(Mode::Help),
        "connect" => match parse_baseline(args, "connect")? {
            Some(baseline) => Ok(Mode::Connect { baseline }),
            None => Ok(Mode::Help),
        },
        "history" => match parse_baseline(args, "history")? {
            Some(baseline) => Ok(Mode::History {
                baseline: baseline.unwrap_or_else(|| HISTORY_BASELINE.to_owned()),
            }),
            None => Ok(Mode::Help),
        },
        "reconnect" => match args.next().as_deref() {
            None => Ok(Mode::Reconnect),
            Some("-h" | "--help") => Ok(Mode::Help),
            Some(other) => Err(format!("unknown argument {other:?} for reconnect")),
        },
        other => Err(format!("unknown mode {other:?}")),
    }
}

/// The `--baseline` of a mode (`Some(None)` when not given); `None` when help was asked for.
fn parse_baseline(
    mut args: impl Iterator<Item = String>,
    mode: &str,
) -> Result<Option<Option<String>>, String> {
    let mut baseline = None;
    while let Some(arg) = args.next() {
        let value = if arg == "--baseline" {
            args.next().ok_or("--baseline needs a revision")?
        } else if let Some(value) = arg.strip_prefix("--baseline=") {
            value.to_owned()
        } else if arg == "-h" || arg == "--help" {
            return Ok(None);
        } else {
            return Err(format!("unknown argument {arg:?} for {mode}"));
        };
        if value.is_empty() || value.starts_with('-') {
            return Err(format!("--baseline needs a revision, got {value:?}"));
        }
        baseline = Some(value);
    }
    Ok(Some(baseline))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &[&str]) -> Result<Mode, String> {
        parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn no_arguments_is_the_default_mode() {
        assert_eq!(parse_str(&[]), Ok(Mode::Figures));
    }

    #[test]
    fn connect_takes_a_baseline_or_the_default() {
        let connect = |rev: &str| {
            Ok(Mode::Connect {
                baseline: Some(rev.to_owned()),
            })
        };
        assert_eq!(
            parse_str(&["connect"]),
            Ok(Mode::Connect { baseline: None })
        );
        assert_eq!(
            parse_str(&["connect", "--baseline", "abc123"]),
            connect("abc123")
        );
        assert_eq!(
            parse_str(&["connect", "--baseline=main~3"]),
            connect("main~3")
        );
    }

    #[test]
    fn history_defaults_to_the_worker_before_history() {
        let history = |rev: &str| {
            Ok(Mode::History {
                baseline: rev.to_owned(),
            })
        };
        assert_eq!(parse_str(&["history"]), history("93058ae"));
        assert_eq!(
            parse_str(&["history", "--baseline", "abc123"]),
            history("abc123")
        );
        assert_eq!(
            parse_str(&["history", "--baseline=HEAD~2"]),
            history("HEAD~2")
        );
        assert_eq!(parse_str(&["history", "--help"]), Ok(Mode::Help));
        assert!(parse_str(&["history", "--baseline"]).is_err());
        assert!(parse_str(&["history", "--baseline", "-x"]).is_err());
        assert!(parse_str(&["history", "1000"]).is_err());
    }

    #[test]
    fn reconnect_takes_no_arguments() {
        assert_eq!(parse_str(&["reconnect"]), Ok(Mode::Reconnect));
        assert_eq!(parse_str(&["reconnect", "--help"]), Ok(Mode::Help));
        assert!(parse_str(&["reconnect", "200"]).is_err());
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        assert!(parse_str(&["conect"]).is_err());
        assert!(parse_str(&["connect", "--baseline"]).is_err());
        assert!(parse_str(&["connect", "--baseline", "--x"]).is_err());
        assert!(parse_str(&["connect", "extra"]).is_err());
        assert_eq!(parse_str(&["--help"]), Ok(Mode::Help));
        assert_eq!(parse_str(&["connect", "-h"]), Ok(Mode::Help));
    }
}
