//! `edge-agent`: loads the config (exit 78 if it is invalid), sets up logging, and runs the agent until
//! SIGTERM or ctrl-c. A metrics address it cannot listen on is a configuration error too (exit 78).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use edge_agent::AgentError;
use edge_agent::config::{AgentConfig, ConfigFile, DEFAULT_CONFIG_PATH};
use edge_agent::log_format::LogFormat;

/// `EX_CONFIG` from sysexits.h: the systemd unit does not restart on it.
const EXIT_CONFIG: u8 = 78;

const USAGE: &str = "usage: edge-agent [--config PATH] [--log-format text|json]
       edge-agent status [--config PATH] [--store DIR] [--json]

Streams this device's telemetry to the hub. Configuration: the TOML file (default
/etc/edge-agent/config.toml), then the environment: DEVICE_ID, SERVER_URL, API_TOKEN_FILE and
EDGE_<KEY> (e.g. EDGE_SAMPLE_INTERVAL_SECS=5). Logging: RUST_LOG (default info); lines are text,
or JSON objects with --log-format json (or log_format = \"json\", EDGE_LOG_FORMAT=json).
Prometheus metrics: [metrics] listen = \"127.0.0.1:9187\" (EDGE_METRICS__LISTEN), off by default.

The device token is read from, first found wins:
  1. the file named by api_token_file (API_TOKEN_FILE), mode 0600 or 0640;
  2. $CREDENTIALS_DIRECTORY/api_token (systemd LoadCredential=api_token:/etc/edge-agent/api_token);
  3. API_TOKEN or api_token (for development: processes of the same user can read the environment).
A token in a lower place is then ignored, with a warning.";

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("status") {
        return status(std::env::args().skip(2));
    }
    let cli = match parse_args(std::env::args().skip(1)) {
        Ok(Some(cli)) => cli,
        Ok(None) => return ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("edge-agent: {message}\n\n{USAGE}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let config = match AgentConfig::load(&cli.file, env) {
        Ok(config) => {
            init_logging(cli.log_format.unwrap_or(config.log_format));
            config.api_token_origin.log();
            config
        }
        Err(error) => {
            eprintln!("edge-agent: invalid configuration: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error @ AgentError::MetricsListen { .. }) => {
            tracing::error!("invalid configuration: {error}");
            ExitCode::from(EXIT_CONFIG)
        }
        Err(error) => {
            let error = anyhow::Error::new(error).context("the agent failed");
            tracing::error!("stopped: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `edge-agent status`: prints the store's state; exit 1 if it is unreadable.
fn status(args: impl Iterator<Item = String>) -> ExitCode {
    use edge_agent::status::{STATUS_USAGE, parse_args, report, to_json, to_text};
    let args = match parse_args(args) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{STATUS_USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("edge-agent status: {message}\n\n{STATUS_USAGE}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    match report(&args, env) {
        Ok(report) => {
            print!(
                "{}",
                if args.json {
                    to_json(&report) + "\n"
                } else {
                    to_text(&report)
                }
            );
            if report.problem.is_some() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("edge-agent status: invalid configuration: {message}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// What the command line says.
struct Cli {
    /// The config file.
    file: ConfigFile,
    /// `--log-format`, which beats the config's `log_format`.
    log_format: Option<LogFormat>,
}

/// Reads `--config PATH` and `--log-format text|json`; `Ok(None)` after printing `--help` or `--version`.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Cli>, String> {
    let mut file = ConfigFile::Optional(PathBuf::from(DEFAULT_CONFIG_PATH));
    let mut log_format = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => {
                let path = args.next().ok_or("--config needs a path")?;
                file = ConfigFile::Required(PathBuf::from(path));
            }
            "--log-format" => {
                let value = args.next().ok_or("--log-format needs text or json")?;
                log_format =
                    Some(LogFormat::parse(&value).map_err(|e| format!("--log-format: {e}"))?);
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(None);
            }
            "--version" | "-V" => {
                println!("edge-agent {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(Some(Cli { file, log_format }))
}

/// Logs to stderr in `format`, filtered by `RUST_LOG`. Until the config is loaded nothing is logged: its
/// errors go to stderr as plain lines.
fn init_logging(format: LogFormat) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, warning) = edge_agent::log_filter::log_filter(rust_log.as_deref());
    format.init(filter);
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
}

/// One thread for the event loop (and the metrics endpoint) and a small blocking pool for sensor reads and the
/// store.
fn run(config: AgentConfig) -> Result<(), AgentError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(4)
        .build()
        .map_err(|error| AgentError::Task(format!("starting the tokio runtime: {error}")))?;
    let result = runtime.block_on(edge_agent::run(config, shutdown_signal()));
    runtime.shutdown_timeout(Duration::from_millis(300));
    result
}

/// Completes on SIGTERM (systemd stop) or ctrl-c.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("ctrl-c: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}
