//! The log on disk: a directory of segment files, appended to in order, the oldest deleted once everything in
//! it is acknowledged. Knows files and offsets; what the records mean is the store's business.

use std::io;
use std::path::{Path, PathBuf};

use super::record::{self, Decoded, Record, SegmentHeader};
use super::scan::{Damage, Entry, Recovered, ScannedSegment, recover, scan_segment};
use super::segment::{SegmentFile, StoreFaults, list_segments};

/// Room kept free at the end of each segment for a reservation record, so one can still be written when no new
/// segment can be created (the disk is full).
const RESERVE_SLACK: u64 = 64;

/// Why a log could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// A file could not be listed, opened or read.
    Io(io::Error),
    /// The files are not a log this agent wrote.
    Damage(Damage),
}

/// A segment and the highest seq in it.
#[derive(Debug)]
struct OpenSegment {
    file: SegmentFile,
    highest: u64,
}

/// The open log.
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    segment_bytes: u64,
    segments: Vec<OpenSegment>,
    write_at: u64,
    faults: StoreFaults,
}

impl Log {
    /// A log with no segment yet (none could be opened or created).
    pub fn empty(dir: &Path, segment_bytes: u64, faults: &StoreFaults) -> Self {
        Self {
            dir: dir.to_owned(),
            segment_bytes,
            segments: Vec::new(),
            write_at: 0,
            faults: faults.clone(),
        }
    }

    /// Opens the log in `dir` and reads its state; `None` if it has no segment yet. A last segment without a
    /// header (its creation was cut short) is removed.
    pub fn open(
        dir: &Path,
        segment_bytes: u64,
        faults: &StoreFaults,
    ) -> Result<(Self, Option<Recovered>), OpenError> {
        let mut log = Self::empty(dir, segment_bytes, faults);
        let (indexes, leftovers) = list_segments(dir).map_err(OpenError::Io)?;
        for leftover in leftovers {
            let _ = std::fs::remove_file(leftover);
        }
        let mut scanned: Vec<ScannedSegment> = Vec::new();
        for (position, &index) in indexes.iter().enumerate() {
            let (file, bytes) = SegmentFile::open(dir, index, faults).map_err(OpenError::Io)?;
            let is_last = position + 1 == indexes.len();
            match scan_segment(index, &bytes) {
                Ok(segment) => {
                    scanned.push(segment);
                    log.segments.push(OpenSegment { file, highest: 0 });
                }
                Err(Damage::NoHeader(..)) if is_last && bytes.iter().all(|&b| b == 0) => {
                    file.remove().map_err(OpenError::Io)?;
                }
                Err(damage) => return Err(OpenError::Damage(damage)),
            }
        }
        if scanned.is_empty() {
            return Ok((log, None));
        }
        let recovered = recover(&scanned).map_err(OpenError::Damage)?;
        for (segment, &(_, highest)) in log.segments.iter_mut().zip(&recovered.segments) {
            segment.highest = highest;
        }
        log.write_at = recovered.end;
        Ok((log, Some(recovered)))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether any segment exists.
    pub fn has_segments(&self) -> bool {
        !self.segments.is_empty()
    }

    /// Starts a new segment (after the last, or the first) with `header` (its index and size are filled in),
    /// durably; later writes go there.
    pub fn start_segment(&mut self, mut header: SegmentHeader) -> io::Result<()> {
        let index = self.segments.last().map_or(0, |s| s.file.index() + 1);
        header.index = index;
        header.bytes = self.segment_bytes;
        let highest = header.next_seq.saturating_sub(1);
        let mut bytes = Vec::new();
        record::encode(&Record::Header(header), &mut bytes);
        let file = SegmentFile::create(&self.dir, index, self.segment_bytes, &self.faults)?;
        file.write_at(0, &bytes)?;
        file.sync()?;
        self.segments.push(OpenSegment { file, highest });
        self.write_at = bytes.len() as u64;
        Ok(())
    }

    /// Appends `bytes` (whole records), starting a segment with `header` first if they do not fit in the
    /// current one; returns the segment and offset they went to.
    pub fn append(&mut self, bytes: &[u8], header: &SegmentHeader) -> io::Result<(u64, u64)> {
        let needed = bytes.len() as u64 + RESERVE_SLACK;
        if needed + 256 > self.segment_bytes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "record larger than a segment",
            ));
        }
        if self.segments.is_empty() || self.write_at + needed > self.segment_bytes {
            self.start_segment(header.clone())?;
        }
        self.write_here(bytes)
    }

    /// Appends `bytes` to the current segment if they fit in its space, slack included (for the reservation
    /// written when no new segment can be made).
    pub fn append_in_place(&mut self, bytes: &[u8]) -> io::Result<(u64, u64)> {
        if self.segments.is_empty() || self.write_at + bytes.len() as u64 > self.segment_bytes {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no room in the current segment",
            ));
        }
        self.write_here(bytes)
    }

    fn write_here(&mut self, bytes: &[u8]) -> io::Result<(u64, u64)> {
        let segment = self.active()?;
        let at = self.write_at;
        segment.file.write_at(at, bytes)?;
        let index = segment.file.index();
        self.write_at += bytes.len() as u64;
        Ok((index, at))
    }

    /// Notes that the current segment holds sample `seq`.
    pub fn note_sample(&mut self, seq: u64) {
        if let Some(segment) = self.segments.last_mut() {
            segment.highest = segment.highest.max(seq);
        }
    }

    /// Makes everything written to the current segment durable.
    pub fn sync(&mut self) -> io::Result<()> {
        self.active()?.file.sync()
    }

    /// Reads the samples `run` (consecutive entries of one segment): each one's row, or `None` if its record
    /// is not the sample the index expects (damage since it was written).
    pub fn read_run(&self, run: &[Entry]) -> io::Result<Vec<Option<Vec<u8>>>> {
        let (Some(first), Some(last)) = (run.first(), run.last()) else {
            return Ok(Vec::new());
        };
        let segment = self
            .segments
            .iter()
            .find(|s| s.file.index() == first.segment)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "segment gone"))?;
        let start = u64::from(first.offset);
        let span = (u64::from(last.offset) + u64::from(last.len) - start) as usize;
        let bytes = segment.file.read_at(start, span)?;
        Ok(run
            .iter()
            .map(|entry| {
                let at = (u64::from(entry.offset) - start) as usize;
                match record::decode(bytes.get(at..)?) {
                    Decoded::Record(Record::Sample { seq, row }, _) if seq == entry.seq => {
                        Some(row.to_vec())
                    }
                    _ => None,
                }
            })
            .collect())
    }

    /// Deletes every segment but the current one whose samples are all at or below `floor`; returns how many
    /// went. A file that cannot be deleted is left for the next start to read and delete.
    pub fn remove_through(&mut self, floor: u64) -> usize {
        let mut removed = 0;
        while self.segments.len() > 1 && self.segments[0].highest <= floor {
            let segment = self.segments.remove(0);
            let path = self
                .dir
                .join(super::segment::segment_name(segment.file.index()));
            if let Err(error) = segment.file.remove() {
                tracing::warn!(%error, path = %path.display(), "could not delete an acknowledged segment");
                break;
            }
            removed += 1;
        }
        removed
    }

    fn active(&self) -> io::Result<&OpenSegment> {
        self.segments
            .last()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no segment"))
    }
}
