//! A set of seqs kept as disjoint inclusive runs: what the hub said it stored, beyond the prefix the store has
//! already forgotten.

use std::collections::BTreeMap;

/// Disjoint, non-adjacent inclusive runs of seqs, keyed by their first seq.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqRanges {
    runs: BTreeMap<u64, u64>,
}

impl SeqRanges {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every seq in `from..=to` (nothing if `from > to`), merging with touching or overlapping runs.
    pub fn insert(&mut self, from: u64, to: u64) {
        if from > to {
            return;
        }
        let (mut start, mut end) = (from, to);
        if let Some((&s, &e)) = self.runs.range(..=from).next_back()
            && e.saturating_add(1) >= from
        {
            start = s;
            end = end.max(e);
        }
        let touching: Vec<u64> = self
            .runs
            .range(start..=end.saturating_add(1))
            .map(|(&s, _)| s)
            .collect();
        for s in touching {
            if let Some(e) = self.runs.remove(&s) {
                end = end.max(e);
            }
        }
        self.runs.insert(start, end);
    }

    /// The last seq of the run that holds `seq`, if one does.
    pub fn run_end(&self, seq: u64) -> Option<u64> {
        self.runs
            .range(..=seq)
            .next_back()
            .and_then(|(_, &end)| (end >= seq).then_some(end))
    }

    /// Whether every seq in `from..=to` is in the set (true for an empty range).
    pub fn covers(&self, from: u64, to: u64) -> bool {
        from > to || self.run_end(from).is_some_and(|end| end >= to)
    }

    /// Forgets every seq at or below `seq`.
    pub fn remove_through(&mut self, seq: u64) {
        let below: Vec<(u64, u64)> = self.runs.range(..=seq).map(|(&s, &e)| (s, e)).collect();
        for (start, end) in below {
            self.runs.remove(&start);
            if end > seq {
                self.runs.insert(seq + 1, end);
            }
        }
    }

    /// How many runs the set holds.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(set: &SeqRanges) -> Vec<(u64, u64)> {
        set.runs.iter().map(|(&s, &e)| (s, e)).collect()
    }

    #[test]
    fn touching_and_overlapping_runs_merge() {
        let mut set = SeqRanges::new();
        set.insert(10, 20);
        set.insert(30, 40);
        assert_eq!(runs(&set), [(10, 20), (30, 40)]);
        set.insert(21, 25);
        assert_eq!(runs(&set), [(10, 25), (30, 40)]);
        set.insert(26, 29);
        assert_eq!(runs(&set), [(10, 40)]);
        set.insert(5, 50);
        assert_eq!(runs(&set), [(5, 50)]);
        set.insert(7, 8);
        set.insert(9, 3);
        assert_eq!(
            runs(&set),
            [(5, 50)],
            "duplicates and empty ranges change nothing"
        );
        set.insert(52, 60);
        set.insert(1, 2);
        assert_eq!(set.runs(), 3);
    }

    #[test]
    fn a_run_is_found_from_any_of_its_seqs() {
        let mut set = SeqRanges::new();
        set.insert(10, 20);
        assert_eq!(set.run_end(10), Some(20));
        assert_eq!(set.run_end(20), Some(20));
        assert_eq!(set.run_end(21), None);
        assert_eq!(set.run_end(9), None);
        assert!(set.covers(12, 18));
        assert!(!set.covers(12, 21));
        assert!(set.covers(30, 29));
    }

    #[test]
    fn removing_a_prefix_cuts_the_run_it_falls_in() {
        let mut set = SeqRanges::new();
        set.insert(1, 5);
        set.insert(10, 20);
        set.remove_through(12);
        assert_eq!(runs(&set), [(13, 20)]);
        set.remove_through(20);
        assert_eq!(set.runs(), 0);
    }

    #[test]
    fn the_largest_seqs_do_not_overflow() {
        let mut set = SeqRanges::new();
        set.insert(u64::MAX - 1, u64::MAX);
        set.insert(u64::MAX - 3, u64::MAX - 2);
        assert_eq!(runs(&set), [(u64::MAX - 3, u64::MAX)]);
        set.remove_through(u64::MAX);
        assert_eq!(set.runs(), 0);
    }
}
