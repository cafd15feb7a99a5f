//! Reading a log back, pure: each segment's bytes into its records, and the segments together into the store's
//! state (epoch, next seq, acknowledged floor, dropped count, reservation) and the index of samples still held.
//!
//! A segment ends at its first zero byte or at a record that does not check out (a write torn by a power cut);
//! a segment without a valid header, of the wrong size or of another epoch is damage, and the store is moved
//! aside rather than guessed at.

use std::fmt;

use super::record::{Decoded, FORMAT_VERSION, Record, SegmentHeader, decode};

/// Where one sample's record lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The sample's seq.
    pub seq: u64,
    /// The segment's index.
    pub segment: u64,
    /// The record's offset in the segment file.
    pub offset: u32,
    /// The record's encoded length.
    pub len: u32,
}

/// One segment, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedSegment {
    /// Its first record.
    pub header: SegmentHeader,
    /// Its samples, in file order.
    pub samples: Vec<Entry>,
    /// The highest floor it records.
    pub floor: u64,
    /// The last dropped count it records.
    pub dropped: u64,
    /// The last reservation it records.
    pub reserved: u64,
    /// Where its written part ends: the next record goes here.
    pub end: u64,
    /// Why reading stopped before the zeros, if it did (a torn write).
    pub torn: Option<&'static str>,
}

/// Why a store cannot be read as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// The segment does not start with a valid header.
    NoHeader(u64, &'static str),
    /// The header names a layout this agent does not know.
    Format(u64, u32),
    /// The file is not the size its header states (truncated or replaced).
    Size {
        /// The segment.
        index: u64,
        /// The size its header states.
        expected: u64,
        /// The file's size.
        actual: u64,
    },
    /// The header names another segment than the file name does.
    Index(u64, u64),
    /// Segments of different epochs.
    Epoch(u64),
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoHeader(index, why) => write!(f, "segment {index} has no valid header ({why})"),
            Self::Format(index, format) => {
                write!(
                    f,
                    "segment {index} has layout version {format}, not {FORMAT_VERSION}"
                )
            }
            Self::Size {
                index,
                expected,
                actual,
            } => write!(
                f,
                "segment {index} is {actual} bytes, not the {expected} it was created with"
            ),
            Self::Index(index, header) => {
                write!(f, "segment file {index} holds segment {header}")
            }
            Self::Epoch(index) => write!(f, "segment {index} belongs to another epoch"),
        }
    }
}

/// Reads the segment numbered `index` from its whole file `bytes`.
pub fn scan_segment(index: u64, bytes: &[u8]) -> Result<ScannedSegment, Damage> {
    let (header, mut at) = match decode(bytes) {
        Decoded::Record(Record::Header(header), len) => (header, len),
        Decoded::Record(..) => return Err(Damage::NoHeader(index, "another record comes first")),
        Decoded::End => return Err(Damage::NoHeader(index, "empty")),
        Decoded::Invalid(why) => return Err(Damage::NoHeader(index, why)),
    };
    check_header(index, &header, bytes.len() as u64)?;
    let mut segment = ScannedSegment {
        floor: header.floor,
        dropped: header.dropped,
        reserved: header.reserved,
        header,
        samples: Vec::new(),
        end: 0,
        torn: None,
    };
    loop {
        match decode(&bytes[at..]) {
            Decoded::Record(record, len) => {
                segment.take(record, index, at, len);
                at += len;
            }
            Decoded::End => break,
            Decoded::Invalid(why) => {
                segment.torn = Some(why);
                break;
            }
        }
    }
    segment.end = at as u64;
    Ok(segment)
}

fn check_header(index: u64, header: &SegmentHeader, actual: u64) -> Result<(), Damage> {
    if header.format != FORMAT_VERSION {
        return Err(Damage::Format(index, header.format));
    }
    if header.index != index {
        return Err(Damage::Index(index, header.index));
    }
    if header.bytes != actual {
        return Err(Damage::Size {
            index,
            expected: header.bytes,
            actual,
        });
    }
    Ok(())
}

impl ScannedSegment {
    fn take(&mut self, record: Record<'_>, index: u64, at: usize, len: usize) {
        match record {
            Record::Sample { seq, .. } => self.samples.push(Entry {
                seq,
                segment: index,
                offset: u32::try_from(at).unwrap_or(u32::MAX),
                len: u32::try_from(len).unwrap_or(u32::MAX),
            }),
            Record::Floor(seq) => self.floor = self.floor.max(seq),
            Record::Reserve(seq) => self.reserved = seq,
            Record::Dropped(count) => self.dropped = self.dropped.max(count),
            // A second header is never written; ignore it rather than fail.
            Record::Header(_) => {}
        }
    }
}

/// The store's state from all its segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The epoch.
    pub epoch: String,
    /// The seq the next sample gets.
    pub next_seq: u64,
    /// Every seq up to this one is acknowledged or dropped.
    pub floor: u64,
    /// Samples dropped since the store was created.
    pub dropped: u64,
    /// A reservation left by an unclean stop (0: none); `next_seq` is already past it.
    pub reserved: u64,
    /// The samples above the floor, in seq order, each seq once.
    pub entries: Vec<Entry>,
    /// Each segment's index and highest seq (its header's `next_seq - 1` if it holds none).
    pub segments: Vec<(u64, u64)>,
    /// Where the last segment's written part ends.
    pub end: u64,
    /// Torn records found (at most one per segment, normally only in the last).
    pub torn: usize,
}

/// Combines segments, oldest first (at least one), into the store's state.
pub fn recover(segments: &[ScannedSegment]) -> Result<Recovered, Damage> {
    let first = segments.first().ok_or(Damage::NoHeader(0, "no segments"))?;
    let epoch = first.header.epoch.clone();
    let mut state = Recovered {
        epoch: epoch.clone(),
        next_seq: 1,
        floor: 0,
        dropped: 0,
        reserved: 0,
        entries: Vec::new(),
        segments: Vec::new(),
        end: 0,
        torn: 0,
    };
    let mut newest = 0;
    for segment in segments {
        if segment.header.epoch != epoch {
            return Err(Damage::Epoch(segment.header.index));
        }
        state.next_seq = state.next_seq.max(segment.header.next_seq);
        state.floor = state.floor.max(segment.floor);
        state.dropped = state.dropped.max(segment.dropped);
        state.reserved = segment.reserved;
        state.torn += usize::from(segment.torn.is_some());
        let mut highest = segment.header.next_seq.saturating_sub(1);
        for entry in &segment.samples {
            // A sample rewritten after a failed write appears twice: the first copy counts.
            if entry.seq > newest {
                newest = entry.seq;
                state.entries.push(*entry);
            }
            highest = highest.max(entry.seq);
        }
        state.segments.push((segment.header.index, highest));
        state.end = segment.end;
    }
    state.next_seq = state.next_seq.max(newest + 1).max(state.reserved + 1);
    let floor = state.floor;
    state.entries.retain(|entry| entry.seq > floor);
    Ok(state)
}

#[cfg(test)]
mod tests;
