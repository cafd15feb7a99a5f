//! The figures of one measured agent binary, derived from counters by pure arithmetic, and the Markdown table
//! that prints one or two of them side by side with their ratio.

use crate::probe::Snapshot;

/// Everything measured about one agent binary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// The binary, as given.
    pub binary: String,
    /// Its size on disk, bytes.
    pub size_bytes: u64,
    /// Its size after `strip`, when `strip` ran.
    pub stripped_bytes: Option<u64>,
    /// Samples the hub accepted in the 1 Hz window.
    pub samples: u64,
    /// The 1 Hz window's length, s.
    pub window_s: f64,
    /// Bytes written to disk by the process, per sample of the 1 Hz window.
    pub write_bytes_per_sample: f64,
    /// Write system calls per sample.
    pub write_calls_per_sample: f64,
    /// Bytes written by the whole device per sample, when a device was named.
    pub device_bytes_per_sample: Option<f64>,
    /// Write requests of the whole device per sample, when a device was named.
    pub device_writes_per_sample: Option<f64>,
    /// Percent of one core over the 1 Hz window.
    pub cpu_percent: f64,
    /// VmRSS at the end of the window, KiB.
    pub rss_kib: u64,
    /// VmHWM at the end of the window, KiB.
    pub hwm_kib: u64,
    /// fsync + fdatasync per hour at 1 Hz, when strace counted them.
    pub fsyncs_per_hour: Option<f64>,
    /// Why the fsyncs were not counted, when they were not.
    pub fsync_note: Option<String>,
    /// CPU per sample at 100 samples/s, µs.
    pub cpu_us_per_sample_fast: f64,
}

/// Per-sample and per-time figures from the counters at the start and end of a window.
pub struct Window {
    pub start: Snapshot,
    pub end: Snapshot,
    pub samples: u64,
    pub seconds: f64,
}

impl Window {
    /// Bytes the process wrote, per sample.
    pub fn write_bytes_per_sample(&self) -> f64 {
        per(self.end.write_bytes - self.start.write_bytes, self.samples)
    }

    /// Write system calls per sample.
    pub fn write_calls_per_sample(&self) -> f64 {
        per(self.end.write_calls - self.start.write_calls, self.samples)
    }

    /// Whole-device bytes (sectors × 512) and write requests per sample.
    pub fn device_per_sample(&self) -> (Option<f64>, Option<f64>) {
        let delta = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?));
        let sectors = delta(
            self.start.device_sectors_written,
            self.end.device_sectors_written,
        );
        let writes = delta(self.start.device_writes, self.end.device_writes);
        (
            sectors.map(|s| per(s * 512, self.samples)),
            writes.map(|w| per(w, self.samples)),
        )
    }

    /// Percent of one core.
    pub fn cpu_percent(&self) -> f64 {
        (self.end.cpu_ns - self.start.cpu_ns) as f64 / 1e9 / self.seconds * 100.0
    }

    /// CPU per sample, µs.
    pub fn cpu_us_per_sample(&self) -> f64 {
        per(self.end.cpu_ns - self.start.cpu_ns, self.samples) / 1e3
    }
}

fn per(amount: u64, samples: u64) -> f64 {
    amount as f64 / samples.max(1) as f64
}

/// Calls counted over `seconds`, scaled to an hour.
pub fn per_hour(calls: u64, seconds: f64) -> f64 {
    calls as f64 / seconds * 3600.0
}

/// One table row: a name and how to show a figure (None: not measured).
struct Row {
    name: &'static str,
    value: fn(&Figures) -> Option<f64>,
    unit: &'static str,
    digits: usize,
}

const ROWS: &[Row] = &[
    Row {
        name: "disk writes per sample (write_bytes, /proc/<pid>/io)",
        value: |f| Some(f.write_bytes_per_sample),
        unit: "B",
        digits: 0,
    },
    Row {
        name: "write syscalls per sample (syscw)",
        value: |f| Some(f.write_calls_per_sample),
        unit: "",
        digits: 1,
    },
    Row {
        name: "fsync + fdatasync per hour at 1 Hz (strace -f -c)",
        value: |f| f.fsyncs_per_hour,
        unit: "",
        digits: 0,
    },
    Row {
        name: "whole device: bytes per sample (/sys/block/<dev>/stat)",
        value: |f| f.device_bytes_per_sample,
        unit: "B",
        digits: 0,
    },
    Row {
        name: "whole device: write requests per sample",
        value: |f| f.device_writes_per_sample,
        unit: "",
        digits: 2,
    },
    Row {
        name: "CPU at 1 Hz (schedstat), % of a core",
        value: |f| Some(f.cpu_percent),
        unit: "%",
        digits: 3,
    },
    Row {
        name: "CPU per sample at 100 samples/s",
        value: |f| Some(f.cpu_us_per_sample_fast),
        unit: "µs",
        digits: 0,
    },
    Row {
        name: "resident memory at 1 Hz (VmRSS)",
        value: |f| Some(f.rss_kib as f64 / 1024.0),
        unit: "MiB",
        digits: 2,
    },
    Row {
        name: "peak resident memory (VmHWM)",
        value: |f| Some(f.hwm_kib as f64 / 1024.0),
        unit: "MiB",
        digits: 2,
    },
    Row {
        name: "binary size on disk",
        value: |f| Some(f.size_bytes as f64),
        unit: "B",
        digits: 0,
    },
    Row {
        name: "binary size stripped",
        value: |f| f.stripped_bytes.map(|b| b as f64),
        unit: "B",
        digits: 0,
    },
];

/// The Markdown table: one column per binary, then `new / baseline` when there are two.
pub fn table(figures: &[Figures]) -> String {
    let mut out = String::from("| measure |");
    for f in figures {
        out += &format!(" {} |", f.binary);
    }
    out += if figures.len() == 2 {
        " ratio |\n|---|"
    } else {
        "\n|---|"
    };
    out += &"---|".repeat(figures.len() + usize::from(figures.len() == 2));
    out.push('\n');
    for row in ROWS {
        out += &format!("| {} |", row.name);
        for f in figures {
            out += &format!(" {} |", cell(row, f));
        }
        if let [baseline, new] = figures {
            out += &format!(" {} |", ratio((row.value)(new), (row.value)(baseline)));
        }
        out.push('\n');
    }
    out.push('\n');
    for f in figures {
        out += &format!(
            "{}: 1 Hz window of {} samples in {:.0} s\n",
            f.binary, f.samples, f.window_s
        );
    }
    for f in figures {
        if let Some(why) = &f.fsync_note {
            out += &format!("fsyncs of {}: {why}\n", f.binary);
        }
    }
    out
}

fn cell(row: &Row, figures: &Figures) -> String {
    match (row.value)(figures) {
        Some(v) if row.unit.is_empty() => format!("{v:.*}", row.digits),
        Some(v) if row.unit == "%" => format!("{v:.*} %", row.digits),
        Some(v) => format!("{v:.*} {}", row.digits, row.unit),
        None => "not measured".into(),
    }
}

/// `new / baseline` as `0.10×`; a dash when either is missing or the baseline is zero.
pub fn ratio(new: Option<f64>, baseline: Option<f64>) -> String {
    match (new, baseline) {
        (Some(n), Some(b)) if b != 0.0 => format!("{:.2}×", n / b),
        _ => "–".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(write_bytes: u64, write_calls: u64, cpu_ns: u64, sectors: Option<u64>) -> Snapshot {
        Snapshot {
            write_bytes,
            write_calls,
            cpu_ns,
            device_sectors_written: sectors,
            device_writes: sectors.map(|s| s / 8),
        }
    }

    #[test]
    fn per_sample_figures_divide_the_deltas() {
        let window = Window {
            start: snapshot(1_000, 10, 1_000_000_000, Some(800)),
            end: snapshot(
                1_000 + 40 * 4096,
                10 + 40 * 3,
                1_060_000_000,
                Some(800 + 40 * 16),
            ),
            samples: 40,
            seconds: 40.0,
        };
        assert_eq!(window.write_bytes_per_sample(), 4096.0);
        assert_eq!(window.write_calls_per_sample(), 3.0);
        assert_eq!(window.device_per_sample(), (Some(8192.0), Some(2.0)));
        assert!((window.cpu_percent() - 0.15).abs() < 1e-12);
        assert!((window.cpu_us_per_sample() - 1500.0).abs() < 1e-9);
    }

    #[test]
    fn without_a_device_there_is_no_device_figure() {
        let window = Window {
            start: Snapshot::default(),
            end: Snapshot::default(),
            samples: 0,
            seconds: 1.0,
        };
        assert_eq!(window.device_per_sample(), (None, None));
        assert_eq!(
            window.write_bytes_per_sample(),
            0.0,
            "no samples divides by one, not zero"
        );
    }

    #[test]
    fn fsyncs_scale_to_an_hour() {
        assert_eq!(per_hour(20, 20.0), 3600.0);
    }

    #[test]
    fn ratios_and_missing_values() {
        assert_eq!(ratio(Some(4096.0), Some(40_960.0)), "0.10×");
        assert_eq!(ratio(None, Some(1.0)), "–");
        assert_eq!(ratio(Some(1.0), Some(0.0)), "–");
    }

    #[test]
    fn the_side_by_side_table_has_a_ratio_column() {
        let old = Figures {
            binary: "old".into(),
            write_bytes_per_sample: 41_062.0,
            fsyncs_per_hour: Some(3600.0),
            ..Figures::default()
        };
        let new = Figures {
            binary: "new".into(),
            write_bytes_per_sample: 4_106.2,
            fsync_note: Some("not measured (strace missing)".into()),
            ..Figures::default()
        };
        let table = table(&[old, new]);
        assert!(
            table.starts_with("| measure | old | new | ratio |\n|---|---|---|---|\n"),
            "{table}"
        );
        assert!(table.contains("| disk writes per sample (write_bytes, /proc/<pid>/io) | 41062 B | 4106 B | 0.10× |"), "{table}");
        assert!(table.contains("| 3600 | not measured | – |"), "{table}");
        assert!(
            table.contains("fsyncs of new: not measured (strace missing)"),
            "{table}"
        );
    }
}
