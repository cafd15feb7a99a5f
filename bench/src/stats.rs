//! Percentiles over recorded durations.

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
    fn empty_is_zero() {
        assert_eq!(Samples::default().percentile(50.0), Duration::ZERO);
    }
}
