//! How much slower one hub is than another: the ratio of their medians, with a bootstrap interval over the
//! rounds. Resampling whole rounds keeps each pair of durations that were measured moments apart together.

use std::time::Duration;

use crate::stats::nearest_rank;

/// Resamples drawn for an interval.
const RESAMPLES: usize = 2000;
/// Fixed, so that the same durations always give the same interval.
const SEED: u64 = 0x5eed_b0b5_1234_5678;

/// A ratio of medians and its 95% bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// median(a) / median(b) over all rounds.
    pub estimate: f64,
    /// 2.5th percentile of the resampled ratios.
    pub low: f64,
    /// 97.5th percentile of the resampled ratios.
    pub high: f64,
}

/// median(`a`) / median(`b`), where `a[i]` and `b[i]` come from round `i`. `None` if the rounds do not pair
/// up or are empty.
pub fn ratio_of_medians(a: &[Duration], b: &[Duration]) -> Option<Ratio> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let (a, b) = (micros(a), micros(b));
    let estimate = median(&mut a.clone()) / median(&mut b.clone());
    let mut rng = SplitMix64(SEED);
    let (mut pick_a, mut pick_b) = (vec![0.0; a.len()], vec![0.0; b.len()]);
    let mut ratios = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        for slot in 0..a.len() {
            let round = rng.below(a.len());
            pick_a[slot] = a[round];
            pick_b[slot] = b[round];
        }
        ratios.push(median(&mut pick_a) / median(&mut pick_b));
    }
    ratios.sort_unstable_by(f64::total_cmp);
    Some(Ratio {
        estimate,
        low: ratios[nearest_rank(ratios.len(), 2.5)],
        high: ratios[nearest_rank(ratios.len(), 97.5)],
    })
}

fn micros(durations: &[Duration]) -> Vec<f64> {
    durations.iter().map(|d| d.as_secs_f64() * 1e6).collect()
}

/// Median by nearest rank, as [`crate::stats::Samples`] computes it; reorders `values`.
fn median(values: &mut [f64]) -> f64 {
    let index = nearest_rank(values.len(), 50.0);
    *values.select_nth_unstable_by(index, f64::total_cmp).1
}

/// A small, good-enough generator for resampling (Steele, Lea and Flood's SplitMix64).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), up to a bias of n / 2^64.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn equal_hubs_give_one() {
        let a = ms(&[5, 6, 7, 8, 9]);
        let ratio = ratio_of_medians(&a, &a).expect("paired");
        assert_eq!((ratio.estimate, ratio.low, ratio.high), (1.0, 1.0, 1.0));
    }

    #[test]
    fn twice_as_slow_is_two_and_the_interval_holds_it() {
        let b: Vec<u64> = (1..=200).map(|i| 10 + i % 7).collect();
        let a: Vec<u64> = b.iter().map(|v| v * 2).collect();
        let ratio = ratio_of_medians(&ms(&a), &ms(&b)).expect("paired");
        assert!((ratio.estimate - 2.0).abs() < 1e-9, "{ratio:?}");
        assert!(ratio.low <= 2.0 && 2.0 <= ratio.high, "{ratio:?}");
    }

    #[test]
    fn noise_widens_the_interval() {
        let b: Vec<u64> = (0..200).map(|i| 10 + (i * 37) % 11).collect();
        let a: Vec<u64> = (0..200).map(|i| 12 + (i * 53) % 17).collect();
        let ratio = ratio_of_medians(&ms(&a), &ms(&b)).expect("paired");
        assert!(ratio.low < ratio.high, "{ratio:?}");
        assert!(
            ratio.low <= ratio.estimate && ratio.estimate <= ratio.high,
            "{ratio:?}"
        );
    }

    #[test]
    fn unpaired_or_empty_is_none() {
        assert_eq!(ratio_of_medians(&ms(&[1, 2]), &ms(&[1])), None);
        assert_eq!(ratio_of_medians(&[], &[]), None);
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rng = SplitMix64(1);
        assert!((0..10_000).all(|_| rng.below(7) < 7));
    }
}
