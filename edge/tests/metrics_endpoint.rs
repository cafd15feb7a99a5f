//! The `edge-agent` binary with `metrics.listen` on port 0, streaming to a fake hub on port 0 and scraped over
//! real TCP: the counters move with sampling, sending, stored acknowledgements and reconnects; the backlog grows
//! while the hub is away and drains when it is back; silent, garbage and too many clients neither stop sampling
//! nor, once gone, the endpoint; other paths and methods are refused; and a port in use stops the agent at
//! start with exit code 78.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use edge_agent::testing::{DEVICE_ID, FakeHub, HistoryPolicy, Mode, device_token, scratch_dir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep, timeout};

/// Generous, for a loaded 2-core machine or qemu.
const WAIT: Duration = Duration::from_secs(60);

/// `EX_CONFIG`: the agent's exit code for a configuration it refuses.
const EXIT_CONFIG: i32 = 78;

/// The agent binary storing in `dir`, sampling every 50 ms with quick reconnects, metrics on `listen`.
fn agent(dir: &Path, server_url: &str, listen: &str) -> Command {
    let mut command =
        edge_agent::testing::agent_process(Path::new(env!("CARGO_BIN_EXE_edge-agent")));
    command
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DEVICE_ID", DEVICE_ID)
        .env("API_TOKEN", device_token())
        .env("SERVER_URL", server_url)
        .env("EDGE_STORE__PATH", dir.join("samples"))
        .env("EDGE_SAMPLE_INTERVAL_SECS", "0.05")
        .env("EDGE_CONNECTION__BACKOFF_BASE_SECS", "0.05")
        .env("EDGE_CONNECTION__BACKOFF_CAP_SECS", "0.3")
        .env("EDGE_METRICS__LISTEN", listen)
        .env("RUST_LOG", "info")
        .arg("--config")
        .arg(dir.join("empty.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    command
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("agent.log")
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(log_path(dir)).unwrap_or_default()
}

/// Starts the agent and returns it with the address its log says the metrics are served on.
async fn start(dir: &Path, hub: &FakeHub) -> (Child, SocketAddr) {
    std::fs::write(dir.join("empty.toml"), "").expect("write an empty config");
    let log_file = std::fs::File::create(log_path(dir)).expect("create the log");
    let mut child = agent(dir, &hub.url(), "127.0.0.1:0")
        .stderr(log_file)
        .spawn()
        .expect("start the agent");
    let deadline = Instant::now() + WAIT;
    loop {
        let text = log(dir);
        let found = text
            .split("metrics on http://")
            .nth(1)
            .and_then(|rest| rest.split("/metrics").next()?.parse::<SocketAddr>().ok());
        if let Some(addr) = found {
            return (child, addr);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the agent exited early ({status}):\n{text}");
        }
        assert!(
            Instant::now() < deadline,
            "no metrics address logged:\n{text}"
        );
        sleep(Duration::from_millis(50)).await;
    }
}

/// Sends `request` on a new connection and returns everything the endpoint answered before closing (empty if
/// it closed at once or reset).
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return String::new();
    };
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// One scrape: every unlabelled sample by name, and the whole body.
struct Scrape {
    values: HashMap<String, f64>,
    body: String,
}

impl Scrape {
    fn get(&self, name: &str) -> f64 {
        *self
            .values
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in:\n{}", self.body))
    }
}

/// `GET /metrics`, if it was answered with 200 and the exposition format's content type.
async fn scrape(addr: SocketAddr) -> Option<Scrape> {
    let answer = exchange(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: pi\r\nAccept: */*\r\n\r\n",
    )
    .await;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.1 200 OK\r\n") {
        return None;
    }
    assert!(
        head.contains("\r\nContent-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    let values = body
        .lines()
        .filter(|line| !line.starts_with('#') && !line.contains('{'))
        .filter_map(|line| {
            let (name, value) = line.split_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect();
    Some(Scrape {
        values,
        body: body.to_owned(),
    })
}

/// Scrapes until `check` holds, or panics with the last scrape and the log after [`WAIT`].
async fn scrape_until(
    addr: SocketAddr,
    dir: &Path,
    what: &str,
    check: impl Fn(&Scrape) -> bool,
) -> Scrape {
    let deadline = Instant::now() + WAIT;
    let mut last = None;
    while Instant::now() < deadline {
        if let Some(scraped) = scrape(addr).await {
            if check(&scraped) {
                return scraped;
            }
            last = Some(scraped.body);
        }
        sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "timed out waiting for {what}; last scrape:\n{last:?}\nlog:\n{}",
        log(dir)
    );
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_follow_sampling_delivery_and_a_reconnect() {
    let mut hub = FakeHub::start(Mode::Store(HistoryPolicy {
        within_secs: Some(5),
        group_samples: 5,
        group_every: Duration::from_millis(100),
    }))
    .await;
    let dir = scratch_dir();
    let (_child, addr) = start(dir.path(), &hub).await;

    let first = scrape_until(addr, dir.path(), "stored acknowledgements", |s| {
        s.get("edge_agent_connected") == 1.0
            && s.get("edge_agent_samples_stored_acked_total") >= 5.0
    })
    .await;
    assert!(
        first.get("edge_agent_samples_taken_total") >= first.get("edge_agent_samples_stored_total")
    );
    assert!(
        first.get("edge_agent_samples_sent_total")
            >= first.get("edge_agent_samples_stored_acked_total")
    );
    assert_eq!(first.get("edge_agent_sample_interval_seconds"), 0.05);
    assert_eq!(first.get("edge_agent_store_healthy"), 1.0);
    assert_eq!(first.get("edge_agent_connections_total"), 1.0);
    let started = first.get("edge_agent_start_time_seconds");
    let last_sample = first.get("edge_agent_last_sample_timestamp_seconds");
    assert!(
        started <= last_sample && last_sample <= now_secs() + 1.0,
        "{}",
        first.body
    );
    assert!(now_secs() - last_sample < 30.0, "{}", first.body);
    assert!(
        first.body.contains(&format!("device_id=\"{DEVICE_ID}\"")),
        "{}",
        first.body
    );

    let moved = scrape_until(addr, dir.path(), "the counters to move", |s| {
        ["taken", "stored", "sent", "stored_acked"]
            .iter()
            .all(|counter| {
                let name = format!("edge_agent_samples_{counter}_total");
                s.get(&name) > first.get(&name)
            })
    })
    .await;

    hub.disappear();
    let away = scrape_until(addr, dir.path(), "a backlog while the hub is away", |s| {
        s.get("edge_agent_connected") == 0.0
            && s.get("edge_agent_backlog_samples") >= 20.0
            && s.get("edge_agent_connection_failures_total") >= 2.0
    })
    .await;
    assert!(
        away.get("edge_agent_connection_attempts_total") >= 3.0,
        "{}",
        away.body
    );
    hub.come_back().await;
    let back = scrape_until(
        addr,
        dir.path(),
        "the backlog drained after the reconnect",
        |s| {
            s.get("edge_agent_connected") == 1.0
                && s.get("edge_agent_connections_total") >= 2.0
                && s.get("edge_agent_backlog_samples") < 10.0
        },
    )
    .await;
    let confirmed = back.get("edge_agent_samples_stored_acked_total")
        - moved.get("edge_agent_samples_stored_acked_total");
    assert!(
        confirmed >= away.get("edge_agent_backlog_samples"),
        "{}",
        back.body
    );
    assert_eq!(back.get("edge_agent_samples_dropped_total"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_stop_neither_sampling_nor_the_endpoint_and_other_paths_are_refused() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let (_child, addr) = start(dir.path(), &hub).await;
    let before = scrape_until(addr, dir.path(), "a first sample", |s| {
        s.get("edge_agent_samples_taken_total") >= 1.0
    })
    .await;

    // Silent clients hold a slot each until the request timeout; garbage is answered and closed.
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(TcpStream::connect(addr).await.expect("connect"));
    }
    assert!(
        exchange(addr, b"\x16\x03\x01 not http\r\n\r\n")
            .await
            .starts_with("HTTP/1.1 400 ")
    );
    let endless = vec![b'A'; 64 * 1024];
    let answer = exchange(addr, &endless).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431 "),
        "{answer}"
    );
    assert!(
        scrape(addr).await.is_some(),
        "scraped beside silent clients"
    );

    // Far more clients than slots: the extra ones are closed at once, sampling and sending go on.
    for _ in 0..60 {
        if let Ok(stream) = TcpStream::connect(addr).await {
            silent.push(stream);
        }
    }
    assert!(
        scrape(addr).await.is_none(),
        "with every slot taken, a client is closed unanswered"
    );
    let sent = hub.record().accepted.len();
    sleep(Duration::from_secs(1)).await;
    assert!(
        hub.record().accepted.len() > sent + 5,
        "samples kept flowing"
    );
    drop(silent);
    let after = scrape_until(addr, dir.path(), "the endpoint back after the flood", |s| {
        s.get("edge_agent_samples_taken_total")
            > before.get("edge_agent_samples_taken_total") + 10.0
    })
    .await;
    assert_eq!(after.get("edge_agent_connected"), 1.0);

    for (request, status) in [
        (&b"GET / HTTP/1.1\r\n\r\n"[..], "404"),
        (b"GET /metrics/x HTTP/1.1\r\n\r\n", "404"),
        (
            b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            "405",
        ),
        (b"HEAD /metrics HTTP/1.1\r\n\r\n", "405"),
    ] {
        let answer = exchange(addr, request).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{:?}: {answer}",
            String::from_utf8_lossy(request)
        );
        assert!(!answer.contains("edge_agent_"), "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_port_in_use_stops_the_agent_at_start_with_exit_78() {
    let hub = FakeHub::start(Mode::Accept).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let dir = scratch_dir();
    std::fs::write(dir.path().join("empty.toml"), "").expect("write an empty config");
    let output = timeout(
        WAIT,
        agent(dir.path(), &hub.url(), &addr)
            .stderr(Stdio::piped())
            .output(),
    )
    .await
    .expect("the agent exits")
    .expect("run the agent");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(EXIT_CONFIG), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "invalid configuration: metrics.listen {addr}: cannot listen there"
        )),
        "{stderr}"
    );
    assert!(
        hub.record().handshakes.is_empty(),
        "it stopped before connecting"
    );
    assert!(!dir.path().join("samples").exists(), "nor opened the store");
}
