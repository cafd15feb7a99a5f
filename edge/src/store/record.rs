//! The log's record format, pure: one framed, checksummed record per sample, acknowledgement or bookkeeping
//! entry, and a decoder that tells a valid record from the zeros after the last one and from damage.
//!
//! A record is `MAGIC`, a kind byte, the payload length (u32 LE), a CRC-32 (IEEE) of kind, length and payload
//! (u32 LE), then the payload. Segments are zero-filled in advance, so a zero byte where a record would start
//! is the end of the written part; anything else that does not check out is a torn or damaged record.

use serde::{Deserialize, Serialize};

/// First byte of every record; never zero, so the zero-filled rest of a segment reads as its end.
const MAGIC: u8 = 0xE7;

/// Bytes before the payload: magic, kind, length, checksum.
pub const RECORD_OVERHEAD: usize = 10;

/// The layout version written in every segment header; a reader refuses others.
pub const FORMAT_VERSION: u32 = 1;

/// The first record of every segment: the store's state when the segment was started, so a segment can be
/// read without the ones before it (they are deleted once acknowledged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentHeader {
    /// [`FORMAT_VERSION`].
    pub format: u32,
    /// The epoch of every seq in the store.
    pub epoch: String,
    /// The segment's number, also in its file name.
    pub index: u64,
    /// The segment file's size; a file of another size was truncated or replaced.
    pub bytes: u64,
    /// The seq the next sample gets.
    pub next_seq: u64,
    /// Every seq up to this one is acknowledged or dropped.
    pub floor: u64,
    /// Samples dropped since the store was created.
    pub dropped: u64,
    /// Seqs up to this one may have been sent before they were durable (0: none).
    pub reserved: u64,
}

/// One record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record<'a> {
    /// Starts a segment.
    Header(SegmentHeader),
    /// One sample: its seq and its row (`{"ts":…,"data":…}` as JSON).
    Sample {
        /// The sample's seq.
        seq: u64,
        /// The row's JSON.
        row: &'a [u8],
    },
    /// Every seq up to this one is acknowledged or dropped.
    Floor(u64),
    /// Seqs up to this one may be sent before they are durable; a restart continues after it (0 releases).
    Reserve(u64),
    /// Samples dropped since the store was created.
    Dropped(u64),
}

/// What the bytes at a record's position hold.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A valid record and its encoded length.
    Record(Record<'a>, usize),
    /// Zeros or the end of the buffer: nothing was written here.
    End,
    /// Bytes that are not a valid record: a torn write or damage.
    Invalid(&'static str),
}

const KIND_HEADER: u8 = 1;
const KIND_SAMPLE: u8 = 2;
const KIND_FLOOR: u8 = 3;
const KIND_RESERVE: u8 = 4;
const KIND_DROPPED: u8 = 5;

/// Appends `record`, framed and checksummed, to `out`.
pub fn encode(record: &Record<'_>, out: &mut Vec<u8>) {
    let (kind, payload): (u8, Vec<u8>) = match record {
        Record::Header(header) => (KIND_HEADER, serde_json::to_vec(header).unwrap_or_default()),
        Record::Sample { seq, row } => {
            let mut payload = Vec::with_capacity(8 + row.len());
            payload.extend_from_slice(&seq.to_le_bytes());
            payload.extend_from_slice(row);
            (KIND_SAMPLE, payload)
        }
        Record::Floor(seq) => (KIND_FLOOR, seq.to_le_bytes().to_vec()),
        Record::Reserve(seq) => (KIND_RESERVE, seq.to_le_bytes().to_vec()),
        Record::Dropped(count) => (KIND_DROPPED, count.to_le_bytes().to_vec()),
    };
    let len = u32::try_from(payload.len())
        .unwrap_or(u32::MAX)
        .to_le_bytes();
    let crc = checksum(kind, len, &payload);
    out.push(MAGIC);
    out.push(kind);
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&payload);
}

/// The encoded length of a sample record with a row of `row_len` bytes.
pub fn sample_record_len(row_len: usize) -> usize {
    RECORD_OVERHEAD + 8 + row_len
}

/// Reads the record at the start of `bytes`.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    match bytes.first() {
        None | Some(0) => return Decoded::End,
        Some(&MAGIC) => {}
        Some(_) => return Decoded::Invalid("no record marker"),
    }
    let Some(head) = bytes.get(..RECORD_OVERHEAD) else {
        return Decoded::Invalid("record header cut short");
    };
    let kind = head[1];
    let len = [head[2], head[3], head[4], head[5]];
    let crc = u32::from_le_bytes([head[6], head[7], head[8], head[9]]);
    let payload_len = u32::from_le_bytes(len) as usize;
    let Some(payload) = bytes.get(RECORD_OVERHEAD..RECORD_OVERHEAD + payload_len) else {
        return Decoded::Invalid("record cut short");
    };
    if checksum(kind, len, payload) != crc {
        return Decoded::Invalid("checksum mismatch");
    }
    match parse(kind, payload) {
        Some(record) => Decoded::Record(record, RECORD_OVERHEAD + payload_len),
        None => Decoded::Invalid("unknown or malformed record"),
    }
}

fn parse(kind: u8, payload: &[u8]) -> Option<Record<'_>> {
    let number = || Some(u64::from_le_bytes(payload.try_into().ok()?));
    match kind {
        KIND_HEADER => serde_json::from_slice(payload).ok().map(Record::Header),
        KIND_SAMPLE => {
            let (seq, row) = payload.split_at_checked(8)?;
            let seq = u64::from_le_bytes(seq.try_into().ok()?);
            Some(Record::Sample { seq, row })
        }
        KIND_FLOOR => number().map(Record::Floor),
        KIND_RESERVE => number().map(Record::Reserve),
        KIND_DROPPED => number().map(Record::Dropped),
        _ => None,
    }
}

fn checksum(kind: u8, len: [u8; 4], payload: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(&[kind]);
    crc.update(&len);
    crc.update(payload);
    crc.finish()
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), table-driven.
struct Crc32(u32);

/// The byte table of [`Crc32`], built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

impl Crc32 {
    fn new() -> Self {
        Self(0xFFFF_FFFF)
    }

    fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = CRC_TABLE[((self.0 ^ u32::from(byte)) & 0xFF) as usize] ^ (self.0 >> 8);
        }
    }

    fn finish(&self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(record: &Record<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        encode(record, &mut out);
        out
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The check value of CRC-32/ISO-HDLC over "123456789".
        let mut crc = Crc32::new();
        crc.update(b"123456789");
        assert_eq!(crc.finish(), 0xCBF4_3926);
    }

    #[test]
    fn every_kind_round_trips() {
        let header = SegmentHeader {
            format: FORMAT_VERSION,
            epoch: "00112233aabbccdd".into(),
            index: 7,
            bytes: 1 << 20,
            next_seq: 42,
            floor: 40,
            dropped: 3,
            reserved: 0,
        };
        let records = [
            Record::Header(header),
            Record::Sample {
                seq: 41,
                row: br#"{"ts":"t","data":{}}"#,
            },
            Record::Floor(40),
            Record::Reserve(5000),
            Record::Dropped(3),
        ];
        for record in records {
            let bytes = encoded(&record);
            assert_eq!(decode(&bytes), Decoded::Record(record.clone(), bytes.len()));
        }
    }

    #[test]
    fn a_sample_record_has_the_length_it_announces() {
        let bytes = encoded(&Record::Sample {
            seq: 1,
            row: b"abc",
        });
        assert_eq!(bytes.len(), sample_record_len(3));
    }

    #[test]
    fn zeros_and_the_end_of_the_buffer_are_the_end() {
        assert_eq!(decode(&[]), Decoded::End);
        assert_eq!(decode(&[0; 64]), Decoded::End);
    }

    #[test]
    fn damage_is_told_apart_from_the_end() {
        let bytes = encoded(&Record::Floor(9));
        let mut flipped = bytes.clone();
        flipped[RECORD_OVERHEAD] ^= 1;
        assert_eq!(decode(&flipped), Decoded::Invalid("checksum mismatch"));
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]),
            Decoded::Invalid("record cut short")
        );
        assert_eq!(
            decode(&bytes[..4]),
            Decoded::Invalid("record header cut short")
        );
        assert_eq!(
            decode(b"garbage!garbage!"),
            Decoded::Invalid("no record marker")
        );
    }

    #[test]
    fn a_huge_announced_length_is_cut_short_not_a_panic() {
        let mut bytes = encoded(&Record::Floor(9));
        bytes[2..6].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&bytes), Decoded::Invalid("record cut short"));
    }
}
