//! `hubctl dashboard watch ID`: connects to the hub's dashboard socket for one device, prints every frame,
//! sends each line typed on standard input (with a control token, e.g.
//! `{"type":"command","id":"1","name":"ping","args":{}}`), reconnects with backoff when the hub goes away, and
//! exits on Ctrl-C, SIGTERM or the end of its input. The token comes from `DASHBOARD_TOKEN` or a file, never
//! from an argument.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use telemetry_protocol::DeviceId;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::HubctlError;
use crate::api_error::clean;
use crate::cli::Context;
use crate::credential::TokenSource;
use crate::output::Output;
use crate::quiet::Quiet;
use crate::redact::redact_tokens;
use crate::scope::parse_device_id;
use crate::token_file::parse_path;

/// `hubctl dashboard watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The device to watch
    #[arg(value_name = "ID", value_parser = Quiet(parse_device_id))]
    pub device_id: DeviceId,
    /// File holding the dashboard token (tdash_…) [default: the DASHBOARD_TOKEN environment variable]
    #[arg(long, value_name = "PATH", value_parser = Quiet(parse_path))]
    pub dashboard_token_file: Option<PathBuf>,
}

/// The first reconnect delay, and the one after a connection succeeded.
const FIRST_DELAY: Duration = Duration::from_secs(1);

/// The longest reconnect delay.
const MAX_DELAY: Duration = Duration::from_secs(10);

/// How a connection ended.
enum Ended {
    /// Ctrl-C, SIGTERM or the end of standard input: stop watching.
    Stopped,
    /// The hub closed the socket or it failed: connect again.
    Lost(Result<(), String>),
}

/// Watches until stopped; the hub URL is `--hub` (or `HUB_URL`), turned into `ws://` or `wss://`.
pub fn run(args: &WatchArgs, context: &Context<'_>) -> Result<Output, HubctlError> {
    let hub = context.hub_url()?.ok_or(HubctlError::WatchNeedsHub)?;
    let file = args.dashboard_token_file.as_deref();
    let token = TokenSource::DASHBOARD.load(file, context.env.dashboard_token.as_deref())?;
    let url = hub.dashboard_socket(&args.device_id);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(watch_device(&url, &token));
    // The task reading standard input may still wait for a line; it is not waited for.
    runtime.shutdown_background();
    Ok(Output::text(String::new()))
}

/// Connects again and again until Ctrl-C, SIGTERM or the end of standard input.
async fn watch_device(url: &str, token: &str) {
    let mut stopped = stop_on_signal();
    let mut lines = stdin_lines();
    let mut delay = FIRST_DELAY;
    status(&format!("watching {url}"));
    loop {
        match session(url, token, &mut lines, &mut stopped, &mut delay).await {
            Ended::Stopped => return,
            Ended::Lost(Ok(())) => status("disconnected"),
            Ended::Lost(Err(error)) => status(&error),
        }
        let wait = delay;
        delay = next_delay(delay);
        status(&format!("reconnecting in {} s", wait.as_secs()));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stopped.changed() => return,
            None = lines.recv() => return,
        }
    }
}

/// One connection: prints what arrives, sends what is typed.
async fn session(
    url: &str,
    token: &str,
    lines: &mut mpsc::Receiver<String>,
    stopped: &mut watch::Receiver<bool>,
    delay: &mut Duration,
) -> Ended {
    let mut request = match url.into_client_request() {
        Ok(request) => request,
        Err(error) => return Ended::Lost(Err(format!("cannot connect: {error}"))),
    };
    let Ok(mut bearer) = HeaderValue::from_str(&format!("Bearer {token}")) else {
        status("the token cannot be sent as a header");
        return Ended::Stopped;
    };
    bearer.set_sensitive(true);
    request.headers_mut().insert("authorization", bearer);
    let socket = match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => socket,
        Err(error) => return Ended::Lost(Err(refusal(error))),
    };
    status("connected");
    *delay = FIRST_DELAY;
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => if !print(text.as_str()) {
                    return close(&mut sink).await;
                },
                Some(Ok(Message::Binary(bytes))) => if !print(&format!("<binary, {} bytes>", bytes.len())) {
                    return close(&mut sink).await;
                },
                Some(Ok(Message::Close(frame))) => {
                    let reason = frame.map(|f| format!("{} {}", f.code, clean(&f.reason))).unwrap_or_default();
                    status(&format!("the hub closed the socket: {reason}"));
                    return Ended::Lost(Ok(()));
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Ended::Lost(Err(error.to_string())),
                None => return Ended::Lost(Ok(())),
            },
            line = lines.recv() => match line {
                Some(line) => if let Err(error) = sink.send(Message::text(line)).await {
                    return Ended::Lost(Err(error.to_string()));
                },
                None => return close(&mut sink).await,
            },
            _ = stopped.changed() => return close(&mut sink).await,
        }
    }
}

/// Closes the socket politely and stops.
async fn close(sink: &mut (impl SinkExt<Message> + Unpin)) -> Ended {
    let _ = sink.send(Message::Close(None)).await;
    Ended::Stopped
}

/// Non-empty lines of standard input, read by a task of their own; the channel closes at its end.
fn stdin_lines() -> mpsc::Receiver<String> {
    let (send, lines) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut input = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = input.next_line().await {
            if !line.trim().is_empty() && send.send(line).await.is_err() {
                return;
            }
        }
    });
    lines
}

/// A receiver that changes on the first Ctrl-C or SIGTERM.
fn stop_on_signal() -> watch::Receiver<bool> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            },
            Err(_) => drop(tokio::signal::ctrl_c().await),
        }
        let _ = stop.send(true);
    });
    stopped
}

/// A refused handshake with the hub's status and (cleaned) answer, or why there was none.
fn refusal(error: WsError) -> String {
    match error {
        WsError::Http(response) => {
            let body = response.body().as_deref().unwrap_or_default();
            let body = clean(String::from_utf8_lossy(body).trim());
            format!(
                "the hub refused the connection: {} {body}",
                response.status()
            )
        }
        other => format!("cannot connect: {other}"),
    }
}

/// A frame on standard output after the time it arrived; false once nobody reads it.
fn print(frame: &str) -> bool {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    writeln!(std::io::stdout(), "{now} {frame}").is_ok()
}

/// A line about the connection on standard error, any token-shaped text hidden.
fn status(message: &str) {
    let _ = writeln!(std::io::stderr(), "hubctl: {}", redact_tokens(message));
}

/// The reconnect delay after `delay`: doubled, up to [`MAX_DELAY`].
fn next_delay(delay: Duration) -> Duration {
    (delay * 2).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delays_double_up_to_the_cap() {
        let delays = std::iter::successors(Some(FIRST_DELAY), |d| Some(next_delay(*d)));
        let secs: Vec<u64> = delays.take(6).map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10]);
    }
}
