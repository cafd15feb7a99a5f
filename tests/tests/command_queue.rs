//! Queued commands (extension) against the real Worker under `wrangler dev`: commands with a `ttl_s` wait in the
//! device's Durable Object for it to connect, expire, can be cancelled, survive a restart of the hub, and cost a
//! few rows written each. Commands without `ttl_s` behave as they always did.

use std::sync::OnceLock;
use std::time::Duration;

use hub_e2e::{AdminHttp, HubServer, WsClient, json_body};
use serde_json::{Value, json};
use tokio::task::block_in_place;

const WAIT: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(700);
const QUEUE_LIMIT: &str = "3";

/// The hub's vars: a small queue, and flood limits out of the way of the cost measurement.
const VARS: &[(&str, &str)] = &[
    ("COMMAND_QUEUE_LIMIT", QUEUE_LIMIT),
    ("DASHBOARD_FRAMES_PER_SEC", "100"),
    ("COMMANDS_PER_MINUTE", "1000"),
];

fn hub() -> &'static HubServer {
    static HUB: OnceLock<HubServer> = OnceLock::new();
    HUB.get_or_init(|| HubServer::start_lenient(VARS))
}

/// Device `id` with its token, and a control and a read-only dashboard token for it.
struct Setup {
    device: String,
    control: String,
    read: String,
}

async fn setup(hub: &HubServer, id: &str) -> Setup {
    let admin = AdminHttp::new(hub);
    let device = admin.create_device(id).await;
    let (_, control) = admin.create_dashboard(json!([id]), "control").await;
    let (_, read) = admin.create_dashboard(json!([id]), "read").await;
    Setup {
        device,
        control,
        read,
    }
}

async fn dashboard(hub: &HubServer, id: &str, token: &str) -> (WsClient, Value) {
    let mut ws = WsClient::connect_bearer(&hub.ws_url(&format!("/ws/dashboard/{id}")), token).await;
    let snapshot = ws.recv_json(WAIT).await;
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    (ws, snapshot)
}

async fn device(hub: &HubServer, id: &str, token: &str) -> WsClient {
    WsClient::connect_bearer(&hub.ws_url(&format!("/ws/device/{id}")), token).await
}

fn queued(id: &str, ttl_s: u32) -> Value {
    json!({"type":"command","id":id,"name":"relay","args":{"on":true},"ttl_s":ttl_s})
}

/// Waits for the `command_status` of `id` in `state`.
async fn status(ws: &mut WsClient, id: &str, state: &str) -> Value {
    ws.recv_until(
        |m| m["type"] == "command_status" && m["id"] == id && m["state"] == state,
        WAIT,
    )
    .await
}

/// Waits for the `command_result` of `id`.
async fn result(ws: &mut WsClient, id: &str) -> Value {
    ws.recv_until(|m| m["type"] == "command_result" && m["id"] == id, WAIT)
        .await
}

/// The next message of the device, which must be the command `id` as devices have always seen it.
async fn expect_command(device: &mut WsClient, id: &str) {
    let command = device.recv_json(WAIT).await;
    assert_eq!(command["type"], "command", "{command}");
    assert_eq!(command["id"], id, "{command}");
    assert_eq!(command["args"], json!({"on": true}), "{command}");
    assert!(
        command.get("ttl_s").is_none(),
        "the device sees no ttl_s: {command}"
    );
}

async fn answer(device: &mut WsClient, id: &str) {
    device
        .send_json(&json!({"type":"command_result","id":id,"ok":true,"detail":"relay on"}))
        .await;
}

/// The snapshot's `commands` as (id, state) pairs; none when the field is omitted.
fn listed(snapshot: &Value) -> Vec<(String, String)> {
    let Some(commands) = snapshot.get("commands") else {
        return Vec::new();
    };
    let commands = commands.as_array().expect("an array");
    assert!(!commands.is_empty(), "an empty list is omitted: {snapshot}");
    commands
        .iter()
        .map(|c| {
            assert_eq!(c["device_id"], snapshot["device_id"], "{c}");
            assert!(c["queued_at"].as_str().is_some_and(|t| t.ends_with('Z')));
            assert!(c["expires_at"].as_str().is_some_and(|t| t.ends_with('Z')));
            (
                c["id"].as_str().unwrap_or_default().to_owned(),
                c["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(id, state)| ((*id).to_owned(), (*state).to_owned()))
        .collect()
}

#[tokio::test]
async fn commands_wait_for_an_offline_device_and_are_delivered_in_order() {
    let hub = hub();
    let s = setup(hub, "q-order").await;
    let (mut sender, snapshot) = dashboard(hub, "q-order", &s.control).await;
    assert!(snapshot.get("commands").is_none(), "{snapshot}");
    let (mut watcher, _) = dashboard(hub, "q-order", &s.read).await;
    for id in ["o1", "o2", "o3"] {
        sender.send_json(&queued(id, 600)).await;
        let state = status(&mut sender, id, "queued").await;
        assert_eq!(state["device_id"], "q-order");
        assert_eq!(state["name"], "relay");
        status(&mut watcher, id, "queued").await;
    }
    let (_, snapshot) = dashboard(hub, "q-order", &s.read).await;
    assert_eq!(
        listed(&snapshot),
        pairs(&[("o1", "queued"), ("o2", "queued"), ("o3", "queued")])
    );

    let mut pi = device(hub, "q-order", &s.device).await;
    for id in ["o1", "o2", "o3"] {
        expect_command(&mut pi, id).await;
        status(&mut watcher, id, "sent").await;
    }
    answer(&mut pi, "o2").await;
    status(&mut watcher, "o2", "done").await;
    let relayed = result(&mut watcher, "o2").await;
    assert_eq!(
        relayed,
        json!({"type":"command_result","id":"o2","ok":true,"detail":"relay on","device_id":"q-order"})
    );
    answer(&mut pi, "o1").await;
    status(&mut sender, "o1", "done").await;
    assert_eq!(result(&mut sender, "o1").await["ok"], true);

    let (_, snapshot) = dashboard(hub, "q-order", &s.read).await;
    assert_eq!(
        listed(&snapshot),
        pairs(&[("o3", "sent"), ("o2", "done"), ("o1", "done")])
    );
}

#[tokio::test]
async fn a_command_past_its_ttl_expires_and_is_never_delivered() {
    let hub = hub();
    let s = setup(hub, "q-expire").await;
    let (mut sender, _) = dashboard(hub, "q-expire", &s.control).await;
    let (mut watcher, _) = dashboard(hub, "q-expire", &s.read).await;
    sender.send_json(&queued("e1", 2)).await;
    status(&mut sender, "e1", "queued").await;
    // The alarm expires it while nothing else happens on the device.
    status(&mut watcher, "e1", "expired").await;
    let expired = result(&mut watcher, "e1").await;
    assert_eq!(
        expired,
        json!({"type":"command_result","id":"e1","ok":false,"detail":"expired","device_id":"q-expire"})
    );
    assert_eq!(result(&mut sender, "e1").await["detail"], "expired");

    let mut pi = device(hub, "q-expire", &s.device).await;
    pi.expect_silence(QUIET).await;
    let (_, snapshot) = dashboard(hub, "q-expire", &s.read).await;
    assert_eq!(listed(&snapshot), pairs(&[("e1", "expired")]));
}

#[tokio::test]
async fn a_full_queue_and_a_duplicate_id_are_refused_to_the_sender_alone() {
    let hub = hub();
    let s = setup(hub, "q-full").await;
    let (mut sender, _) = dashboard(hub, "q-full", &s.control).await;
    let (mut watcher, _) = dashboard(hub, "q-full", &s.read).await;
    for id in ["f1", "f2", "f3"] {
        sender.send_json(&queued(id, 600)).await;
        status(&mut sender, id, "queued").await;
        status(&mut watcher, id, "queued").await;
    }
    sender.send_json(&queued("f2", 600)).await;
    let duplicate = sender.recv_json(WAIT).await;
    assert_eq!(
        duplicate,
        json!({"type":"command_result","id":"f2","ok":false,"detail":"duplicate id","device_id":"q-full"})
    );
    sender.send_json(&queued("f4", 600)).await;
    let full = sender.recv_json(WAIT).await;
    assert_eq!(
        full,
        json!({"type":"command_result","id":"f4","ok":false,"detail":"queue full","device_id":"q-full"})
    );
    watcher.expect_silence(QUIET).await;
    let (_, snapshot) = dashboard(hub, "q-full", &s.read).await;
    assert_eq!(
        listed(&snapshot),
        pairs(&[("f1", "queued"), ("f2", "queued"), ("f3", "queued")]),
        "a refusal stores nothing"
    );

    // Delivered commands still count until answered; an answer frees a place.
    let mut pi = device(hub, "q-full", &s.device).await;
    for id in ["f1", "f2", "f3"] {
        expect_command(&mut pi, id).await;
    }
    sender.send_json(&queued("f4", 600)).await;
    assert_eq!(result(&mut sender, "f4").await["detail"], "queue full");
    answer(&mut pi, "f1").await;
    status(&mut sender, "f1", "done").await;
    sender.send_json(&queued("f4", 600)).await;
    status(&mut sender, "f4", "sent").await;
    expect_command(&mut pi, "f4").await;
}

#[tokio::test]
async fn a_queued_command_can_be_cancelled_but_not_a_sent_one() {
    let hub = hub();
    let s = setup(hub, "q-cancel").await;
    let (mut sender, _) = dashboard(hub, "q-cancel", &s.control).await;
    let (mut reader, _) = dashboard(hub, "q-cancel", &s.read).await;
    sender.send_json(&queued("k1", 600)).await;
    status(&mut sender, "k1", "queued").await;
    status(&mut reader, "k1", "queued").await;

    reader
        .send_json(&json!({"type":"cancel_command","id":"k1"}))
        .await;
    let refused = reader.recv_json(WAIT).await;
    assert_eq!(refused["code"], "read_only", "{refused}");
    reader.send_json(&queued("k9", 600)).await;
    assert_eq!(reader.recv_json(WAIT).await["code"], "read_only");

    sender
        .send_json(&json!({"type":"cancel_command","id":"k1"}))
        .await;
    for ws in [&mut sender, &mut reader] {
        status(ws, "k1", "cancelled").await;
        let cancelled = result(ws, "k1").await;
        assert_eq!(
            (cancelled["ok"].clone(), cancelled["detail"].clone()),
            (json!(false), json!("cancelled"))
        );
    }
    sender
        .send_json(&json!({"type":"cancel_command","id":"k1"}))
        .await;
    assert_eq!(sender.recv_json(WAIT).await["code"], "not_queued");

    let mut pi = device(hub, "q-cancel", &s.device).await;
    pi.expect_silence(QUIET).await;
    sender.send_json(&queued("k2", 600)).await;
    status(&mut sender, "k2", "sent").await;
    expect_command(&mut pi, "k2").await;
    sender
        .send_json(&json!({"type":"cancel_command","id":"k2"}))
        .await;
    let not_queued = sender.recv_json(WAIT).await;
    assert_eq!(not_queued["type"], "error", "{not_queued}");
    assert_eq!(not_queued["code"], "not_queued", "{not_queued}");
    answer(&mut pi, "k2").await;
    status(&mut reader, "k2", "done").await;
}

#[tokio::test]
async fn a_command_without_ttl_to_an_offline_device_still_fails_at_once() {
    let hub = hub();
    let s = setup(hub, "q-plain").await;
    let (mut sender, _) = dashboard(hub, "q-plain", &s.control).await;
    let (mut watcher, _) = dashboard(hub, "q-plain", &s.read).await;
    sender
        .send_json(&json!({"type":"command","id":"p1","name":"relay","args":{"on":true}}))
        .await;
    assert_eq!(
        sender.recv_json(WAIT).await,
        json!({"type":"command_result","id":"p1","ok":false,"detail":"device offline","device_id":"q-plain"})
    );
    watcher.expect_silence(QUIET).await;
    let mut pi = device(hub, "q-plain", &s.device).await;
    pi.expect_silence(QUIET).await;
    let (_, snapshot) = dashboard(hub, "q-plain", &s.read).await;
    assert!(snapshot.get("commands").is_none(), "{snapshot}");
}

#[tokio::test]
async fn an_unanswered_command_is_sent_again_on_the_next_connection() {
    let hub = hub();
    let s = setup(hub, "q-again").await;
    let (mut watcher, _) = dashboard(hub, "q-again", &s.control).await;
    let mut pi = device(hub, "q-again", &s.device).await;
    watcher
        .recv_until(|m| m["type"] == "presence" && m["online"] == true, WAIT)
        .await;
    watcher.send_json(&queued("a1", 600)).await;
    status(&mut watcher, "a1", "sent").await;
    expect_command(&mut pi, "a1").await;

    pi.close(1000, "bye").await;
    status(&mut watcher, "a1", "queued").await;
    let mut again = device(hub, "q-again", &s.device).await;
    expect_command(&mut again, "a1").await;
    status(&mut watcher, "a1", "sent").await;
    answer(&mut again, "a1").await;
    status(&mut watcher, "a1", "done").await;
}

#[tokio::test]
async fn a_bad_ttl_is_refused_and_nothing_is_queued() {
    let hub = hub();
    let s = setup(hub, "q-bad").await;
    let (mut sender, _) = dashboard(hub, "q-bad", &s.control).await;
    for ttl in [
        json!(0),
        json!(-5),
        json!(1.5),
        json!(604_801),
        json!("60"),
        Value::Null,
    ] {
        sender
            .send_json(&json!({"type":"command","id":"b1","name":"relay","ttl_s":ttl}))
            .await;
        let refused = sender.recv_json(WAIT).await;
        assert_eq!(refused["code"], "invalid_message", "{ttl}: {refused}");
    }
    let (_, snapshot) = dashboard(hub, "q-bad", &s.read).await;
    assert!(snapshot.get("commands").is_none(), "{snapshot}");
}

/// A figure of the admin API's storage meter of the device (`rows_written`, `alarms_set`).
async fn meter(hub: &HubServer, id: &str, figure: &str) -> u64 {
    let status = json_body(
        &AdminHttp::new(hub)
            .call("GET", &format!("/admin/devices/{id}"), None)
            .await,
    );
    status["storage"][figure]
        .as_u64()
        .unwrap_or_else(|| panic!("no storage meter: {status}"))
}

async fn rows_written(hub: &HubServer, id: &str) -> u64 {
    meter(hub, id, "rows_written").await
}

#[tokio::test]
async fn a_queued_command_costs_a_few_rows_written() {
    let hub = hub();
    let id = "q-cost";
    let s = setup(hub, id).await;
    // The first connections write the credential copy and the grant; count from after them.
    let mut pi = device(hub, id, &s.device).await;
    let (mut sender, _) = dashboard(hub, id, &s.control).await;
    pi.close(1000, "bye").await;
    sender
        .recv_until(|m| m["type"] == "presence" && m["online"] == false, WAIT)
        .await;
    let before = rows_written(hub, id).await;
    let alarms_before = meter(hub, id, "alarms_set").await;

    // Offline: queued, sent on connect, done.
    for n in 0..3 {
        sender.send_json(&queued(&format!("w{n}"), 600)).await;
        status(&mut sender, &format!("w{n}"), "queued").await;
    }
    let mut pi = device(hub, id, &s.device).await;
    for n in 0..3 {
        expect_command(&mut pi, &format!("w{n}")).await;
        answer(&mut pi, &format!("w{n}")).await;
        status(&mut sender, &format!("w{n}"), "done").await;
    }
    let offline = rows_written(hub, id).await - before;
    eprintln!("queued for an offline device: {offline} rows written for 3 commands");
    assert_eq!(offline, 9, "insert, sent, done per command");
    let alarms = meter(hub, id, "alarms_set").await - alarms_before;
    eprintln!("alarms set meanwhile (presence included): {alarms}");
    assert!(
        alarms <= 2,
        "one alarm for the queue's expiry at most: {alarms}"
    );

    // Online: sent at once and done; past 20 finished, the oldest rows are deleted.
    let online_before = rows_written(hub, id).await;
    for n in 3..25 {
        let command = format!("w{n}");
        sender.send_json(&queued(&command, 600)).await;
        expect_command(&mut pi, &command).await;
        answer(&mut pi, &command).await;
        status(&mut sender, &command, "done").await;
    }
    let online = rows_written(hub, id).await - online_before;
    eprintln!("sent at once: {online} rows written for 22 commands, 5 of the oldest deleted");
    assert_eq!(online, 22 * 2 + 5, "insert as sent, done, and the deletes");
    let (_, snapshot) = dashboard(hub, id, &s.read).await;
    assert_eq!(listed(&snapshot).len(), 20, "the last 20 finished are kept");
    assert_eq!(listed(&snapshot)[0].0, "w5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_commands_survive_a_hub_restart() {
    let mut hub = block_in_place(|| HubServer::start_with_vars(VARS));
    let s = setup(&hub, "q-restart").await;
    let (mut sender, _) = dashboard(&hub, "q-restart", &s.control).await;
    for id in ["r1", "r2"] {
        sender.send_json(&queued(id, 3600)).await;
        status(&mut sender, id, "queued").await;
    }
    drop(sender);
    block_in_place(|| hub.restart());

    let (mut watcher, snapshot) = dashboard(&hub, "q-restart", &s.read).await;
    assert_eq!(
        listed(&snapshot),
        pairs(&[("r1", "queued"), ("r2", "queued")])
    );
    let mut pi = device(&hub, "q-restart", &s.device).await;
    expect_command(&mut pi, "r1").await;
    expect_command(&mut pi, "r2").await;
    answer(&mut pi, "r1").await;
    status(&mut watcher, "r1", "done").await;
    assert_eq!(result(&mut watcher, "r1").await["ok"], true);
}
