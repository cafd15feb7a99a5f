//! `hubctl dashboard watch` against a real WebSocket server on 127.0.0.1:0: a frame the hub sends is printed,
//! a line typed on standard input reaches the hub, and the end of the input ends the watch.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use telemetry_protocol::{TokenKind, generate_token};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

// The handshake callback's error type is tungstenite's, and large.
#[allow(clippy::result_large_err)]
/// Accepts one dashboard connection, records its path and bearer, sends `frame`, and returns the first text
/// it receives.
async fn hub_once(listener: TcpListener, frame: &str) -> (String, String, String) {
    let (stream, _) = listener.accept().await.expect("accept");
    let mut seen = (String::new(), String::new());
    let callback = |request: &Request, response: Response| {
        seen.0 = request.uri().path().to_owned();
        let bearer = request.headers().get("authorization");
        seen.1 = bearer
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok(response)
    };
    let mut socket = tokio_tungstenite::accept_hdr_async(stream, callback)
        .await
        .expect("handshake");
    socket.send(Message::text(frame)).await.expect("send");
    let typed = loop {
        match socket.next().await.expect("a message").expect("ok") {
            Message::Text(text) => break text.as_str().to_owned(),
            _ => continue,
        }
    };
    (seen.0, seen.1, typed)
}

#[tokio::test]
async fn watch_prints_frames_and_sends_typed_lines() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let frame = r#"{"type":"telemetry","device_id":"pi-1","seq":7}"#;
    let hub = tokio::spawn(hub_once(listener, frame));
    let token = generate_token(TokenKind::Dashboard, |b| b.fill(7));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hubctl"))
        .args([
            "--hub",
            &format!("http://127.0.0.1:{port}"),
            "dashboard",
            "watch",
            "pi-1",
        ])
        .env("DASHBOARD_TOKEN", &token)
        .env_remove("HUB_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hubctl starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let printed = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("a line");
        line
    });
    let printed = tokio::time::timeout(Duration::from_secs(30), printed)
        .await
        .expect("a frame is printed in time")
        .expect("reader");
    assert!(
        printed.trim_end().ends_with(&format!(" {frame}")),
        "{printed}"
    );
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(
        stdin,
        r#"{{"type":"command","id":"1","name":"ping","args":{{}}}}"#
    )
    .expect("type");
    stdin.flush().expect("flush");
    let (path, bearer, typed) = tokio::time::timeout(Duration::from_secs(30), hub)
        .await
        .expect("the line reaches the hub in time")
        .expect("hub task");
    assert_eq!(path, "/ws/dashboard/pi-1");
    assert_eq!(bearer, format!("Bearer {token}"));
    assert_eq!(
        typed,
        r#"{"type":"command","id":"1","name":"ping","args":{}}"#
    );
    drop(stdin);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("waiter")
        .expect("hubctl ends at the end of its input");
    assert!(output.status.success());
    assert!(!String::from_utf8_lossy(&output.stderr).contains(&token[6..]));
}

#[test]
fn watch_needs_a_hub_and_a_dashboard_token_never_taken_as_an_argument() {
    let run = |args: &[&str], token: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hubctl"));
        command
            .args(args)
            .env_remove("HUB_URL")
            .env_remove("DASHBOARD_TOKEN");
        if let Some(token) = token {
            command.env("DASHBOARD_TOKEN", token);
        }
        command.stdin(Stdio::null()).output().expect("hubctl runs")
    };
    let no_hub = run(&["dashboard", "watch", "pi-1"], None);
    assert!(String::from_utf8_lossy(&no_hub.stderr).contains("needs the hub's URL"));
    let hub = ["--hub", "http://127.0.0.1:9", "dashboard", "watch", "pi-1"];
    let no_token = run(&hub, None);
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("no dashboard token"));
    let device = generate_token(TokenKind::Device, |b| b.fill(2));
    let wrong = run(&hub, Some(&device));
    let shown = String::from_utf8_lossy(&wrong.stderr);
    assert!(shown.contains("DASHBOARD_TOKEN is malformed") && !shown.contains(&device[5..]));
    let token = generate_token(TokenKind::Dashboard, |b| b.fill(2));
    let as_argument = run(&["dashboard", "watch", "pi-1", &token], None);
    assert_eq!(as_argument.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&as_argument.stderr).contains(&token[6..]));
}
