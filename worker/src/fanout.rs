//! Telling every device object in a token's scope that it was revoked, as a tree: each object applies the order,
//! then passes it on to at most [`FANOUT_WIDTH`] others, so no invocation comes near the subrequest limit and a
//! fleet of thousands is reached in a few hops.

use serde::{Deserialize, Serialize};

/// Most objects one invocation forwards to (the Workers Free plan allows 50 subrequests per invocation).
pub const FANOUT_WIDTH: usize = 16;

/// `POST /fanout` to a device object: revoke `token_id` here, then pass the order on to `relay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeFanout {
    /// The revoked dashboard token.
    pub token_id: String,
    /// The device ids this object passes the order on to (through the tree).
    pub relay: Vec<String>,
}

/// What a subtree reports back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanoutReport {
    /// Objects that applied the order.
    pub reached: u64,
    /// Live sockets closed with 4001.
    pub closed: u64,
    /// Device ids whose objects could not be reached (or whose subtree could not be): to retry.
    pub unreached: Vec<String>,
}

impl FanoutReport {
    /// Adds a subtree's report to this one.
    pub fn absorb(&mut self, other: FanoutReport) {
        self.reached += other.reached;
        self.closed += other.closed;
        self.unreached.extend(other.unreached);
    }
}

/// Splits `ids` into at most `width` contiguous groups of near-equal size, each as (the object that receives the
/// order, the ids it relays to).
pub fn plan(ids: Vec<String>, width: usize) -> Vec<(String, Vec<String>)> {
    let width = width.max(1);
    let total = ids.len();
    let groups = total.min(width);
    let mut out = Vec::with_capacity(groups);
    let mut rest = ids.into_iter();
    for index in 0..groups {
        let size = total / groups + usize::from(index < total % groups);
        let mut group: Vec<String> = rest.by_ref().take(size).collect();
        if group.is_empty() {
            continue;
        }
        let head = group.remove(0);
        out.push((head, group));
    }
    out
}

/// How many hops the tree needs for `total` objects.
pub fn depth(total: usize, width: usize) -> usize {
    let width = width.max(2);
    let mut covered = 0usize;
    let mut level = 1usize;
    let mut hops = 0;
    while covered < total {
        level = level.saturating_mul(width);
        covered = covered.saturating_add(level);
        hops += 1;
    }
    hops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("d{i:05}")).collect()
    }

    #[test]
    fn every_id_is_in_exactly_one_place() {
        for n in [0, 1, 2, 15, 16, 17, 1000, 5000] {
            let groups = plan(ids(n), FANOUT_WIDTH);
            assert!(groups.len() <= FANOUT_WIDTH);
            let mut all: Vec<String> = groups
                .into_iter()
                .flat_map(|(head, relay)| std::iter::once(head).chain(relay))
                .collect();
            all.sort();
            assert_eq!(all, ids(n), "n = {n}");
        }
    }

    #[test]
    fn groups_are_balanced() {
        let groups = plan(ids(1000), FANOUT_WIDTH);
        let sizes: Vec<usize> = groups.iter().map(|(_, relay)| relay.len() + 1).collect();
        let (min, max) = (sizes.iter().min(), sizes.iter().max());
        assert_eq!((min, max), (Some(&62), Some(&63)));
    }

    #[test]
    fn a_fleet_of_5000_is_four_hops_deep() {
        assert_eq!(depth(1, FANOUT_WIDTH), 1);
        assert_eq!(depth(16, FANOUT_WIDTH), 1);
        assert_eq!(depth(17, FANOUT_WIDTH), 2);
        assert_eq!(depth(5000, FANOUT_WIDTH), 4);
    }

    #[test]
    fn reports_add_up() {
        let mut total = FanoutReport::default();
        total.absorb(FanoutReport {
            reached: 3,
            closed: 1,
            unreached: vec!["a".into()],
        });
        total.absorb(FanoutReport {
            reached: 2,
            closed: 2,
            unreached: vec![],
        });
        assert_eq!(
            total,
            FanoutReport {
                reached: 5,
                closed: 3,
                unreached: vec!["a".into()]
            }
        );
    }
}
