//! Percentiles over recorded durations, and the spread of a few per-round figures.

use std::time::Duration;

/// Recorded durations, summarised by percentile.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    micros: Vec<u64>,
}

impl Samples {
    /// Records one duration.
    pub fn record(&mut self, duration: Duration) {
        self.micros
            .push(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX));
    }

    /// How many durations were recorded.
    pub fn len(&self) -> usize {
        self.micros.len()
    }

    /// The `p`-th percentile (0 to 100) by nearest rank; zero when empty.
    pub fn percentile(&mut self, p: f64) -> Duration {
        if self.micros.is_empty() {
            return Duration::ZERO;
        }
        self.micros.sort_unstable();
        Duration::from_micros(self.micros[nearest_rank(self.micros.len(), p)])
    }
}

impl FromIterator<Duration> for Samples {
    fn from_iter<I: IntoIterator<Item = Duration>>(durations: I) -> Self {
        let mut samples = Self::default();
        for duration in durations {
            samples.record(duration);
        }
        samples
    }
}

/// The index of the `p`-th percentile (0 to 100) by nearest rank in `len` sorted values (`len` > 0).
pub fn nearest_rank(len: usize, p: f64) -> usize {
    let rank = ((p / 100.0) * len as f64).ceil() as usize;
    rank.clamp(1, len) - 1
}

/// The median (by nearest rank, as [`Samples`]), smallest and largest of a few figures, e.g. one per round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The median by nearest rank.
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when there are none (or one is NaN).
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() || values.iter().any(|v| v.is_nan()) {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        Some(Self {
            median: sorted[nearest_rank(sorted.len(), 50.0)],
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        })
    }
}

/// `a[i] / b[i]` for every round `i` (figures measured side by side); empty when the lengths differ.
pub fn paired_ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    if a.len() != b.len() {
        return Vec::new();
    }
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

/// Formats a duration in milliseconds with three decimals.
pub fn millis(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples = Samples::default();
        for micros in 1..=100 {
            samples.record(Duration::from_micros(micros));
        }
        assert_eq!(samples.percentile(50.0), Duration::from_micros(50));
        assert_eq!(samples.percentile(99.0), Duration::from_micros(99));
        assert_eq!(samples.percentile(100.0), Duration::from_micros(100));
        assert_eq!(samples.percentile(0.0), Duration::from_micros(1));
    }

    #[test]
    fn spread_of_rounds() {
        let spread = Spread::of(&[3.0, 1.0, 2.0, 5.0]).expect("values");
        assert_eq!(
            spread,
            Spread {
                median: 2.0,
                min: 1.0,
                max: 5.0
            }
        );
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn ratios_pair_rounds() {
        assert_eq!(paired_ratios(&[2.0, 3.0], &[1.0, 6.0]), vec![2.0, 0.5]);
        assert!(paired_ratios(&[1.0], &[]).is_empty());
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(Samples::default().percentile(50.0), Duration::ZERO);
    }
}
