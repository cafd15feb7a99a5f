//! Revoking a `*` dashboard token in a fleet of 1,000 devices, against the real Worker under `wrangler dev`:
//! the order reaches every device object through the fan-out tree (no invocation makes more than 16
//! subrequests), and the token's live sockets are closed within a second.

use std::time::{Duration, Instant};

use hub_e2e::{AdminHttp, HubServer, WsClient, json_body};
use serde_json::json;

const FLEET: usize = 1_000;
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn revoking_a_star_token_reaches_a_fleet_of_1000_within_a_second() {
    let hub = HubServer::start();
    let fleet_size = std::env::var("HUB_E2E_FLEET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FLEET);
    let last = format!("fleet-{:04}", fleet_size - 1);
    let middle = format!("fleet-{:04}", fleet_size / 2 + 17);
    // The devices only need to exist in D1 (their tokens play no part): one INSERT for the whole fleet.
    let rows: Vec<String> = (0..fleet_size)
        .map(|n| format!("('fleet-{n:04}', '{}')", "0".repeat(64)))
        .collect();
    let insert = format!(
        "INSERT INTO devices (id, token_sha256) VALUES {};",
        rows.join(",")
    );
    {
        let _one = hub_e2e::Provisioner::lock();
        hub.provisioner()
            .hubctl()
            .execute_sql(&insert)
            .unwrap_or_else(|e| panic!("insert the fleet: {e}"));
    }
    let admin = AdminHttp::new(&hub);
    let (token_id, token) = admin.create_dashboard(json!("*"), "read").await;
    let watched = ["fleet-0000", middle.as_str(), last.as_str()];
    let mut sockets = Vec::new();
    for id in watched {
        let mut ws =
            WsClient::connect_bearer(&hub.ws_url(&format!("/ws/dashboard/{id}")), &token).await;
        assert_eq!(ws.recv_json(WAIT).await["type"], "snapshot");
        sockets.push(ws);
    }
    let started = Instant::now();
    let port = hub.port();
    let auth = format!("Bearer {}", hub.admin_token());
    let path = format!("/admin/dashboard-tokens/{token_id}/revoke");
    let request = tokio::spawn(async move {
        let headers = [("Authorization", auth.as_str())];
        let wait = Duration::from_secs(120);
        let response =
            hub_e2e::http::request_within(wait, None, port, "POST", &path, &headers, b"").await;
        (response, started.elapsed())
    });
    let mut closed_after = Vec::new();
    for ws in &mut sockets {
        assert_eq!(
            ws.expect_close(WAIT * 3).await,
            (4001, "revoked".to_owned())
        );
        closed_after.push(started.elapsed());
    }
    let (revoked, answered) = request.await.expect("the revoke request");
    assert_eq!(revoked.status, 200, "{revoked:?}");
    let body = json_body(&revoked);
    assert_eq!(body["pending_devices"], 0, "every object reached: {body}");
    assert_eq!(body["closed_sockets"], watched.len());
    eprintln!(
        "fleet revocation: {fleet_size} objects, sockets closed after {closed_after:?}, answered after {answered:?}"
    );
    let last_close = closed_after.iter().max().copied().unwrap_or_default();
    assert!(
        last_close < Duration::from_secs(1),
        "closed after {closed_after:?}"
    );
    let logs = hub.logs();
    assert!(
        !logs.contains("Too many subrequests"),
        "no invocation hit the limit"
    );
}
