//! The hub keeps every sample, against the real Worker under `wrangler dev`: a device that asks is told which
//! seqs are stored, samples wait in a group and are written when it is due or when the device leaves, history
//! queries and CSV answer dashboard tokens with the socket's auth rules, and a workerd killed with `SIGKILL`
//! between receipt and write loses nothing and stores nothing twice once the device resends.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use hub_e2e::{AdminHttp, HttpResponse, HubServer, RunningAgent, WsClient, json_body};
use serde_json::{Value, json};
use tokio::task::block_in_place;

const WAIT: Duration = Duration::from_secs(10);
const MINUTE_MS: u64 = 60_000;

fn hub() -> &'static HubServer {
    static HUB: OnceLock<HubServer> = OnceLock::new();
    HUB.get_or_init(|| HubServer::start_lenient(&[]))
}

fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis() as u64
}

fn rfc3339(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .expect("a time")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn item(epoch: &str, seq: u64, t_ms: u64) -> Value {
    json!({"epoch": epoch, "seq": seq, "ts": rfc3339(t_ms),
           "data": {"battery": {"soc": seq, "voltage": 50.0 + seq as f64 / 10.0}, "mode": "eco"}})
}

fn telemetry(epoch: &str, seq: u64, t_ms: u64) -> Value {
    let mut message = item(epoch, seq, t_ms);
    message["type"] = json!("telemetry");
    message
}

fn batch(items: Vec<Value>) -> Value {
    json!({"type": "batch", "items": items})
}

/// Kills the running hub's workerd with `SIGKILL`: no handler runs, nothing more is written.
fn kill_workerd(hub: &HubServer) {
    let pgid = hub.process_group().expect("the hub runs");
    let killed = Command::new("pkill")
        .args(["-KILL", "-g", &pgid.to_string(), "workerd"])
        .status()
        .expect("pkill runs");
    assert!(killed.success(), "workerd was running");
}

/// Connects as the device, asking for `stored` messages.
async fn connect_device(hub: &HubServer, id: &str, token: &str) -> WsClient {
    let auth = format!("Bearer {token}");
    WsClient::connect(
        &hub.ws_url(&format!("/ws/device/{id}")),
        &[("Authorization", &auth), ("Telemetry-Ack", "stored")],
    )
    .await
    .unwrap_or_else(|e| panic!("connect {id}: {e}"))
}

/// The next message of `kind`, skipping others.
async fn next_of(client: &mut WsClient, kind: &str) -> Value {
    client.recv_until(|m| m["type"] == kind, WAIT).await
}

async fn history(hub: &HubServer, id: &str, query: &str, token: &str) -> HttpResponse {
    let auth = format!("Bearer {token}");
    hub.http_get(
        &format!("/api/devices/{id}/history{query}"),
        &[("Authorization", &auth)],
    )
    .await
}

/// The seqs of a CSV export, with how often each appears.
fn csv_seqs(response: &HttpResponse) -> BTreeMap<u64, usize> {
    assert_eq!(response.status, 200, "{response:?}");
    let mut lines = response.body.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("ts,received_at,epoch,seq"))
    );
    let mut seqs = BTreeMap::new();
    for line in lines {
        let seq = line
            .split(',')
            .nth(3)
            .and_then(|s| s.parse().ok())
            .expect("a seq");
        *seqs.entry(seq).or_insert(0) += 1;
    }
    seqs
}

fn each_once(range: std::ops::RangeInclusive<u64>) -> BTreeMap<u64, usize> {
    range.map(|seq| (seq, 1)).collect()
}

#[tokio::test]
async fn a_backlog_is_stored_told_and_answered_to_dashboards_only() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let id = "hist-backlog";
    let token = admin.create_device(id).await;
    let (_, reader) = admin.create_dashboard(json!([id]), "read").await;
    let (_, stranger) = admin
        .create_dashboard(json!(["someone-else"]), "read")
        .await;
    let mut device = connect_device(hub, id, &token).await;
    assert_eq!(
        device.handshake_header("Telemetry-Ack"),
        Some("stored; within=600")
    );

    // Sixty samples from the last hour, every 10 s, with a 15-minute hole after the thirtieth.
    let base = now_ms() - 60 * MINUTE_MS;
    let t = |seq: u64| base + (seq - 1) * 10_000 + if seq > 30 { 15 * MINUTE_MS } else { 0 };
    device
        .send_json(&batch((1..=60).map(|s| item("e1", s, t(s))).collect()))
        .await;
    assert_eq!(next_of(&mut device, "ack").await["seq"], 60);
    // A first frame is written at once (the object cannot know whether another comes before it may sleep).
    let stored = next_of(&mut device, "stored").await;
    assert_eq!(
        stored,
        json!({"type":"stored","epoch":"e1","from":1,"to":60})
    );

    let from = format!("?from={}", base - MINUTE_MS);
    let raw = json_body(&history(hub, id, &from, &reader).await);
    assert_eq!(raw["bucket_ms"], 0);
    assert_eq!(raw["fields"], json!(["battery.soc", "battery.voltage"]));
    let samples = raw["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 60);
    assert_eq!(
        samples[0]["t"], base,
        "placed at its own ts, not at arrival"
    );
    assert_eq!(samples[59]["v"], json!([60.0, 56.0]));

    let bucketed = json_body(
        &history(
            hub,
            id,
            &format!("{from}&points=10&fields=battery.soc"),
            &reader,
        )
        .await,
    );
    assert!(bucketed["bucket_ms"].as_u64().is_some_and(|b| b > 0));
    assert_eq!(bucketed["fields"], json!(["battery.soc"]));
    let buckets = bucketed["buckets"].as_array().expect("buckets");
    let counted: u64 = buckets.iter().filter_map(|b| b["n"].as_u64()).sum();
    assert_eq!(counted, 60);
    assert!(
        buckets.len() < 10,
        "the hole leaves buckets out: {buckets:?}"
    );
    assert_eq!(buckets[0]["min"], json!([1.0]));

    let csv = history(hub, id, &format!(".csv{from}"), &reader).await;
    assert!(
        csv.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv"))
    );
    assert_eq!(csv_seqs(&csv), each_once(1..=60));
    assert!(
        csv.body
            .lines()
            .next()
            .is_some_and(|h| h.ends_with(",battery.soc,battery.voltage,mode"))
    );

    // A resend of stored samples is acked and told stored again at once.
    device
        .send_json(&batch((55..=60).map(|s| item("e1", s, t(s))).collect()))
        .await;
    assert_eq!(next_of(&mut device, "ack").await["seq"], 60);
    assert_eq!(
        next_of(&mut device, "stored").await,
        json!({"type":"stored","epoch":"e1","from":55,"to":60})
    );

    // The socket's rules: 401 without a bearer, one 403 for every refusal, 400 and 405 and 404 as documented.
    let path = format!("/api/devices/{id}/history");
    assert_eq!(hub.http_get(&path, &[]).await.status, 401);
    let refused = history(hub, id, "", &stranger).await;
    assert_eq!(
        (refused.status, json_body(&refused)["error"].clone()),
        (403, json!("forbidden"))
    );
    assert_eq!(
        history(hub, "no-such-device", "", &reader).await.status,
        403
    );
    assert_eq!(history(hub, id, "", "tdash_not-a-token").await.status, 403);
    assert_eq!(
        history(hub, id, "", &token).await.status,
        403,
        "a device token"
    );
    assert_eq!(history(hub, id, "?points=0", &reader).await.status, 400);
    assert_eq!(history(hub, id, "?token=x", &reader).await.status, 400);
    let post = hub
        .http_request(
            "POST",
            &path,
            &[("Authorization", &format!("Bearer {reader}"))],
            b"",
        )
        .await;
    assert_eq!((post.status, post.header("allow")), (405, Some("GET")));
    assert_eq!(
        hub.http_get(&format!("/api/devices/{id}/other"), &[])
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn samples_wait_in_a_group_that_a_disconnect_writes() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let id = "hist-group";
    let token = admin.create_device(id).await;
    let (_, reader) = admin.create_dashboard(json!([id]), "read").await;
    let mut device = connect_device(hub, id, &token).await;
    let now = now_ms();
    device
        .send_json(
            &json!({"type":"telemetry","epoch":"g","seq":1,"ts":rfc3339(now),"data":{"v":1}}),
        )
        .await;
    assert_eq!(next_of(&mut device, "stored").await["to"], 1);
    for seq in 2..=10 {
        device
            .send_json(&json!({"type":"telemetry","epoch":"g","seq":seq,"ts":rfc3339(now + seq),"data":{"v":seq}}))
            .await;
        let ack = device.recv_json(WAIT).await;
        assert_eq!(
            (ack["type"].clone(), ack["seq"].clone()),
            (json!("ack"), json!(seq)),
            "only acks while the group waits"
        );
    }
    // Pending samples are in the answer already.
    let since = format!("?from={}", now - MINUTE_MS);
    let answer = json_body(&history(hub, id, &since, &reader).await);
    assert_eq!(answer["samples"].as_array().map(Vec::len), Some(10));
    let before = json_body(
        &admin
            .call("GET", &format!("/admin/devices/{id}"), None)
            .await,
    );
    assert_eq!(before["storage"]["groups_written"], 1, "{before}");
    let rows_before = before["storage"]["rows_written"].as_u64().expect("rows");

    device.close(1000, "bye").await;
    let written = async {
        loop {
            let status = json_body(
                &admin
                    .call("GET", &format!("/admin/devices/{id}"), None)
                    .await,
            );
            if status["storage"]["groups_written"] == 2 {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let status = tokio::time::timeout(WAIT, written)
        .await
        .expect("the disconnect wrote the group");
    assert_eq!(status["storage"]["samples_written"], 10);
    // Nine samples cost one history row and the head row: no index, no row per sample.
    let rows = status["storage"]["rows_written"].as_u64().expect("rows") - rows_before;
    assert_eq!(rows, 2, "rows written for the second group: {status}");

    let mut again = connect_device(hub, id, &token).await;
    again
        .send_json(
            &json!({"type":"telemetry","epoch":"g","seq":7,"ts":rfc3339(now + 7),"data":{"v":7}}),
        )
        .await;
    assert_eq!(
        next_of(&mut again, "stored").await,
        json!({"type":"stored","epoch":"g","from":7,"to":7})
    );
}

#[tokio::test]
async fn a_client_that_does_not_ask_gets_acks_only() {
    let hub = hub();
    let admin = AdminHttp::new(hub);
    let id = "hist-plain";
    let token = admin.create_device(id).await;
    let mut device =
        WsClient::connect_bearer(&hub.ws_url(&format!("/ws/device/{id}")), &token).await;
    assert_eq!(device.handshake_header("Telemetry-Ack"), None);
    device.send_json(&json!({"soc": 85})).await;
    assert_eq!(device.recv_json(WAIT).await["type"], "ack");
    device.expect_silence(Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workerd_killed_between_receipt_and_write_loses_nothing_and_stores_nothing_twice() {
    let mut hub = block_in_place(|| HubServer::start_lenient(&[]));
    let admin = AdminHttp::new(&hub);
    let id = "hist-kill";
    let token = admin.create_device(id).await;
    let (_, reader) = admin.create_dashboard(json!([id]), "read").await;

    let now = now_ms();
    let at = |seq: u64| now - MINUTE_MS + seq * 1_000;
    let sample = |seq: u64| item("k", seq, at(seq));
    let mut device = connect_device(&hub, id, &token).await;
    device.send_json(&telemetry("k", 1, at(1))).await;
    assert_eq!(next_of(&mut device, "stored").await["to"], 1);
    for seq in 2..=20 {
        device.send_json(&telemetry("k", seq, at(seq))).await;
    }
    assert_eq!(
        device
            .recv_until(|m| m["type"] == "ack" && m["seq"] == 20, WAIT)
            .await["seq"],
        20
    );
    let since = format!(".csv?from={}", now - 2 * MINUTE_MS);
    assert_eq!(
        csv_seqs(&history(&hub, id, &since, &reader).await),
        each_once(1..=20)
    );

    // Received and acked, not yet written: workerd dies without a chance to write.
    kill_workerd(&hub);
    drop(device);
    block_in_place(|| hub.restart());
    assert_eq!(
        csv_seqs(&history(&hub, id, &since, &reader).await),
        each_once(1..=1)
    );

    // The device resends what was never stored, and goes on.
    let mut device = connect_device(&hub, id, &token).await;
    device
        .send_json(&batch((2..=25).map(sample).collect()))
        .await;
    assert_eq!(next_of(&mut device, "ack").await["seq"], 25);
    assert_eq!(
        next_of(&mut device, "stored").await,
        json!({"type":"stored","epoch":"k","from":2,"to":25})
    );
    // Resending once more changes nothing.
    device
        .send_json(&batch((1..=25).map(sample).collect()))
        .await;
    assert_eq!(next_of(&mut device, "stored").await["to"], 25);
    block_in_place(|| hub.restart());
    assert_eq!(
        csv_seqs(&history(&hub, id, &since, &reader).await),
        each_once(1..=25)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_agent_resends_what_a_killed_workerd_never_wrote() {
    let mut hub = block_in_place(|| HubServer::start_lenient(&[]));
    let admin = AdminHttp::new(&hub);
    let id = "hist-agent";
    let token = admin.create_device(id).await;
    let (_, reader) = admin.create_dashboard(json!([id]), "read").await;
    let agent = RunningAgent::simulated(&hub.ws_url(""), id, &token, "0.2");
    let csv = format!(".csv?from={}", now_ms() - MINUTE_MS);
    let stored_seqs = |response: HttpResponse| csv_seqs(&response);
    // Wait until the hub holds a few seconds of samples, most of them not yet written.
    let mut held = BTreeMap::new();
    for _ in 0..100 {
        held = stored_seqs(history(&hub, id, &csv, &reader).await);
        if held.len() >= 15 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(held.len() >= 15, "the agent streams: {held:?}");
    // Only the first frame was written (at once; it holds more than one sample when the agent sampled again
    // before its handshake finished); the rest waits in the object's memory.
    let admin = AdminHttp::new(&hub);
    let status = json_body(
        &admin
            .call("GET", &format!("/admin/devices/{id}"), None)
            .await,
    );
    let written = status["storage"]["samples_written"].as_u64().unwrap_or(0);
    assert!(
        (1..=3).contains(&written) && written + 10 <= held.len() as u64,
        "only the first frame is written before the kill: {status}"
    );
    kill_workerd(&hub);
    block_in_place(|| hub.restart());

    // The agent reconnects and resends every sample the hub never told it was stored.
    let newest_before = *held.keys().last().expect("held");
    let mut after = BTreeMap::new();
    for _ in 0..150 {
        after = stored_seqs(history(&hub, id, &csv, &reader).await);
        if after
            .keys()
            .last()
            .is_some_and(|last| *last > newest_before + 10)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    agent.stop().await;
    let newest = *after.keys().last().expect("samples after the restart");
    assert!(
        newest > newest_before + 10,
        "the agent came back: {after:?}"
    );
    assert_eq!(after, each_once(1..=newest), "every seq once, none lost");
}
