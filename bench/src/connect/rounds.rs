//! The measurement: rounds in which every hub does each handshake once, the hubs taking turns in an order that
//! changes from round to round (all orders equally often), so that drift of a shared machine reaches them
//! alike. The first rounds are a warm-up and not kept.

use std::time::Duration;

use anyhow::{Context, Result};

use crate::connect::contender::Contender;
use crate::connect::handshake::{self, Handshake};

/// Rounds measured and thrown away first: workerd compiles, D1 and the Durable Objects warm up.
pub const WARM_UP_ROUNDS: usize = 20;

/// Durations per hub and handshake in round order (warm-up excluded): the i-th durations of two hubs were
/// measured moments apart.
#[derive(Debug, Clone)]
pub struct Timings {
    per_hub: Vec<[Vec<Duration>; 2]>,
}

impl Timings {
    /// The durations of hub `hub` (index into the contenders) for `handshake`, in round order.
    pub fn of(&self, hub: usize, handshake: Handshake) -> &[Duration] {
        &self.per_hub[hub][handshake as usize]
    }
}

/// Checks that every hub refuses wrong tokens, then runs [`WARM_UP_ROUNDS`] and `rounds` kept rounds.
pub async fn run(hubs: &[Contender], rounds: usize) -> Result<Timings> {
    for hub in hubs {
        for kind in Handshake::ALL {
            handshake::expect_refusal(hub, kind).await?;
        }
    }
    let orders = permutations(hubs.len());
    let mut timings = Timings {
        per_hub: vec![[Vec::with_capacity(rounds), Vec::with_capacity(rounds)]; hubs.len()],
    };
    let total = WARM_UP_ROUNDS + rounds;
    for round in 0..total {
        let order = &orders[round % orders.len()];
        for kind in Handshake::ALL {
            for &hub in order {
                let contender = &hubs[hub];
                let elapsed = handshake::measure(contender, kind).await.with_context(|| {
                    format!(
                        "{} hub, {} handshake of round {round}; its last output:\n{}",
                        contender.name,
                        kind.label(),
                        contender.log_tail(30)
                    )
                })?;
                if round >= WARM_UP_ROUNDS {
                    timings.per_hub[hub][kind as usize].push(elapsed);
                }
            }
        }
        if (round + 1) % (total / 10).max(1) == 0 {
            eprintln!("hub-bench: round {}/{total}", round + 1);
        }
    }
    Ok(timings)
}

/// Every order of `0..n`.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for shorter in permutations(n - 1) {
        for at in 0..=shorter.len() {
            let mut order = shorter.clone();
            order.insert(at, n - 1);
            all.push(order);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_order_once() {
        let mut orders = permutations(3);
        assert_eq!(orders.len(), 6);
        orders.sort();
        orders.dedup();
        assert_eq!(orders.len(), 6);
        for order in &orders {
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, vec![0, 1, 2]);
        }
    }

    #[test]
    fn each_hub_goes_before_each_other_equally_often() {
        let orders = permutations(3);
        let before = |a: usize, b: usize| {
            orders
                .iter()
                .filter(|o| o.iter().position(|&h| h == a) < o.iter().position(|&h| h == b))
                .count()
        };
        assert_eq!(before(0, 1), 3);
        assert_eq!(before(1, 2), 3);
        assert_eq!(before(2, 0), 3);
    }
}
