//! Unit tests of the sampler, under paused tokio time with a scripted sensor.

use serde_json::json;
use tokio::time::sleep;

use super::*;
use crate::sensors::SensorError;

/// Returns `reads[i]` on the i-th read: `Ok(n)` writes `{"n": n}`, `Err` fails; repeats the last.
struct Scripted {
    reads: Vec<Result<u64, ()>>,
    count: usize,
}

impl Sensor for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    fn read(&mut self, fields: &mut Map<String, Value>) -> Result<(), SensorError> {
        let index = self.count.min(self.reads.len() - 1);
        self.count += 1;
        match self.reads[index] {
            Ok(n) => {
                fields.insert("n".into(), json!(n));
                Ok(())
            }
            Err(()) => Err(SensorError::Config("scripted failure".into())),
        }
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<SampleStore>,
    interval: watch::Sender<Duration>,
    newest: watch::Receiver<u64>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn start(reads: Vec<Result<u64, ()>>, every: Duration) -> Harness {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = Arc::new(SampleStore::open(&dir.path().join("s"), 100).expect("store"));
    let (interval, interval_rx) = watch::channel(every);
    let (newest_tx, newest) = watch::channel(0);
    let (stop, stop_rx) = watch::channel(false);
    let sensor: Box<dyn Sensor> = Box::new(Scripted { reads, count: 0 });
    let sampler = Sampler::new(vec![sensor], Arc::clone(&store), interval_rx, newest_tx);
    let task = tokio::spawn(sampler.run(stop_rx));
    Harness {
        _dir: dir,
        store,
        interval,
        newest,
        stop,
        task,
    }
}

fn stored(store: &SampleStore) -> Vec<Map<String, Value>> {
    store
        .unacked(0, 100)
        .expect("unacked")
        .into_iter()
        .map(|s| s.data)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn samples_at_once_then_every_interval() {
    let h = start(vec![Ok(1), Ok(2), Ok(3), Ok(4)], Duration::from_secs(1));
    sleep(Duration::from_millis(3500)).await;
    assert_eq!(*h.newest.borrow(), 4);
    let data = stored(&h.store);
    assert_eq!(data.len(), 4);
    assert_eq!(
        data[1],
        json!({"n": 2, "dropped_samples": 0})
            .as_object()
            .cloned()
            .expect("object")
    );
    let samples = h.store.unacked(0, 10).expect("unacked");
    assert!(
        samples
            .iter()
            .all(|s| s.ts.ends_with('Z') && s.ts.len() == 24),
        "{}",
        samples[0].ts
    );
    h.stop.send_replace(true);
    h.task.await.expect("stops");
}

#[tokio::test(start_paused = true)]
async fn a_new_interval_applies_at_once() {
    let h = start(vec![Ok(1)], Duration::from_secs(10));
    sleep(Duration::from_millis(100)).await;
    assert_eq!(*h.newest.borrow(), 1);
    h.interval.send_replace(Duration::from_secs(2));
    sleep(Duration::from_millis(4500)).await;
    // The new ticker fires at once and then every 2 s: t=0.1, 2.1, 4.1.
    assert_eq!(*h.newest.borrow(), 4);
    h.stop.send_replace(true);
    h.task.await.expect("stops");
}

#[tokio::test(start_paused = true)]
async fn failed_reads_are_recorded_and_sampling_goes_on() {
    let h = start(vec![Ok(1), Err(()), Ok(3)], Duration::from_secs(1));
    sleep(Duration::from_millis(2500)).await;
    let data = stored(&h.store);
    assert_eq!(data.len(), 3);
    let errors = data[1]["sensor_errors"].as_array().expect("sensor_errors");
    let first = errors[0].as_str().expect("text");
    assert!(
        first.starts_with("scripted: ") && first.contains("scripted failure"),
        "{first}"
    );
    assert!(!data[2].contains_key("sensor_errors"));
    h.stop.send_replace(true);
    h.task.await.expect("stops");
}

/// Writes 12 strings of 1000 bytes under `bulk{self.0}_…`: a reading within every bound, a third of a sample.
struct Bulky(usize);

impl Sensor for Bulky {
    fn name(&self) -> &str {
        "bulky"
    }

    fn read(&mut self, fields: &mut Map<String, Value>) -> Result<(), SensorError> {
        for i in 0..12 {
            fields.insert(format!("bulk{}_{i}", self.0), json!("x".repeat(1000)));
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn an_oversized_sample_becomes_an_error_marker() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = Arc::new(SampleStore::open(&dir.path().join("s.redb"), 100).expect("store"));
    let (_interval, interval_rx) = watch::channel(Duration::from_secs(1));
    let (newest_tx, _newest) = watch::channel(0);
    let (stop, stop_rx) = watch::channel(false);
    // Each reading is within its bounds; together they pass MAX_SAMPLE_BYTES.
    let sensors: Vec<Box<dyn Sensor>> = (0..3).map(|i| Box::new(Bulky(i)) as _).collect();
    let task = tokio::spawn(
        Sampler::new(sensors, Arc::clone(&store), interval_rx, newest_tx).run(stop_rx),
    );
    sleep(Duration::from_millis(100)).await;
    let data = stored(&store);
    assert!(
        data[0]["sample_error"]
            .as_str()
            .is_some_and(|e| e.contains("exceeds")),
        "{:?}",
        data[0]
    );
    assert_eq!(data[0]["dropped_samples"], json!(0));
    stop.send_replace(true);
    task.await.expect("stops");
}

#[tokio::test(start_paused = true)]
async fn dropped_samples_are_counted_in_the_data() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let store = Arc::new(SampleStore::open(&dir.path().join("s"), 2).expect("store"));
    let (_interval, interval_rx) = watch::channel(Duration::from_secs(1));
    let (newest_tx, _newest) = watch::channel(0);
    let (stop, stop_rx) = watch::channel(false);
    let sensor: Box<dyn Sensor> = Box::new(Scripted {
        reads: vec![Ok(1)],
        count: 0,
    });
    let task = tokio::spawn(
        Sampler::new(vec![sensor], Arc::clone(&store), interval_rx, newest_tx).run(stop_rx),
    );
    sleep(Duration::from_millis(4500)).await;
    let data = stored(&store);
    assert_eq!(data.len(), 2);
    assert_eq!(data[1]["dropped_samples"], json!(2), "{data:?}");
    assert_eq!(store.dropped(), 3);
    stop.send_replace(true);
    task.await.expect("stops");
}
