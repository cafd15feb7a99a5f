//! `demo-dashboard`: watches one device on the hub and prints every frame; lines typed on stdin are sent.
//!
//! `DASHBOARD_TOKEN=... demo-dashboard --url ws://127.0.0.1:8787 --device-id demo-pi`. With a control token,
//! type e.g. `{"type":"command","id":"1","name":"set_interval","args":{"seconds":5}}`. Reconnects when the hub
//! goes away. Ctrl-C or SIGTERM closes the socket and exits.

use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{SecondsFormat, Utc};
use futures_util::{SinkExt, StreamExt};
use hub_e2e::backoff::Backoff;
use hub_e2e::demo_args::{ArgsError, DemoArgs, token_from_env};
use hub_e2e::shutdown::stop_on_signal;
use tokio::io::{AsyncBufReadExt, BufReader, Lines, Stdin};
use tokio::sync::watch;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const USAGE: &str = "usage: DASHBOARD_TOKEN=<dashboard token> demo-dashboard [--url ws://127.0.0.1:8787] --device-id <id>";

#[tokio::main]
async fn main() -> ExitCode {
    match command_line() {
        Ok((args, token)) => {
            watch_device(&args.endpoint_url("dashboard"), &token).await;
            ExitCode::SUCCESS
        }
        Err(error) => error.report(),
    }
}

fn command_line() -> Result<(DemoArgs, String), ArgsError> {
    let args = DemoArgs::parse(std::env::args().skip(1), USAGE)?;
    Ok((args, token_from_env("DASHBOARD_TOKEN")?))
}

/// Watches `url` until Ctrl-C or SIGTERM, reconnecting whenever the connection ends.
async fn watch_device(url: &str, token: &str) {
    let mut stopped = stop_on_signal();
    let mut input = Some(BufReader::new(tokio::io::stdin()).lines());
    let mut backoff = Backoff::default();
    println!("demo-dashboard: watching {url}");
    while !*stopped.borrow() {
        match session(url, token, &mut input, &mut stopped, &mut backoff).await {
            Ok(()) => println!("demo-dashboard: disconnected"),
            Err(e) => eprintln!("demo-dashboard: {e:#}"),
        }
        if *stopped.borrow() {
            break;
        }
        let delay = backoff.next_delay();
        println!("demo-dashboard: reconnecting in {} s", delay.as_secs());
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = stopped.changed() => {}
        }
    }
}

/// One connection: prints what arrives, sends what is typed.
async fn session(
    url: &str,
    token: &str,
    input: &mut Option<Lines<BufReader<Stdin>>>,
    stopped: &mut watch::Receiver<bool>,
    backoff: &mut Backoff,
) -> Result<()> {
    let mut request = url.into_client_request().context("building the request")?;
    let bearer =
        HeaderValue::from_str(&format!("Bearer {token}")).context("token is not a valid header")?;
    request.headers_mut().insert("authorization", bearer);
    let (socket, _) = connect_async(request).await.map_err(describe_refusal)?;
    println!("demo-dashboard: connected");
    backoff.reset();
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => println!("{} {}", now(), text.as_str()),
                Some(Ok(Message::Binary(bytes))) => println!("{} <binary, {} bytes>", now(), bytes.len()),
                Some(Ok(Message::Close(frame))) => {
                    println!("{} hub closed the socket: {frame:?}", now());
                    let _ = sink.flush().await;
                    return Ok(());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            line = next_line(input) => match line {
                Some(line) if !line.trim().is_empty() => sink.send(Message::text(line)).await?,
                Some(_) => {}
                None => *input = None,
            },
            _ = stopped.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                return Ok(());
            }
        }
    }
}

/// The next line from stdin; pends forever once stdin is closed (`input` is `None`).
async fn next_line(input: &mut Option<Lines<BufReader<Stdin>>>) -> Option<String> {
    match input {
        Some(lines) => lines.next_line().await.ok().flatten(),
        None => std::future::pending().await,
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Turns a refused handshake into a message with the HTTP status and body.
fn describe_refusal(error: tokio_tungstenite::tungstenite::Error) -> anyhow::Error {
    match error {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            anyhow::anyhow!(
                "hub refused the connection: {} {}",
                response.status(),
                body.trim()
            )
        }
        other => anyhow::anyhow!("cannot connect: {other}"),
    }
}
