//! Which seqs of a device's current epoch the hub holds: a short list of ranges, so a resend is told apart from a
//! new sample exactly, also when it fills a gap left by samples the hub lost before writing them.

use serde::{Deserialize, Serialize};

/// Epoch the hub uses for legacy flat payloads, which carry no epoch or seq of their own.
pub const LEGACY_EPOCH: &str = "legacy";

/// Most ranges kept; past it the two oldest merge (the seqs between them then count as held).
const MAX_RANGES: usize = 32;

/// The seqs held for one epoch, as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqRanges {
    /// The device's current epoch.
    pub epoch: String,
    /// Inclusive `[first, last]` ranges, oldest first.
    pub ranges: Vec<(u64, u64)>,
}

/// What to do with one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// New: keep and broadcast it.
    Accept,
    /// Held already: a resend. Ack again, nothing else.
    Duplicate,
}

impl SeqRanges {
    /// The seqs `1..=seq` of `epoch`: what a hub that kept only a cursor knew.
    pub fn up_to(epoch: &str, seq: u64) -> Self {
        Self {
            epoch: epoch.to_owned(),
            ranges: if seq == 0 { Vec::new() } else { vec![(1, seq)] },
        }
    }

    /// Whether `seq` of `epoch` is held.
    pub fn contains(&self, epoch: &str, seq: u64) -> bool {
        self.epoch == epoch
            && self
                .ranges
                .iter()
                .any(|(first, last)| (*first..=*last).contains(&seq))
    }

    /// The highest seq held, 0 when none.
    pub fn highest(&self) -> u64 {
        self.ranges.last().map_or(0, |(_, last)| *last)
    }

    /// Judges a sample and holds it if it is new. A sample of another epoch starts that epoch afresh.
    pub fn admit(held: &mut Option<SeqRanges>, epoch: &str, seq: u64) -> Verdict {
        match held {
            Some(current) if current.epoch == epoch => {
                if current.contains(epoch, seq) {
                    return Verdict::Duplicate;
                }
                current.insert(seq);
            }
            _ => {
                let mut fresh = Self::up_to(epoch, 0);
                fresh.insert(seq);
                *held = Some(fresh);
            }
        }
        Verdict::Accept
    }

    /// The seq the hub gives the next legacy sample: one past the highest legacy seq, or 1.
    pub fn next_legacy_seq(held: Option<&SeqRanges>) -> u64 {
        match held {
            Some(h) if h.epoch == LEGACY_EPOCH => h.highest().saturating_add(1),
            _ => 1,
        }
    }

    fn insert(&mut self, seq: u64) {
        let at = self.ranges.partition_point(|(_, last)| *last < seq);
        self.ranges.insert(at, (seq, seq));
        // Merge with the neighbours it touches.
        if at + 1 < self.ranges.len() && self.ranges[at + 1].0 <= seq.saturating_add(1) {
            self.ranges[at].1 = self.ranges[at + 1].1;
            self.ranges.remove(at + 1);
        }
        if at > 0 && self.ranges[at - 1].1.saturating_add(1) >= self.ranges[at].0 {
            self.ranges[at - 1].1 = self.ranges[at].1;
            self.ranges.remove(at);
        }
        if self.ranges.len() > MAX_RANGES {
            self.ranges[0].1 = self.ranges[1].1;
            self.ranges.remove(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(epoch: &str, ranges: &[(u64, u64)]) -> Option<SeqRanges> {
        Some(SeqRanges {
            epoch: epoch.into(),
            ranges: ranges.to_vec(),
        })
    }

    #[test]
    fn first_sample_starts_the_epoch() {
        let mut h = None;
        assert_eq!(SeqRanges::admit(&mut h, "e1", 5), Verdict::Accept);
        assert_eq!(h, held("e1", &[(5, 5)]));
    }

    #[test]
    fn resends_of_held_seqs_are_duplicates() {
        let mut h = held("e1", &[(1, 5)]);
        assert_eq!(SeqRanges::admit(&mut h, "e1", 5), Verdict::Duplicate);
        assert_eq!(SeqRanges::admit(&mut h, "e1", 1), Verdict::Duplicate);
        assert_eq!(SeqRanges::admit(&mut h, "e1", 6), Verdict::Accept);
        assert_eq!(h, held("e1", &[(1, 6)]));
    }

    #[test]
    fn a_gap_is_filled_by_a_late_resend_and_merges() {
        let mut h = held("e1", &[(1, 5)]);
        assert_eq!(SeqRanges::admit(&mut h, "e1", 9), Verdict::Accept);
        assert_eq!(h, held("e1", &[(1, 5), (9, 9)]));
        for seq in [7, 6, 8] {
            assert_eq!(SeqRanges::admit(&mut h, "e1", seq), Verdict::Accept);
        }
        assert_eq!(h, held("e1", &[(1, 9)]));
        assert_eq!(SeqRanges::admit(&mut h, "e1", 7), Verdict::Duplicate);
        assert_eq!(h.as_ref().map(SeqRanges::highest), Some(9));
    }

    #[test]
    fn a_seq_below_every_range_is_new() {
        let mut h = held("e1", &[(10, 12)]);
        assert_eq!(SeqRanges::admit(&mut h, "e1", 3), Verdict::Accept);
        assert_eq!(SeqRanges::admit(&mut h, "e1", 9), Verdict::Accept);
        assert_eq!(h, held("e1", &[(3, 3), (9, 12)]));
    }

    #[test]
    fn a_wiped_device_with_a_new_epoch_starts_again() {
        let mut h = held("old", &[(1, 90_000)]);
        assert_eq!(SeqRanges::admit(&mut h, "new", 1), Verdict::Accept);
        assert_eq!(h, held("new", &[(1, 1)]));
    }

    #[test]
    fn ranges_stay_bounded_by_merging_the_oldest() {
        let mut h = None;
        for seq in (1..=200).step_by(2) {
            SeqRanges::admit(&mut h, "e", seq);
        }
        let h = h.expect("held");
        assert_eq!(h.ranges.len(), MAX_RANGES);
        assert_eq!(h.highest(), 199);
        assert!(h.contains("e", 199) && !h.contains("e", 198));
    }

    #[test]
    fn legacy_seq_counts_within_the_legacy_epoch() {
        assert_eq!(SeqRanges::next_legacy_seq(None), 1);
        let legacy = SeqRanges::up_to(LEGACY_EPOCH, 9);
        assert_eq!(SeqRanges::next_legacy_seq(Some(&legacy)), 10);
        let typed = SeqRanges::up_to("e", 9);
        assert_eq!(SeqRanges::next_legacy_seq(Some(&typed)), 1);
        assert!(SeqRanges::up_to("e", 0).ranges.is_empty());
    }
}
