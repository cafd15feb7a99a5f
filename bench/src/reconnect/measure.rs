//! From the agents' recorded status lines to the figures of one restart, in ms after the hub's return: per
//! device its first `connected` after the hub went away and the start of the attempt that got it, and every
//! attempt made from the drop on.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use super::agent_events::{AgentEvent, Kind};
use super::hub_return::Outage;
use super::report::Reconnects;

/// The reconnects of `devices` after `outage`, from `events` (any order, any devices).
pub fn reconnects(
    schedule: &str,
    devices: &[String],
    outage: &Outage,
    events: &[AgentEvent],
) -> Reconnects {
    let ours: HashSet<&str> = devices.iter().map(String::as_str).collect();
    let mut events: Vec<&AgentEvent> = events
        .iter()
        .filter(|e| ours.contains(e.device.as_str()) && e.at >= outage.stopped_at)
        .collect();
    events.sort_by_key(|e| e.at);
    let mut last_attempt: HashMap<&str, Instant> = HashMap::new();
    let mut first_connected: HashMap<&str, (Instant, Option<Instant>)> = HashMap::new();
    let mut attempts_ms = Vec::new();
    for event in events {
        let device = event.device.as_str();
        match event.kind {
            Kind::Attempt => {
                attempts_ms.push(signed_ms(outage.returned_at, event.at));
                last_attempt.insert(device, event.at);
            }
            Kind::Connected => {
                let started = last_attempt.get(device).copied();
                first_connected.entry(device).or_insert((event.at, started));
            }
        }
    }
    let ms = |at: Instant| signed_ms(outage.returned_at, at);
    Reconnects {
        schedule: schedule.to_owned(),
        connected_ms: first_connected.values().map(|(at, _)| ms(*at)).collect(),
        started_ms: first_connected
            .values()
            .filter_map(|(_, started)| started.map(ms))
            .collect(),
        attempts_ms,
        missing: devices.len() - first_connected.len(),
    }
}

/// `at - origin` in whole ms, negative when `at` came first.
fn signed_ms(origin: Instant, at: Instant) -> i64 {
    match at.checked_duration_since(origin) {
        Some(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        None => -i64::try_from((origin - at).as_millis()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn each_device_counts_its_first_connection_after_the_drop() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let outage = Outage {
            stopped_at: ms(1000),
            returned_at: ms(5000),
        };
        let event = |device: &str, kind, at| AgentEvent {
            device: device.into(),
            kind,
            at,
        };
        let events = [
            event("a", Kind::Connected, ms(10)),
            event("a", Kind::Attempt, ms(1200)),
            event("a", Kind::Attempt, ms(3000)),
            event("a", Kind::Attempt, ms(5100)),
            event("a", Kind::Connected, ms(5150)),
            event("a", Kind::Connected, ms(9000)),
            event("b", Kind::Connected, ms(4990)),
            event("other", Kind::Attempt, ms(2000)),
        ];
        let devices = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let mut r = reconnects("new", &devices, &outage, &events);
        r.connected_ms.sort_unstable();
        assert_eq!(r.connected_ms, vec![-10, 150]);
        assert_eq!(
            r.started_ms,
            vec![100],
            "b's attempt started before the drop"
        );
        assert_eq!(r.attempts_ms, vec![-3800, -2000, 100]);
        assert_eq!(r.attempts_while_down(), 2);
        assert_eq!(r.missing, 1);
    }
}
