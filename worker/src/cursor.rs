//! The per-device sequence cursor: which samples are new and which are resends of ones already accepted.

use serde::{Deserialize, Serialize};

/// Epoch the hub uses for legacy flat payloads, which carry no epoch or seq of their own.
pub const LEGACY_EPOCH: &str = "legacy";

/// The highest seq accepted in the current epoch. Kept in Durable Object storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqCursor {
    /// The device's current epoch.
    pub epoch: String,
    /// Highest seq accepted in it.
    pub seq: u64,
}

/// What to do with one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// New: store and broadcast it.
    Accept,
    /// At or below the cursor in the same epoch: a resend after a lost ack. Ack again, nothing else.
    Duplicate,
}

impl SeqCursor {
    /// Judges a sample and moves the cursor past it if it is new. A new epoch always starts afresh.
    pub fn admit(cursor: &mut Option<SeqCursor>, epoch: &str, seq: u64) -> Verdict {
        match cursor {
            Some(current) if current.epoch == epoch => {
                if seq <= current.seq {
                    return Verdict::Duplicate;
                }
                current.seq = seq;
            }
            _ => {
                *cursor = Some(SeqCursor {
                    epoch: epoch.to_owned(),
                    seq,
                })
            }
        }
        Verdict::Accept
    }

    /// The seq the hub gives the next legacy sample: one past the legacy cursor, or 1.
    pub fn next_legacy_seq(cursor: Option<&SeqCursor>) -> u64 {
        match cursor {
            Some(c) if c.epoch == LEGACY_EPOCH => c.seq.saturating_add(1),
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sample_starts_the_epoch() {
        let mut cursor = None;
        assert_eq!(SeqCursor::admit(&mut cursor, "e1", 5), Verdict::Accept);
        assert_eq!(
            cursor,
            Some(SeqCursor {
                epoch: "e1".into(),
                seq: 5
            })
        );
    }

    #[test]
    fn resends_at_or_below_the_cursor_are_duplicates() {
        let mut cursor = Some(SeqCursor {
            epoch: "e1".into(),
            seq: 5,
        });
        assert_eq!(SeqCursor::admit(&mut cursor, "e1", 5), Verdict::Duplicate);
        assert_eq!(SeqCursor::admit(&mut cursor, "e1", 1), Verdict::Duplicate);
        assert_eq!(SeqCursor::admit(&mut cursor, "e1", 6), Verdict::Accept);
        assert_eq!(cursor.as_ref().map(|c| c.seq), Some(6));
    }

    #[test]
    fn a_wiped_device_with_a_new_epoch_starts_again_at_one() {
        let mut cursor = Some(SeqCursor {
            epoch: "old".into(),
            seq: 90_000,
        });
        assert_eq!(SeqCursor::admit(&mut cursor, "new", 1), Verdict::Accept);
        assert_eq!(
            cursor,
            Some(SeqCursor {
                epoch: "new".into(),
                seq: 1
            })
        );
    }

    #[test]
    fn legacy_seq_counts_within_the_legacy_epoch() {
        assert_eq!(SeqCursor::next_legacy_seq(None), 1);
        let legacy = SeqCursor {
            epoch: LEGACY_EPOCH.into(),
            seq: 9,
        };
        assert_eq!(SeqCursor::next_legacy_seq(Some(&legacy)), 10);
        let typed = SeqCursor {
            epoch: "e".into(),
            seq: 9,
        };
        assert_eq!(SeqCursor::next_legacy_seq(Some(&typed)), 1);
    }
}
