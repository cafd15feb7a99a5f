//! Unit tests of the sample store: order, acks, the bound, reload after a restart, damage, failing writes.

use serde_json::json;

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

fn data(n: u64) -> Map<String, Value> {
    match json!({"n": n, "battery": {"voltage": 53.2}}) {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn ts(n: u64) -> String {
    format!("2026-02-03T12:00:{:02}.000Z", n % 60)
}

fn fill(store: &SampleStore, count: u64) -> Vec<u64> {
    (1..=count)
        .map(|n| store.append(&ts(n), data(n)).expect("append"))
        .collect()
}

fn seqs(samples: &[Telemetry]) -> Vec<u64> {
    samples.iter().map(|s| s.seq).collect()
}

#[test]
fn a_new_store_has_a_random_epoch_and_starts_at_seq_1() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let a = SampleStore::open(&dir.path().join("a"), 10).expect("open");
    let b = SampleStore::open(&dir.path().join("b"), 10).expect("open");
    assert_eq!(a.epoch().len(), 16);
    assert!(a.epoch().bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a.epoch(), b.epoch());
    assert_eq!(a.next_seq(), 1);
    assert_eq!(a.len().expect("len"), 0);
    assert!(a.is_empty().expect("empty"));
    assert_eq!(a.acked_through().expect("acked"), 0);
    assert_eq!(a.dropped(), 0);
}

#[test]
fn appends_get_increasing_seqs_and_come_back_in_order() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = SampleStore::open(&dir.path().join("s"), 100).expect("open");
    assert_eq!(fill(&store, 5), [1, 2, 3, 4, 5]);
    let all = store.unacked(0, 100).expect("unacked");
    assert_eq!(seqs(&all), [1, 2, 3, 4, 5]);
    assert_eq!(all[2].ts, ts(3));
    assert_eq!(all[2].data, data(3));
    assert_eq!(all[2].epoch, store.epoch());
    assert_eq!(seqs(&store.unacked(2, 2).expect("unacked")), [3, 4]);
    assert!(store.unacked(5, 10).expect("unacked").is_empty());
}

#[test]
fn an_ack_removes_exactly_the_samples_it_covers() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = SampleStore::open(&dir.path().join("s"), 100).expect("open");
    fill(&store, 6);
    assert_eq!(store.ack_through(3).expect("ack"), 3);
    assert_eq!(store.len().expect("len"), 3);
    assert_eq!(store.acked_through().expect("acked"), 3);
    assert_eq!(seqs(&store.unacked(0, 10).expect("unacked")), [4, 5, 6]);
    assert_eq!(store.ack_through(2).expect("stale ack"), 0);
    assert_eq!(store.ack_through(99).expect("ack all"), 3);
    assert_eq!(store.acked_through().expect("acked"), 6);
    assert_eq!(store.append(&ts(7), data(7)).expect("append"), 7);
}

#[test]
fn a_full_store_drops_the_oldest_and_counts_them() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = SampleStore::open(&dir.path().join("s"), 4).expect("open");
    fill(&store, 7);
    assert_eq!(store.len().expect("len"), 4);
    assert_eq!(store.dropped(), 3);
    assert_eq!(seqs(&store.unacked(0, 10).expect("unacked")), [4, 5, 6, 7]);
    assert_eq!(store.acked_through().expect("acked"), 3);
}

#[test]
fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("s");
    let epoch = {
        let store = SampleStore::open(&path, 3).expect("open");
        fill(&store, 5);
        store.ack_through(3).expect("ack");
        store.persist().expect("persist");
        store.epoch()
    };
    let store = SampleStore::open(&path, 3).expect("reopen");
    assert_eq!(store.epoch(), epoch);
    assert_eq!(store.next_seq(), 6);
    assert_eq!(store.dropped(), 2);
    assert_eq!(seqs(&store.unacked(0, 10).expect("unacked")), [4, 5]);
    assert_eq!(store.append(&ts(6), data(6)).expect("append"), 6);
}

#[test]
fn appends_are_durable_without_an_explicit_persist() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("s");
    {
        let store = SampleStore::open(&path, 10).expect("open");
        fill(&store, 3);
        // An unpersisted ack may be lost: the samples come back and are resent, which the hub tolerates.
        store.ack_through(1).expect("ack");
    }
    let store = SampleStore::open(&path, 10).expect("reopen");
    assert_eq!(store.next_seq(), 4);
    let left = seqs(&store.unacked(0, 10).expect("unacked"));
    assert!(left == [1, 2, 3] || left == [2, 3], "{left:?}");
}

#[test]
fn a_missing_directory_is_created() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("a/b/s");
    let store = SampleStore::open(&path, 10).expect("open");
    assert_eq!(store.append(&ts(1), data(1)).expect("append"), 1);
    assert!(path.exists());
}

#[test]
fn a_store_open_twice_is_refused_with_its_path() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("s");
    let _first = SampleStore::open(&path, 10).expect("open");
    let error = SampleStore::open(&path, 10).expect_err("second open");
    assert!(error.to_string().contains("s"), "{error}");
}

fn options(capacity: u64) -> StoreOptions {
    StoreOptions {
        segment_bytes: MIN_SEGMENT_BYTES,
        ..StoreOptions::new(capacity)
    }
}

fn segment_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".seg"))
        .collect();
    names.sort();
    names
}

fn moved_aside(parent: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(parent)
        .expect("list")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.to_string_lossy().contains(".unreadable-"))
        .collect()
}

#[test]
fn a_sample_costs_one_sync_and_a_few_hundred_bytes_of_log() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = SampleStore::open(&dir.path().join("s"), 100).expect("open");
    let before = store.syncs();
    fill(&store, 10);
    store.ack_through(10).expect("ack");
    assert_eq!(
        store.syncs() - before,
        10,
        "one fdatasync per sample, none per ack"
    );
}

#[test]
fn segments_roll_over_and_acknowledged_ones_are_deleted() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("s");
    let store = SampleStore::open_with(&path, options(100_000)).expect("open");
    let big = |n: u64| match json!({"n": n, "pad": "x".repeat(2000)}) {
        Value::Object(map) => map,
        _ => unreachable!(),
    };
    for n in 1..=100 {
        store.append(&ts(n), big(n)).expect("append");
    }
    let before = segment_files(&path).len();
    assert!(before >= 3, "{before}");
    assert_eq!(
        seqs(&store.unacked(0, 500).expect("read")),
        (1..=100).collect::<Vec<_>>()
    );
    store.ack_through(90).expect("ack");
    let after = segment_files(&path).len();
    assert!(
        after < before && after <= 2,
        "only the segments with 91..100 are left: {after}"
    );
    drop(store);
    let store = SampleStore::open_with(&path, options(100_000)).expect("reopen");
    assert_eq!(
        seqs(&store.unacked(0, 500).expect("read")),
        (91..=100).collect::<Vec<_>>()
    );
    assert_eq!(store.next_seq(), 101);
}

#[test]
fn a_write_torn_by_a_power_cut_is_discarded_and_the_rest_kept() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("s");
    let epoch = {
        let store = SampleStore::open(&path, 100).expect("open");
        fill(&store, 3);
        store.epoch()
    };
    // Half a record after the last one: its magic, kind and a length, then nothing.
    let segment = path.join(&segment_files(&path)[0]);
    let bytes = std::fs::read(&segment).expect("read");
    let end = bytes.iter().rposition(|&b| b != 0).expect("written") + 1;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .expect("open");
    std::os::unix::fs::FileExt::write_all_at(&file, &[0xE7, 2, 200, 0, 0, 0, 1, 2], end as u64)
        .expect("tear");
    let store = SampleStore::open(&path, 100).expect("reopen");
    assert_eq!(store.epoch(), epoch);
    assert_eq!(seqs(&store.unacked(0, 10).expect("read")), [1, 2, 3]);
    assert_eq!(store.append(&ts(4), data(4)).expect("append"), 4);
    drop(store);
    let store = SampleStore::open(&path, 100).expect("reopen again");
    assert_eq!(seqs(&store.unacked(0, 10).expect("read")), [1, 2, 3, 4]);
    assert!(moved_aside(dir.path()).is_empty());
}

#[test]
fn a_truncated_store_is_moved_aside_and_a_new_epoch_starts() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("s");
    let epoch = {
        let store = SampleStore::open(&path, 100).expect("open");
        fill(&store, 3);
        store.epoch()
    };
    let segment = path.join(&segment_files(&path)[0]);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .expect("open");
    file.set_len(100).expect("truncate");
    drop(file);
    let store = SampleStore::open(&path, 100).expect("reopen");
    assert_ne!(store.epoch(), epoch);
    assert_eq!(store.next_seq(), 1);
    assert!(store.is_empty().expect("len"));
    let aside = moved_aside(dir.path());
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        segment_files(&aside[0]).len(),
        1,
        "the damaged segment is kept for inspection"
    );
}

#[test]
fn a_garbage_store_is_moved_aside_and_a_new_epoch_starts() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("s");
    std::fs::create_dir_all(&path).expect("dir");
    std::fs::write(
        path.join(segment::segment_name(0)),
        b"not a log at all".repeat(100),
    )
    .expect("garbage");
    let store = SampleStore::open(&path, 100).expect("open");
    assert_eq!(store.append(&ts(1), data(1)).expect("append"), 1);
    assert_eq!(moved_aside(dir.path()).len(), 1);
    assert!(!store.health().degraded);
}

#[test]
fn a_file_where_the_store_directory_belongs_is_moved_aside() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("samples.redb");
    std::fs::write(&path, b"redb\x1a\n an older agent's store").expect("file");
    let store = SampleStore::open(&path, 100).expect("open");
    assert_eq!(store.append(&ts(1), data(1)).expect("append"), 1);
    assert!(path.is_dir());
    let aside = moved_aside(dir.path());
    assert_eq!(aside.len(), 1);
    assert!(aside[0].is_file());
}

#[test]
fn failing_writes_keep_samples_in_memory_and_the_disk_takes_them_back() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("s");
    let opts = options(1000);
    let faults = opts.faults.clone();
    let store = SampleStore::open_with(&path, opts.clone()).expect("open");
    fill(&store, 2);
    faults.fail_next(1_000);
    for n in 3..=6 {
        assert_eq!(store.append(&ts(n), data(n)).expect("append"), n);
    }
    let health = store.health();
    assert!(health.degraded);
    assert!(health.errors >= 1);
    assert_eq!(health.in_memory, 4);
    assert_eq!(
        seqs(&store.unacked(0, 10).expect("read")),
        [1, 2, 3, 4, 5, 6]
    );
    store.ack_through(3).expect("ack while degraded");
    faults.fail_next(0);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(store.append(&ts(7), data(7)).expect("append"), 7);
    let health = store.health();
    assert!(!health.degraded, "{health:?}");
    assert_eq!(health.in_memory, 0);
    assert_eq!(seqs(&store.unacked(0, 10).expect("read")), [4, 5, 6, 7]);
    drop(store);
    let store = SampleStore::open_with(&path, opts).expect("reopen");
    assert_eq!(seqs(&store.unacked(0, 10).expect("read")), [4, 5, 6, 7]);
    assert_eq!(store.dropped(), 0);
}

#[test]
fn memory_is_bounded_while_the_disk_fails_and_what_it_drops_is_counted() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let opts = options(100_000);
    opts.faults.fail_next(u32::MAX);
    let store = SampleStore::open_with(&dir.path().join("s"), opts).expect("open");
    let big = |n: u64| match json!({"n": n, "pad": "x".repeat(10_000)}) {
        Value::Object(map) => map,
        _ => unreachable!(),
    };
    for n in 1..=200 {
        store.append(&ts(n), big(n)).expect("append");
    }
    let health = store.health();
    assert!(health.degraded);
    assert!(
        health.in_memory < 110 && health.in_memory > 90,
        "{health:?}"
    );
    assert_eq!(store.dropped() + health.in_memory, 200);
    let kept = seqs(&store.unacked(0, 500).expect("read"));
    assert_eq!(kept.last(), Some(&200), "the newest are kept");
    assert_eq!(
        store.acked_through().expect("floor"),
        200 - health.in_memory
    );
}

#[test]
fn a_store_that_cannot_be_created_runs_in_memory_and_says_so() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").expect("file");
    let store = SampleStore::open(&blocker.join("s"), 100).expect("open in memory");
    assert!(store.health().degraded);
    assert_eq!(fill(&store, 3), [1, 2, 3]);
    assert_eq!(seqs(&store.unacked(0, 10).expect("read")), [1, 2, 3]);
}

#[test]
fn grouped_syncs_reserve_seqs_so_a_crash_never_reuses_one() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("s");
    let opts = StoreOptions {
        sync_every: Duration::from_secs(3600),
        ..options(10_000)
    };
    {
        let store = SampleStore::open_with(&path, opts.clone()).expect("open");
        fill(&store, 50);
        assert!(
            store.syncs() <= 2,
            "one sync for the reservation, not one per sample"
        );
        // Dropped without persist: a crash.
    }
    let store = SampleStore::open_with(&path, opts.clone()).expect("reopen");
    assert!(
        store.next_seq() > 50 + 4000,
        "continues past the reservation: {}",
        store.next_seq()
    );
    let next = store.next_seq();
    store.append(&ts(1), data(1)).expect("append");
    store.persist().expect("persist");
    drop(store);
    let store = SampleStore::open_with(&path, opts).expect("reopen after a clean stop");
    assert_eq!(
        store.next_seq(),
        next + 1,
        "a clean stop releases the reservation"
    );
}

#[test]
fn a_sample_too_deep_to_read_back_is_dropped_not_fatal() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = SampleStore::open(&dir.path().join("s"), 100).expect("open");
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    store.append(&ts(1), data(1)).expect("append");
    let mut map = Map::new();
    map.insert("deep".into(), deep);
    store.append(&ts(2), map).expect("append");
    store.append(&ts(3), data(3)).expect("append");
    assert_eq!(seqs(&store.unacked(0, 10).expect("read")), [1]);
    assert_eq!(seqs(&store.unacked(1, 10).expect("read")), [3]);
    assert_eq!(store.dropped(), 1);
}
