//! A tiny HTTP server on 127.0.0.1:0 that answers canned responses in order and records each request, so the
//! admin client can be tested on the wire without a Worker.

// Each test binary uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

/// In a canned body, replaced by the `token_sha256` of the request's JSON body (a hub that took the hash).
pub const REQUEST_TOKEN_SHA256: &str = "$REQUEST_TOKEN_SHA256";

/// One answer to give.
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Canned {
    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// The server: answers `answers` one connection each, then stops accepting.
pub struct CannedHub {
    port: u16,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl CannedHub {
    pub fn start(answers: Vec<Canned>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&recorded);
        thread::spawn(move || {
            for answer in answers {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                serve(stream, &answer, &log);
            }
        });
        Self { port, recorded }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests so far (each is recorded before it is answered).
    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().expect("lock").clone()
    }
}

fn serve(stream: TcpStream, answer: &Canned, log: &Mutex<Vec<Recorded>>) {
    let mut reader = BufReader::new(stream);
    let request = read_request(&mut reader);
    let body = echo_token_hash(&answer.body, &request.body);
    log.lock().expect("lock").push(request);
    let mut stream = reader.into_inner();
    let mut head = format!(
        "HTTP/1.1 {} Canned\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        body.len()
    );
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Recorded {
    let mut line = String::new();
    reader.read_line(&mut line).expect("request line");
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let (mut authorization, mut content_type, mut length) = (None, None, 0usize);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).expect("header");
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').expect("name: value");
        let value = value.trim().to_owned();
        match name.to_ascii_lowercase().as_str() {
            "authorization" => authorization = Some(value),
            "content-type" => content_type = Some(value),
            "content-length" => length = value.parse().expect("length"),
            _ => {}
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).expect("body");
    Recorded {
        method,
        target,
        authorization,
        content_type,
        body: String::from_utf8(body).expect("utf-8"),
    }
}

/// `canned` with [`REQUEST_TOKEN_SHA256`] replaced by the request body's `token_sha256`, if any.
fn echo_token_hash(canned: &str, request_body: &str) -> String {
    let hash = serde_json::from_str::<serde_json::Value>(request_body)
        .ok()
        .and_then(|v| v["token_sha256"].as_str().map(str::to_owned))
        .unwrap_or_default();
    canned.replace(REQUEST_TOKEN_SHA256, &hash)
}
