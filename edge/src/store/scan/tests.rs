//! Unit tests of reading segments back: the end, torn records, damage, and combining segments.

use super::*;
use crate::store::record::encode;

const SIZE: u64 = 4096;

fn header(index: u64, next_seq: u64, floor: u64) -> SegmentHeader {
    SegmentHeader {
        format: FORMAT_VERSION,
        epoch: "0011223344556677".into(),
        index,
        bytes: SIZE,
        next_seq,
        floor,
        dropped: 0,
        reserved: 0,
    }
}

fn segment(records: &[Record<'_>]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for record in records {
        encode(record, &mut bytes);
    }
    bytes.resize(SIZE as usize, 0);
    bytes
}

fn sample(seq: u64) -> Record<'static> {
    Record::Sample { seq, row: b"{}" }
}

#[test]
fn a_segment_reads_up_to_its_zeros() {
    let bytes = segment(&[
        Record::Header(header(0, 1, 0)),
        sample(1),
        sample(2),
        Record::Floor(1),
    ]);
    let scanned = scan_segment(0, &bytes).expect("scan");
    assert_eq!(
        scanned.samples.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(scanned.floor, 1);
    assert_eq!(scanned.torn, None);
    assert!(bytes[scanned.end as usize..].iter().all(|&b| b == 0));
}

#[test]
fn a_torn_record_ends_the_segment_and_is_reported() {
    let mut bytes = segment(&[Record::Header(header(0, 1, 0)), sample(1), sample(2)]);
    let second = scan_segment(0, &bytes).expect("scan").samples[1];
    bytes[second.offset as usize + 12] ^= 0xFF;
    let scanned = scan_segment(0, &bytes).expect("scan");
    assert_eq!(scanned.samples.len(), 1);
    assert_eq!(scanned.torn, Some("checksum mismatch"));
    assert_eq!(scanned.end, u64::from(second.offset));
}

#[test]
fn damage_is_named() {
    let good = segment(&[Record::Header(header(0, 1, 0))]);
    assert_eq!(
        scan_segment(0, &good[..1000]),
        Err(Damage::Size {
            index: 0,
            expected: SIZE,
            actual: 1000
        })
    );
    assert!(matches!(
        scan_segment(0, &[7u8; 64]),
        Err(Damage::NoHeader(0, _))
    ));
    assert!(matches!(scan_segment(3, &good), Err(Damage::Index(3, 0))));
    let wrong = segment(&[Record::Header(SegmentHeader {
        format: 99,
        ..header(0, 1, 0)
    })]);
    assert_eq!(scan_segment(0, &wrong), Err(Damage::Format(0, 99)));
    let first = segment(&[sample(1)]);
    assert!(matches!(
        scan_segment(0, &first),
        Err(Damage::NoHeader(0, _))
    ));
}

#[test]
fn segments_combine_into_the_samples_above_the_floor_each_once() {
    let a = scan_segment(
        0,
        &segment(&[
            Record::Header(header(0, 1, 0)),
            sample(1),
            sample(2),
            sample(3),
        ]),
    )
    .expect("a");
    // Sample 3 was rewritten into the next segment after a failed sync.
    let b = scan_segment(
        1,
        &segment(&[
            Record::Header(header(1, 4, 1)),
            sample(3),
            sample(4),
            Record::Floor(2),
        ]),
    )
    .expect("b");
    let state = recover(&[a, b]).expect("recover");
    assert_eq!(
        state.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [3, 4]
    );
    assert_eq!(state.entries[0].segment, 0, "the first copy counts");
    assert_eq!(state.floor, 2);
    assert_eq!(state.next_seq, 5);
    assert_eq!(state.segments, [(0, 3), (1, 4)]);
}

#[test]
fn a_reservation_moves_the_next_seq_past_it_and_a_release_does_not() {
    let held = scan_segment(
        0,
        &segment(&[
            Record::Header(header(0, 1, 0)),
            sample(1),
            Record::Reserve(5000),
        ]),
    )
    .expect("scan");
    assert_eq!(recover(&[held]).expect("recover").next_seq, 5001);
    let released = scan_segment(
        0,
        &segment(&[
            Record::Header(header(0, 1, 0)),
            Record::Reserve(5000),
            sample(1),
            Record::Reserve(0),
        ]),
    )
    .expect("scan");
    assert_eq!(recover(&[released]).expect("recover").next_seq, 2);
}

#[test]
fn segments_of_two_epochs_are_damage() {
    let a = scan_segment(0, &segment(&[Record::Header(header(0, 1, 0))])).expect("a");
    let other = SegmentHeader {
        epoch: "ffffffffffffffff".into(),
        ..header(1, 1, 0)
    };
    let b = scan_segment(1, &segment(&[Record::Header(other)])).expect("b");
    assert_eq!(recover(&[a, b]), Err(Damage::Epoch(1)));
}
