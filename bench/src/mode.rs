//! The command line: which measurement to run.

/// What `--help` prints.
pub const USAGE: &str = "\
usage: hub-bench                          latency, throughput, batch ingest and connect time of the current tree
       hub-bench connect [--baseline REV] connect time of the current tree, of revision REV and of the minimal
                                          JavaScript hub in bench/js-hub, side by side. Without --baseline: the
                                          Worker before its latest change (HEAD if the work tree changes the
                                          Worker, else the parent of the last commit that changed it)

environment: HUB_BENCH_MESSAGES (10000), HUB_BENCH_DASHBOARDS (10), HUB_BENCH_CONNECTS (200 handshakes of each
kind per hub); HUB_BENCH_VARS=NAME=VALUE,... adds Worker variables for both Rust hubs of `connect` (they start
with AUTH_FAILURE_LIMIT and AUTH_FAILURE_ADDRESS_LIMIT out of the way)
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
    /// Print [`USAGE`].
    Help,
}

/// Reads the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Mode, String> {
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        return Ok(Mode::Figures);
    };
    match first.as_str() {
        "-h" | "--help" | "help" => Ok(Mode::Help),
        "connect" => parse_connect(args),
        other => Err(format!("unknown mode {other:?}")),
    }
}

fn parse_connect(mut args: impl Iterator<Item = String>) -> Result<Mode, String> {
    let mut baseline = None;
    while let Some(arg) = args.next() {
        let value = if arg == "--baseline" {
            args.next().ok_or("--baseline needs a revision")?
        } else if let Some(value) = arg.strip_prefix("--baseline=") {
            value.to_owned()
        } else if arg == "-h" || arg == "--help" {
            return Ok(Mode::Help);
        } else {
            return Err(format!("unknown argument {arg:?} for connect"));
        };
        if value.is_empty() || value.starts_with('-') {
            return Err(format!("--baseline needs a revision, got {value:?}"));
        }
        baseline = Some(value);
    }
    Ok(Mode::Connect { baseline })
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
    fn refuses_what_it_does_not_know() {
        assert!(parse_str(&["conect"]).is_err());
        assert!(parse_str(&["connect", "--baseline"]).is_err());
        assert!(parse_str(&["connect", "--baseline", "--x"]).is_err());
        assert!(parse_str(&["connect", "extra"]).is_err());
        assert_eq!(parse_str(&["--help"]), Ok(Mode::Help));
        assert_eq!(parse_str(&["connect", "-h"]), Ok(Mode::Help));
    }
}
