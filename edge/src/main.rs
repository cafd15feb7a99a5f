//! `edge-agent`: loads the config (exit 78 if it is invalid), sets up logging, and runs the agent until
//! SIGTERM or ctrl-c.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use edge_agent::config::{AgentConfig, ConfigFile, DEFAULT_CONFIG_PATH};

/// `EX_CONFIG` from sysexits.h: the systemd unit does not restart on it.
const EXIT_CONFIG: u8 = 78;

const USAGE: &str = "usage: edge-agent [--config PATH]
       edge-agent status [--config PATH] [--store DIR] [--json]

Streams this device's telemetry to the hub. Configuration: the TOML file (default
/etc/edge-agent/config.toml), then the environment: DEVICE_ID, SERVER_URL, API_TOKEN_FILE and
EDGE_<KEY> (e.g. EDGE_SAMPLE_INTERVAL_SECS=5). Logging: RUST_LOG (default info).

The device token is read from, first found wins:
  1. the file named by api_token_file (API_TOKEN_FILE), mode 0600 or 0640;
  2. $CREDENTIALS_DIRECTORY/api_token (systemd LoadCredential=api_token:/etc/edge-agent/api_token);
  3. API_TOKEN or api_token (for development: processes of the same user can read the environment).
A token in a lower place is then ignored, with a warning.";

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("status") {
        return status(std::env::args().skip(2));
    }
    init_logging();
    let file = match config_file(std::env::args().skip(1)) {
        Ok(Some(file)) => file,
        Ok(None) => return ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("edge-agent: {message}\n\n{USAGE}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let config = match AgentConfig::load(&file, env) {
        Ok(config) => {
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
        Err(error) => {
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

/// Reads `--config PATH`; `Ok(None)` after printing `--help` or `--version`.
fn config_file(mut args: impl Iterator<Item = String>) -> Result<Option<ConfigFile>, String> {
    let mut file = ConfigFile::Optional(PathBuf::from(DEFAULT_CONFIG_PATH));
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => {
                let path = args.next().ok_or("--config needs a path")?;
                file = ConfigFile::Required(PathBuf::from(path));
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
    Ok(Some(file))
}

fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, warning) = edge_agent::log_filter::log_filter(rust_log.as_deref());
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE) // `filter` decides
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .finish()
        .with(filter)
        .init();
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
}

/// One thread for the event loop and a small blocking pool for sensor reads and the store.
fn run(config: AgentConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(4)
        .build()
        .context("starting the tokio runtime")?;
    let result = runtime.block_on(edge_agent::run(config, shutdown_signal()));
    runtime.shutdown_timeout(Duration::from_millis(300));
    result.context("the agent failed")
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
