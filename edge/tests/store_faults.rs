//! The store on a failing disk and a damaged store, with the real agent against the fake hub: a full file system
//! (a small tmpfs filled to the brim, then freed), a truncated and a garbage store.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use edge_agent::store::{SampleStore, inspect};
use edge_agent::testing::{
    FakeHub, Mode, RunningAgent, assert_contiguous_from_1, config, device_token, prefill,
    scratch_dir, store_in,
};
use serde_json::Value;
use tokio::time::sleep;

const WAIT: Duration = Duration::from_secs(30);

/// A tmpfs of `kib` KiB mounted at `dir` while this lives.
struct SmallDisk(PathBuf);

impl SmallDisk {
    /// Mounts it, or `None` where this process may not mount (not root): the test then says so and passes.
    fn mount(dir: &Path, kib: u64) -> Option<Self> {
        std::fs::create_dir_all(dir).expect("mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|status| status.success());
        mounted.then(|| Self(dir.to_owned()))
    }

    /// Writes a file until the file system is full; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        let block = vec![0xAAu8; 4096];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Waits until the store's backlog on disk stays the same for a second while the agent samples at 100 Hz: the
/// disk is full. Returns that backlog.
async fn wait_until_the_backlog_stops_growing(store: &Path) -> u64 {
    let mut last = inspect(store).backlog;
    for _ in 0..30 {
        sleep(Duration::from_secs(1)).await;
        let now = inspect(store).backlog;
        if now == last && now > 0 {
            return now;
        }
        last = now;
    }
    panic!("the store kept growing on a full disk: {last}");
}

fn flags(samples: &[Value]) -> Vec<Option<bool>> {
    samples
        .iter()
        .map(|s| s["data"]["store_degraded"].as_bool())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_keeps_samples_in_memory_and_loses_none_once_space_returns() {
    let dir = scratch_dir();
    let Some(disk) = SmallDisk::mount(&dir.path().join("disk"), 1024) else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let mut hub = FakeHub::start(Mode::Accept).await;
    let store = dir.path().join("disk/store");
    let settings = [
        ("EDGE_SAMPLE_INTERVAL_SECS", "0.01"),
        ("EDGE_STORE__SEGMENT_KIB", "64"),
    ];
    let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store, &settings));
    hub.wait_for(WAIT, "samples on a healthy disk", |r| {
        r.accepted.len() >= 20
    })
    .await;
    // The hub goes away, the backlog grows on disk, and the disk fills up: the active segment runs out and no
    // new one can be made.
    hub.disappear();
    let filler = disk.fill();
    let on_disk = wait_until_the_backlog_stops_growing(&store).await;
    assert!(on_disk > 0, "the backlog was written while there was room");
    sleep(Duration::from_secs(1)).await;
    // Space returns; the store takes back what memory holds at its next retry, then the hub returns.
    std::fs::remove_file(&filler).expect("free the disk");
    sleep(Duration::from_secs(6)).await;
    assert!(
        inspect(&store).backlog > on_disk + 100,
        "what memory held is on disk now"
    );
    hub.come_back().await;
    hub.wait_for(WAIT, "the backlog and a healthy store again", |r| {
        r.accepted.len() > 500
            && r.accepted
                .last()
                .is_some_and(|s| s["data"]["store_degraded"] == false)
    })
    .await;
    agent.stop().await;

    let seqs = hub.accepted_seqs();
    assert_contiguous_from_1(&seqs);
    let record = hub.record();
    let flags = flags(&record.accepted);
    let first_degraded = flags.iter().position(|f| *f == Some(true));
    assert!(
        first_degraded.is_some(),
        "some samples said the store was degraded"
    );
    assert!(
        flags[..first_degraded.unwrap_or(0)]
            .iter()
            .all(Option::is_none),
        "a healthy store adds no fields"
    );
    let errors = record
        .accepted
        .iter()
        .filter_map(|s| s["data"]["store_errors"].as_u64())
        .max();
    assert!(errors.is_some_and(|n| n >= 1), "{errors:?}");
    assert!(
        record
            .accepted
            .iter()
            .all(|s| s["data"]["dropped_samples"] == 0),
        "nothing was dropped: the memory bound was never reached"
    );
    drop(record);
    let report = inspect(&store);
    assert_eq!(report.health, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_or_garbage_store_is_moved_aside_and_a_new_epoch_streams() {
    for damage in ["truncated", "garbage"] {
        let hub = FakeHub::start(Mode::Accept).await;
        let dir = scratch_dir();
        let store = store_in(&dir);
        prefill(&store, 10, 50);
        let old_epoch = SampleStore::open(&store, 100).expect("open").epoch();
        let segment = std::fs::read_dir(&store)
            .expect("list")
            .filter_map(|e| Some(e.ok()?.path()))
            .find(|p| p.extension().is_some_and(|x| x == "seg"))
            .expect("a segment");
        match damage {
            "truncated" => std::fs::OpenOptions::new()
                .write(true)
                .open(&segment)
                .and_then(|f| f.set_len(4096))
                .expect("truncate"),
            _ => std::fs::write(&segment, vec![0x5Au8; 1 << 20]).expect("overwrite"),
        }
        let agent = RunningAgent::start(config(&hub.url(), &device_token(), &store, &[]));
        hub.wait_for(WAIT, "samples of a new epoch", |r| r.accepted.len() >= 5)
            .await;
        agent.stop().await;
        let seqs = hub.accepted_seqs();
        assert_contiguous_from_1(&seqs);
        let record = hub.record();
        assert!(
            record
                .accepted
                .iter()
                .all(|s| s["epoch"] != old_epoch.as_str()),
            "{damage}: a new epoch"
        );
        let report = inspect(&store);
        assert_eq!(report.health, "ok", "{damage}");
        assert_eq!(report.moved_aside.len(), 1, "{damage}: kept for inspection");
        assert!(
            report.moved_aside[0]
                .join(segment.file_name().expect("name"))
                .exists(),
            "{damage}: the damaged segment is in the moved directory"
        );
    }
}
