//! Plain HTTP requests to a local hub with a real client (ureq): status checks (404, 426, …), the admin API,
//! history downloads. Each request goes over a fresh connection, from a chosen local address when asked
//! (workerd reports it as `CF-Connecting-IP`); non-2xx statuses are answers, not errors.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use ureq::Agent;
use ureq::http::{Method, Request};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport,
};

/// How long a whole request may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// A response. Header names are lowercased; the body is decoded from chunked encoding if needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code, e.g. 404.
    pub status: u16,
    /// `(lowercase name, value)` of every header.
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

/// `GET path` on `127.0.0.1:port` with extra `headers`.
///
/// Panics on I/O errors, a timeout or a malformed response: it is test support.
pub async fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    request(port, "GET", path, headers, &[]).await
}

/// `method path` on `127.0.0.1:port` with extra `headers` and `body` (sent with `Content-Length` unless it is
/// empty and the method is `GET` or `HEAD`). Panics like [`get`].
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
    source: Option<IpAddr>,
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
    source: Option<IpAddr>,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let request = build_request(port, method, path, headers, body);
    let what = format!("{method} {path}");
    tokio::task::spawn_blocking(move || exchange(wait, source, request))
        .await
        .unwrap_or_else(|e| panic!("{what}: the request's thread failed: {e}"))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// The request for `http://127.0.0.1:port{path}`; panics on a method or header the HTTP crate refuses.
fn build_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Request<Vec<u8>> {
    let method =
        Method::from_bytes(method.as_bytes()).unwrap_or_else(|e| panic!("method {method:?}: {e}"));
    let mut builder = Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{port}{path}"));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(body.to_vec())
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Sends `request` on a fresh connection from `source` and reads the whole response.
fn exchange(
    wait: Duration,
    source: Option<IpAddr>,
    request: Request<Vec<u8>>,
) -> Result<HttpResponse, ureq::Error> {
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(wait))
        .allow_non_standard_methods(true)
        .build();
    let agent = Agent::with_parts(config, FromAddress(source), DefaultResolver::default());
    let bodyless =
        request.body().is_empty() && matches!(*request.method(), Method::GET | Method::HEAD);
    let mut response = if bodyless {
        agent.run(request.map(|_| ()))?
    } else {
        agent.run(request)?
    };
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()?;
    Ok(HttpResponse {
        status: response.status().as_u16(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Opens each connection from this local address (any, if `None`).
#[derive(Debug)]
struct FromAddress(Option<IpAddr>);

impl Connector for FromAddress {
    type Out = LocalTcp;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<LocalTcp>, ureq::Error> {
        let target = *details.addrs.first().ok_or(ureq::Error::HostNotFound)?;
        let stream = connect_from(self.0, target, details.timeout)?;
        let config = details.config;
        let buffers = LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size());
        Ok(Some(LocalTcp { stream, buffers }))
    }
}

/// A TCP connection to `target` from `source`.
fn connect_from(
    source: Option<IpAddr>,
    target: SocketAddr,
    timeout: NextTimeout,
) -> std::io::Result<TcpStream> {
    let socket = Socket::new(
        Domain::for_address(target),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    if let Some(source) = source {
        socket.bind(&SocketAddr::new(source, 0).into())?;
    }
    match timeout.not_zero() {
        Some(limit) => socket.connect_timeout(&target.into(), *limit)?,
        None => socket.connect(&target.into())?,
    }
    socket.set_tcp_nodelay(true)?;
    Ok(socket.into())
}

/// A plain TCP transport for ureq; never reused (each request has its own agent).
#[derive(Debug)]
struct LocalTcp {
    stream: TcpStream,
    buffers: LazyBuffers,
}

impl Transport for LocalTcp {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let limit = timeout.for_write().not_zero().map(|t| *t);
        self.stream.set_write_timeout(limit)?;
        self.stream.write_all(&self.buffers.output()[..amount])?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let limit = timeout.for_read().not_zero().map(|t| *t);
        self.stream.set_read_timeout(limit)?;
        let amount = self.stream.read(self.buffers.input_append_buf())?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use std::io::BufRead;
    use std::net::{Ipv4Addr, TcpListener};

    use super::*;

    /// Serves one request with `answer`; returns the request head and the client's address.
    fn serve_once(answer: &'static str) -> (u16, std::thread::JoinHandle<(String, SocketAddr)>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut stream, peer) = listener.accept().expect("accept");
            let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
            let mut head = String::new();
            while !head.ends_with("\r\n\r\n") && reader.read_line(&mut head).expect("read") > 0 {}
            stream.write_all(answer.as_bytes()).expect("write");
            (head, peer)
        });
        (port, server)
    }

    #[tokio::test]
    async fn reads_a_chunked_answer_to_a_request_from_another_address() {
        let (port, server) = serve_once(
            "HTTP/1.1 426 Upgrade Required\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        );
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
        let response = request_from(Some(source), port, "GET", "/x", &[("A", "b")], &[]).await;
        assert_eq!(response.status, 426);
        assert_eq!(response.header("x-a"), Some("b"));
        assert_eq!(response.body, "hello world");
        let (head, peer) = server.join().expect("server");
        assert!(head.starts_with("GET /x HTTP/1.1\r\n"), "{head}");
        assert!(head.to_ascii_lowercase().contains("\r\na: b\r\n"), "{head}");
        assert!(
            !head.to_ascii_lowercase().contains("content-length"),
            "{head}"
        );
        assert_eq!(peer.ip(), source);
    }

    #[tokio::test]
    async fn sends_a_length_with_every_post() {
        let (port, server) =
            serve_once("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found");
        let response = request(port, "POST", "/y", &[], &[]).await;
        assert_eq!(
            (response.status, response.body.as_str()),
            (404, "not found")
        );
        let (head, _) = server.join().expect("server");
        assert!(
            head.to_ascii_lowercase().contains("content-length: 0\r\n"),
            "{head}"
        );
    }
}
