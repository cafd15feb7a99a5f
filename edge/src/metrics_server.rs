//! The Prometheus endpoint (`metrics.listen`): a minimal HTTP/1.1 responder over tokio's TCP that answers
//! `GET /metrics` with [`AgentMetrics::render`], anything else with 404 or 405, and closes every connection
//! after one answer.
//!
//! A client can cost the agent little: at most [`MAX_CONNECTIONS`] are served at once (more are closed at once),
//! each may send at most [`MAX_REQUEST_BYTES`] and has [`REQUEST_TIMEOUT`] for its whole exchange, so memory stays
//! bounded and a silent or endless client only ever holds its own task. Nothing is done until a client connects:
//! the listener costs no CPU while nobody scrapes. [`answer`] decides the response from the request head, purely.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout};

use crate::metrics::{AgentMetrics, CONTENT_TYPE};

/// Connections served at once; more are closed without an answer.
pub const MAX_CONNECTIONS: usize = 8;

/// The most of a request read: its request line and headers must fit.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// The time a client has to send its request and take the answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// How long to wait before accepting again after `accept` failed (out of file descriptors).
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// What to answer, from the request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200 with the metrics.
    Metrics,
    /// 400: no HTTP request line.
    BadRequest,
    /// 404: another path.
    NotFound,
    /// 405: `/metrics` with another method.
    MethodNotAllowed,
    /// 431: the head did not end within [`MAX_REQUEST_BYTES`].
    TooLarge,
}

/// Decides the answer to `head`, the bytes read so far; `None` while the head may still be incomplete.
pub fn answer(head: &[u8]) -> Option<Answer> {
    let complete =
        head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n");
    if !complete {
        return (head.len() >= MAX_REQUEST_BYTES).then_some(Answer::TooLarge);
    }
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = std::str::from_utf8(line)
        .unwrap_or_default()
        .trim_end_matches('\r');
    let mut words = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Some(Answer::BadRequest);
    };
    if !version.starts_with("HTTP/1.") {
        return Some(Answer::BadRequest);
    }
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    Some(match (path, method) {
        ("/metrics", "GET") => Answer::Metrics,
        ("/metrics", _) => Answer::MethodNotAllowed,
        _ => Answer::NotFound,
    })
}

/// The whole HTTP response for `answer`; `metrics` renders the body of a 200.
pub fn response(answer: Answer, metrics: &AgentMetrics) -> Vec<u8> {
    let (status, content_type, body, extra) = match answer {
        Answer::Metrics => ("200 OK", CONTENT_TYPE, metrics.render(), ""),
        Answer::BadRequest => ("400 Bad Request", "text/plain", "bad request\n".into(), ""),
        Answer::NotFound => (
            "404 Not Found",
            "text/plain",
            "not found; try /metrics\n".into(),
            "",
        ),
        Answer::MethodNotAllowed => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n".into(),
            "Allow: GET\r\n",
        ),
        Answer::TooLarge => (
            "431 Request Header Fields Too Large",
            "text/plain",
            "request too large\n".into(),
            "",
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// The endpoint, serving in a task of its own until this is dropped.
#[derive(Debug)]
pub struct MetricsEndpoint {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MetricsEndpoint {
    /// Listens on `addr` (checked by the config) and serves `metrics` there; the error is the agent's to report.
    pub async fn start(addr: SocketAddr, metrics: Arc<AgentMetrics>) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(serve(listener, metrics));
        Ok(Self { addr, task })
    }

    /// Where it listens (with the port chosen, for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `listener` until the task is aborted.
async fn serve(listener: TcpListener, metrics: Arc<AgentMetrics>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::debug!(%error, "metrics endpoint: accept failed");
                sleep(ACCEPT_PAUSE).await;
                continue;
            }
        };
        // Over the limit the stream is dropped here: closed, unread.
        if let Ok(slot) = Arc::clone(&slots).try_acquire_owned() {
            let metrics = Arc::clone(&metrics);
            tokio::spawn(async move {
                let _ = timeout(REQUEST_TIMEOUT, exchange(stream, &metrics)).await;
                drop(slot);
            });
        }
    }
}

/// Reads one request head (bounded) and writes its answer.
async fn exchange(stream: TcpStream, metrics: &AgentMetrics) -> io::Result<()> {
    let mut head = [0_u8; MAX_REQUEST_BYTES];
    let mut filled = 0;
    let decided = loop {
        if let Some(decided) = answer(&head[..filled]) {
            break decided;
        }
        stream.readable().await?;
        match stream.try_read(&mut head[filled..]) {
            Ok(0) => return Ok(()),
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    };
    write_all(&stream, &response(decided, metrics)).await
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(written) => bytes = &bytes[written..],
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_metrics_is_answered_with_the_metrics() {
        for head in [
            &b"GET /metrics HTTP/1.1\r\nHost: pi:9187\r\nAccept: */*\r\n\r\n"[..],
            b"GET /metrics?x=1 HTTP/1.0\r\n\r\n",
            b"GET /metrics HTTP/1.1\n\n",
        ] {
            assert_eq!(answer(head), Some(Answer::Metrics), "{head:?}");
        }
    }

    #[test]
    fn other_paths_and_methods_are_refused() {
        assert_eq!(answer(b"GET / HTTP/1.1\r\n\r\n"), Some(Answer::NotFound));
        assert_eq!(
            answer(b"GET /metricsx HTTP/1.1\r\n\r\n"),
            Some(Answer::NotFound)
        );
        assert_eq!(answer(b"POST /x HTTP/1.1\r\n\r\n"), Some(Answer::NotFound));
        for method in ["POST", "HEAD", "PUT", "DELETE", "get"] {
            let head = format!("{method} /metrics HTTP/1.1\r\n\r\n");
            assert_eq!(
                answer(head.as_bytes()),
                Some(Answer::MethodNotAllowed),
                "{method}"
            );
        }
    }

    #[test]
    fn garbage_is_a_bad_request() {
        for head in [
            &b"\r\n\r\n"[..],
            b"hello\r\n\r\n",
            b"GET /metrics\r\n\r\n",
            b"GET /metrics SMTP/1.0\r\n\r\n",
            b"GET /metrics HTTP/1.1 extra\r\n\r\n",
            b"\xff\xfe /metrics HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(answer(head), Some(Answer::BadRequest), "{head:?}");
        }
    }

    #[test]
    fn an_incomplete_head_waits_until_the_limit() {
        assert_eq!(answer(b""), None);
        assert_eq!(answer(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"), None);
        let long = vec![b'a'; MAX_REQUEST_BYTES - 1];
        assert_eq!(answer(&long), None);
        let full = vec![b'a'; MAX_REQUEST_BYTES];
        assert_eq!(answer(&full), Some(Answer::TooLarge));
    }

    #[test]
    fn responses_carry_status_type_length_and_close() {
        let metrics = AgentMetrics::new("d", 0);
        let ok = String::from_utf8(response(Answer::Metrics, &metrics)).expect("utf-8");
        let (head, body) = ok.split_once("\r\n\r\n").expect("a head");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
        assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
        assert!(head.ends_with("Connection: close"));
        assert!(body.contains("# TYPE edge_agent_connected gauge\n"));
        let refused =
            String::from_utf8(response(Answer::MethodNotAllowed, &metrics)).expect("utf-8");
        assert!(refused.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(refused.contains("\r\nAllow: GET\r\n"));
        let missing = String::from_utf8(response(Answer::NotFound, &metrics)).expect("utf-8");
        assert!(missing.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(
            !missing.contains("edge_agent"),
            "no metrics outside /metrics"
        );
    }
}
