//! Commands from a dashboard, relayed by a fake hub on port 0: the allowlist, the results, the effects.

use std::time::Duration;

use edge_agent::testing::{
    FakeHub, Mode, RunningAgent, config, device_token, scratch_dir, store_in,
};
use serde_json::{Value, json};
use tokio::time::sleep;

const WAIT: Duration = Duration::from_secs(10);

fn result_for(hub: &FakeHub, id: &str) -> Option<Value> {
    hub.record()
        .frames
        .iter()
        .find(|f| f["type"] == "command_result" && f["id"] == id)
        .cloned()
}

async fn run_command(hub: &FakeHub, id: &str, name: &str, args: Value) -> Value {
    assert!(hub.send_command(id, name, args), "no agent connected");
    hub.wait_for(WAIT, id, |r| r.frames.iter().any(|f| f["id"] == id))
        .await;
    result_for(hub, id).expect("result")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_commands_act_and_everything_else_is_refused() {
    let hub = FakeHub::start(Mode::Accept).await;
    let dir = scratch_dir();
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store_in(&dir), &[]));
    hub.wait_for(WAIT, "the agent", |r| r.accepted.len() >= 2)
        .await;

    let pong = run_command(&hub, "c-1", "ping", json!({})).await;
    assert_eq!(
        pong,
        json!({"type": "command_result", "id": "c-1", "ok": true, "detail": "pong"})
    );

    let gpio = run_command(
        &hub,
        "c-2",
        "gpio_write",
        json!({"pin": 17, "level": "high"}),
    )
    .await;
    assert_eq!(
        (gpio["ok"].clone(), gpio["detail"].clone()),
        (json!(true), json!("pin 17 set high"))
    );
    assert_eq!(agent.pins.writes(), [(17, true)]);

    for (id, name, args, why) in [
        (
            "c-3",
            "gpio_write",
            json!({"pin": 4, "level": 1}),
            "not a configured output",
        ),
        ("c-4", "exec", json!({"cmd": "rm -rf /"}), "unknown command"),
        (
            "c-5",
            "set_interval",
            json!({"seconds": 0}),
            "between 1 and 3600",
        ),
        (
            "c-6",
            "set_interval",
            json!({"seconds": "5"}),
            "whole number",
        ),
    ] {
        let refused = run_command(&hub, id, name, args).await;
        assert_eq!(refused["ok"], json!(false), "{refused}");
        assert!(
            refused["detail"].as_str().is_some_and(|d| d.contains(why)),
            "{refused}"
        );
    }
    assert_eq!(
        agent.pins.writes(),
        [(17, true)],
        "refused commands changed nothing"
    );

    let slower = run_command(&hub, "c-7", "set_interval", json!({"seconds": 1})).await;
    assert_eq!(slower["detail"], json!("interval set to 1 s"));
    sleep(Duration::from_millis(300)).await;
    let before = hub.record().accepted.len();
    sleep(Duration::from_millis(1500)).await;
    let during = hub.record().accepted.len() - before;
    assert!(
        (1..=2).contains(&during),
        "{during} samples in 1.5 s at a 1 s interval"
    );
    agent.stop().await;
}
