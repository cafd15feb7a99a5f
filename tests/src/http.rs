//! A tiny HTTP/1.1 client for status checks (404, 426, …) and plain requests, without an HTTP crate.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

/// How long a whole request may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// A parsed response. Header names are lowercased; the body is decoded from chunked encoding if needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code, e.g. 404.
    pub status: u16,
    /// `(lowercase name, value)` in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
}

impl HttpResponse {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` on `127.0.0.1:port` with extra `headers`, over a fresh connection that the server closes.
///
/// Panics on I/O errors, a timeout or a malformed response: it is test support.
pub async fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    request(port, "GET", path, headers, &[]).await
}

/// `method path` on `127.0.0.1:port` with extra `headers` and `body` (sent with `Content-Length` unless it is
/// empty and the method is `GET` or `HEAD`), over a fresh connection that the server closes. Panics like [`get`].
pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    request_from(None, port, method, path, headers, body).await
}

/// Like [`request`], from the local address `source` (e.g. `127.0.0.2`, a second client for workerd).
pub async fn request_from(
    source: Option<std::net::IpAddr>,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    request_within(HTTP_TIMEOUT, source, port, method, path, headers, body).await
}

/// Like [`request_from`], waiting up to `wait` for the response (for requests that do a lot of work).
pub async fn request_within(
    wait: Duration,
    source: Option<std::net::IpAddr>,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let raw_request = encode_request(port, method, path, headers, body);
    let raw = timeout(wait, exchange(source, port, &raw_request))
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: no complete response within {wait:?}"))
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    parse_response(&raw).unwrap_or_else(|why| {
        panic!(
            "{method} {path}: {why}; raw response:\n{}",
            String::from_utf8_lossy(&raw)
        )
    })
}

/// The bytes of an HTTP/1.1 request that asks the server to close the connection after answering.
fn encode_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || !matches!(method, "GET" | "HEAD") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends `request` and reads until the response is complete: by its `Content-Length`, the end of a chunked
/// body, or the server closing the connection (workerd may keep it open for seconds despite `Connection: close`).
async fn exchange(
    source: Option<std::net::IpAddr>,
    port: u16,
    request: &[u8],
) -> std::io::Result<Vec<u8>> {
    let target = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = crate::ws_client::tcp_from(source, target).await?;
    stream.write_all(request).await?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(raw);
        }
        raw.extend_from_slice(&chunk[..read]);
        if response_is_complete(&raw) {
            return Ok(raw);
        }
    }
}

/// Whether `raw` holds a whole response whose length is known from its headers.
fn response_is_complete(raw: &[u8]) -> bool {
    let Some(split) = find(raw, b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    let content_length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok());
    match content_length {
        Some(length) => body.len() >= length,
        None if head.contains("transfer-encoding: chunked") => body.ends_with(b"0\r\n\r\n"),
        None => false,
    }
}

/// Parses a complete HTTP/1.1 response (read until the server closed the connection).
pub fn parse_response(raw: &[u8]) -> Result<HttpResponse, String> {
    let split = find(raw, b"\r\n\r\n").ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("empty response")?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut response = HttpResponse {
        status,
        headers,
        body: String::new(),
    };
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        let len = response
            .header("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(rest.len());
        rest.get(..len)
            .ok_or("body shorter than content-length")?
            .to_vec()
    };
    response.body = String::from_utf8_lossy(&body).into_owned();
    Ok(response)
}

/// Decodes a chunked body (extensions and trailers are ignored).
fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let eol = find(raw, b"\r\n").ok_or("chunk size line without CRLF")?;
        let size_text = String::from_utf8_lossy(&raw[..eol]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| format!("bad chunk size {size_hex:?}"))?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(raw.get(..size).ok_or("truncated chunk")?);
        raw = raw.get(size + 2..).ok_or("chunk without CRLF")?;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_requests_with_a_length_only_where_needed() {
        let get = encode_request(8787, "GET", "/x", &[("A", "b")], &[]);
        assert_eq!(
            String::from_utf8_lossy(&get),
            "GET /x HTTP/1.1\r\nHost: 127.0.0.1:8787\r\nConnection: close\r\nA: b\r\n\r\n"
        );
        let post =
            String::from_utf8_lossy(&encode_request(1, "POST", "/y", &[], b"{}")).into_owned();
        assert!(post.ends_with("Content-Length: 2\r\n\r\n{}"), "{post}");
        let empty =
            String::from_utf8_lossy(&encode_request(1, "POST", "/y", &[], &[])).into_owned();
        assert!(empty.contains("Content-Length: 0\r\n"), "{empty}");
    }

    #[test]
    fn parses_a_plain_response() {
        let raw = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nX-A: b\r\n\r\nnot found";
        let response = parse_response(raw).expect("parses");
        assert_eq!(response.status, 404);
        assert_eq!(response.header("x-a"), Some("b"));
        assert_eq!(response.header("Content-Length"), Some("9"));
        assert_eq!(response.body, "not found");
    }

    #[test]
    fn parses_a_chunked_response() {
        let raw = b"HTTP/1.1 426 Upgrade Required\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
        let response = parse_response(raw).expect("parses");
        assert_eq!(response.status, 426);
        assert_eq!(response.body, "hello world");
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_response(b"nonsense").is_err());
        assert!(parse_response(b"HTTP/1.1 abc\r\n\r\n").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
    }
}
