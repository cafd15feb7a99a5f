//! `demo-device`: a simulated Pi that streams telemetry to the hub every second and prints the hub's answers.
//!
//! `API_TOKEN=... demo-device --url ws://127.0.0.1:8787 --device-id demo-pi`. Reconnects when the hub goes
//! away; answers commands with `ok: true` (it has nothing to control). Ctrl-C or SIGTERM closes the socket and exits.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use hub_e2e::backoff::Backoff;
use hub_e2e::demo_args::{ArgsError, DemoArgs, token_from_env};
use hub_e2e::shutdown::stop_on_signal;
use hub_e2e::simulated_pi::SimulatedPi;
use telemetry_protocol::{CommandResult, DeviceMessage, HubToDevice};
use tokio::sync::watch;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const USAGE: &str =
    "usage: API_TOKEN=<device token> demo-device [--url ws://127.0.0.1:8787] --device-id <id>";

#[tokio::main]
async fn main() -> ExitCode {
    let (args, token) = match command_line() {
        Ok(parsed) => parsed,
        Err(error) => return error.report(),
    };
    match run(&args, &token, stop_on_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo-device: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn command_line() -> Result<(DemoArgs, String), ArgsError> {
    let args = DemoArgs::parse(std::env::args().skip(1), USAGE)?;
    Ok((args, token_from_env("API_TOKEN")?))
}

/// Connects, streams until the connection ends, waits, reconnects; returns when `stopped` turns true.
async fn run(args: &DemoArgs, token: &str, mut stopped: watch::Receiver<bool>) -> Result<()> {
    let started = Utc::now();
    let epoch = format!("demo-{}", started.format("%Y%m%dT%H%M%S%.3fZ"));
    let mut pi = SimulatedPi::new(epoch, started.timestamp_subsec_nanos().into());
    let mut backoff = Backoff::default();
    let url = args.endpoint_url("device");
    println!(
        "demo-device: {} as {} (epoch {})",
        url,
        args.device_id,
        pi.epoch()
    );
    while !*stopped.borrow() {
        match session(&url, token, &mut pi, &mut stopped, &mut backoff).await {
            Ok(()) => println!("demo-device: disconnected"),
            Err(e) => eprintln!("demo-device: {e:#}"),
        }
        if *stopped.borrow() {
            break;
        }
        let delay = backoff.next_delay();
        println!("demo-device: reconnecting in {} s", delay.as_secs());
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = stopped.changed() => {}
        }
    }
    println!("demo-device: stopped after seq {}", pi.seq());
    Ok(())
}

/// One connection: a sample every second, the hub's messages printed, commands answered.
async fn session(
    url: &str,
    token: &str,
    pi: &mut SimulatedPi,
    stopped: &mut watch::Receiver<bool>,
    backoff: &mut Backoff,
) -> Result<()> {
    let mut request = url.into_client_request().context("building the request")?;
    let bearer =
        HeaderValue::from_str(&format!("Bearer {token}")).context("token is not a valid header")?;
    request.headers_mut().insert("authorization", bearer);
    let (socket, _) = connect_async(request).await.map_err(describe_refusal)?;
    println!("demo-device: connected");
    backoff.reset();
    let (mut sink, mut stream) = socket.split();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let message = DeviceMessage::Telemetry(pi.next_sample(Utc::now()));
                sink.send(Message::text(serde_json::to_string(&message)?)).await?;
            }
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Some(reply) = answer(text.as_str()) {
                        sink.send(Message::text(reply)).await?;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    println!("demo-device: hub closed the socket: {frame:?}");
                    let _ = sink.flush().await;
                    return Ok(());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            _ = stopped.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                return Ok(());
            }
        }
    }
}

/// Prints a message from the hub; returns the reply to send, if any.
fn answer(text: &str) -> Option<String> {
    match serde_json::from_str::<HubToDevice>(text) {
        Ok(HubToDevice::Ack(ack)) => {
            println!(
                "ack seq={} epoch={}",
                ack.seq,
                ack.epoch.as_deref().unwrap_or("-")
            );
            None
        }
        Ok(HubToDevice::Command(command)) => {
            println!(
                "command {} {} {}",
                command.id,
                command.name,
                serde_json::Value::Object(command.args)
            );
            let result = DeviceMessage::CommandResult(CommandResult {
                id: command.id,
                ok: true,
                detail: "demo-device: accepted (nothing to control)".into(),
                device_id: None,
            });
            serde_json::to_string(&result).ok()
        }
        Ok(HubToDevice::Error(error)) => {
            println!("error {:?}: {}", error.code, error.message);
            None
        }
        Err(_) => {
            println!("hub: {text}");
            None
        }
    }
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
