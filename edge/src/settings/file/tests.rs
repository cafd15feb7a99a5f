//! The settings file on a real directory: where it lives, what a write leaves behind, how bad files are read.

use super::*;

fn saved(every: u64, config: f64) -> SavedInterval {
    SavedInterval {
        sample_interval_secs: every,
        config_interval_secs: config,
    }
}

#[test]
fn the_file_lives_beside_the_store() {
    let beside = |store: &str| SettingsFile::beside(Path::new(store)).path().to_path_buf();
    assert_eq!(
        beside("/var/lib/edge-agent/samples"),
        Path::new("/var/lib/edge-agent/settings.json")
    );
    assert_eq!(beside("samples"), Path::new("./settings.json"));
    assert_eq!(beside("data/samples"), Path::new("data/settings.json"));
}

#[test]
fn a_write_replaces_the_file_whole_and_leaves_nothing_else() {
    let dir = tempfile::tempdir().expect("scratch");
    let file = SettingsFile::beside(&dir.path().join("samples"));
    assert_eq!(file.read(), Ok(None));
    file.write(&saved(5, 1.0)).expect("write");
    file.write(&saved(7, 1.0)).expect("write again");
    assert_eq!(file.read(), Ok(Some(saved(7, 1.0))));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(names, [FILE_NAME], "no temporary file is left");
    file.remove().expect("remove");
    assert_eq!(file.read(), Ok(None));
    file.remove().expect("removing no file is fine");
}

#[test]
fn a_corrupt_or_oversized_file_reads_as_a_reason() {
    let dir = tempfile::tempdir().expect("scratch");
    let file = SettingsFile::beside(&dir.path().join("samples"));
    for (text, why) in [
        ("{\"sample_interval_secs\": 5,".to_owned(), "EOF"),
        ("\u{0}\u{1}garbage".to_owned(), "expected value"),
        (
            format!("{{\"x\": \"{}\"}}", "y".repeat(5000)),
            "longer than 4096 bytes",
        ),
    ] {
        std::fs::write(file.path(), text).expect("write");
        let reason = file.read().expect_err("unreadable");
        assert!(reason.contains(why), "{reason}");
    }
    std::fs::remove_file(file.path()).expect("remove");
    std::fs::create_dir(file.path()).expect("a directory in its place");
    assert!(file.read().is_err());
}

#[tokio::test]
async fn at_start_a_stale_setting_is_removed_and_a_corrupt_one_kept() {
    let dir = tempfile::tempdir().expect("scratch");
    let file = SettingsFile::beside(&dir.path().join("samples"));
    let second = Duration::from_secs(1);
    file.write(&saved(5, 1.0)).expect("write");
    assert_eq!(
        interval_at_start(file.clone(), second).await,
        Duration::from_secs(5)
    );
    assert!(file.path().exists());
    assert_eq!(
        interval_at_start(file.clone(), 2 * second).await,
        2 * second
    );
    assert!(!file.path().exists(), "the stale setting is dropped");
    std::fs::write(file.path(), "not json").expect("write");
    assert_eq!(interval_at_start(file.clone(), second).await, second);
    assert!(
        file.path().exists(),
        "a corrupt file is left for inspection"
    );
}

#[tokio::test]
async fn the_saver_writes_the_newest_interval_last() {
    let dir = tempfile::tempdir().expect("scratch");
    let file = SettingsFile::beside(&dir.path().join("samples"));
    let (interval, current) = watch::channel(Duration::from_secs(1));
    let saver = IntervalSaver::new(file.clone(), Duration::from_millis(50), current);
    for seconds in 2..=40 {
        interval.send_replace(Duration::from_secs(seconds));
        saver.save_current();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while file.read() != Ok(Some(saved(40, 0.05))) {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", file.read());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        file.read(),
        Ok(Some(saved(40, 0.05))),
        "an older write came last"
    );
}
