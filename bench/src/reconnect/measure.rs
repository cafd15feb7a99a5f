//! From the agents' recorded status lines to the figures of one restart: per device its first `connected`
//! after the hub went away, in ms after the hub's return, and the attempts made while it was away.

use std::collections::HashMap;
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
    let ours: HashMap<&str, ()> = devices.iter().map(|d| (d.as_str(), ())).collect();
    let mut first_connected: HashMap<&str, Instant> = HashMap::new();
    let mut attempts_while_down = 0;
    for event in events
        .iter()
        .filter(|e| ours.contains_key(e.device.as_str()))
    {
        if event.at < outage.stopped_at {
            continue;
        }
        match event.kind {
            Kind::Attempt if event.at < outage.returned_at => attempts_while_down += 1,
            Kind::Attempt => {}
            Kind::Connected => {
                let first = first_connected
                    .entry(event.device.as_str())
                    .or_insert(event.at);
                *first = (*first).min(event.at);
            }
        }
    }
    let after_return_ms = first_connected
        .values()
        .map(|at| signed_ms(outage.returned_at, *at))
        .collect();
    Reconnects {
        schedule: schedule.to_owned(),
        after_return_ms,
        missing: devices.len() - first_connected.len(),
        attempts_while_down,
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
        r.after_return_ms.sort_unstable();
        assert_eq!(r.after_return_ms, vec![-10, 150]);
        assert_eq!(r.missing, 1);
        assert_eq!(r.attempts_while_down, 2);
    }
}
