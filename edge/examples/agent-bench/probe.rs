//! What the bench reads about a running agent: `/proc/<pid>/{io,status,task/*/schedstat}`, a block device's
//! `/sys/block/<dev>/stat` and the summary of `strace -c`. Parsers are pure functions of the file's text.

use std::collections::HashMap;

use anyhow::Context;

/// Counters of one agent process at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Snapshot {
    /// Bytes the process caused to be sent to the storage layer (`write_bytes` of `/proc/<pid>/io`).
    pub write_bytes: u64,
    /// Write system calls (`syscw`).
    pub write_calls: u64,
    /// CPU time of the live threads, ns (first field of each `/proc/<pid>/task/*/schedstat`).
    pub cpu_ns: u64,
    /// Sectors written to the whole device, when one is named (field 7 of `/sys/block/<dev>/stat`).
    pub device_sectors_written: Option<u64>,
    /// Write requests completed by the whole device (field 5).
    pub device_writes: Option<u64>,
}

impl Snapshot {
    /// Reads the counters of `pid`, and of block device `device` when given.
    pub fn take(pid: u32, device: Option<&str>) -> anyhow::Result<Self> {
        let io = std::fs::read_to_string(format!("/proc/{pid}/io"))
            .with_context(|| format!("reading /proc/{pid}/io"))?;
        let io = parse_proc_io(&io);
        let field = |key: &str| {
            io.get(key)
                .copied()
                .with_context(|| format!("no {key} in /proc/{pid}/io"))
        };
        let device_stat = match device {
            Some(dev) => Some(parse_block_stat(
                &std::fs::read_to_string(format!("/sys/block/{dev}/stat"))
                    .with_context(|| format!("reading /sys/block/{dev}/stat"))?,
            )?),
            None => None,
        };
        Ok(Self {
            write_bytes: field("write_bytes")?,
            write_calls: field("syscw")?,
            cpu_ns: thread_cpu_ns(pid)?,
            device_sectors_written: device_stat.map(|s| s.sectors_written),
            device_writes: device_stat.map(|s| s.writes),
        })
    }
}

/// `key: value` lines of `/proc/<pid>/io`.
pub fn parse_proc_io(text: &str) -> HashMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            Some((key.trim().to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

/// The write side of `/sys/block/<dev>/stat` (Documentation/block/stat.rst).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockWrites {
    /// Write requests completed (field 5).
    pub writes: u64,
    /// Sectors of 512 bytes written (field 7).
    pub sectors_written: u64,
}

/// Parses the whitespace-separated counters of `/sys/block/<dev>/stat`.
pub fn parse_block_stat(text: &str) -> anyhow::Result<BlockWrites> {
    let fields: Vec<u64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    match fields.as_slice() {
        [_, _, _, _, writes, _, sectors_written, ..] => Ok(BlockWrites {
            writes: *writes,
            sectors_written: *sectors_written,
        }),
        _ => anyhow::bail!("a block device stat has at least 7 fields: {text:?}"),
    }
}

/// Sum of the on-CPU time (ns) of the live threads of `pid`.
fn thread_cpu_ns(pid: u32) -> anyhow::Result<u64> {
    let tasks =
        std::fs::read_dir(format!("/proc/{pid}/task")).context("listing the agent's threads")?;
    let mut total = 0;
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
            total += parse_schedstat_ns(&text).unwrap_or(0);
        }
    }
    Ok(total)
}

/// First field of a `schedstat` line: time spent on the CPU, ns.
pub fn parse_schedstat_ns(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

/// (VmRSS, VmHWM) of `pid`, KiB.
pub fn memory_kib(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok((
        status_kib(&status, "VmRSS:")?,
        status_kib(&status, "VmHWM:")?,
    ))
}

/// One `Name:   1234 kB` field of `/proc/<pid>/status`.
pub fn status_kib(status: &str, name: &str) -> anyhow::Result<u64> {
    let line = status
        .lines()
        .find(|l| l.starts_with(name))
        .with_context(|| format!("no {name} in /proc/<pid>/status"))?;
    let kib = line.split_whitespace().nth(1).context("no value")?;
    Ok(kib.parse()?)
}

/// Calls of `syscalls` in the summary table that `strace -c` writes (columns: % time, seconds, usecs/call,
/// calls, [errors,] syscall). A syscall absent from the table made no calls.
pub fn strace_calls(summary: &str, syscalls: &[&str]) -> u64 {
    summary
        .lines()
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let name = *columns.last()?;
            if !syscalls.contains(&name) || columns.len() < 5 {
                return None;
            }
            columns[3].parse::<u64>().ok()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_io_fields() {
        let io = parse_proc_io(
            "rchar: 10\nwchar: 37208\nsyscr: 3\nsyscw: 13\nread_bytes: 0\nwrite_bytes: 41062\n",
        );
        assert_eq!((io["write_bytes"], io["syscw"]), (41_062, 13));
    }

    #[test]
    fn block_stat_write_fields() {
        let stat =
            "  4512  100  300000  900  7788  321  123456  4000  0  5000  6000  0 0 0 0  55  10\n";
        assert_eq!(
            parse_block_stat(stat).expect("parses"),
            BlockWrites {
                writes: 7788,
                sectors_written: 123_456
            }
        );
        assert!(parse_block_stat("1 2 3").is_err());
    }

    #[test]
    fn schedstat_and_status() {
        assert_eq!(parse_schedstat_ns("48912345 1200 77\n"), Some(48_912_345));
        let status = "Name:\tedge-agent\nVmHWM:\t    6012 kB\nVmRSS:\t    5940 kB\n";
        assert_eq!(status_kib(status, "VmRSS:").expect("present"), 5940);
        assert!(status_kib(status, "VmSwap:").is_err());
    }

    #[test]
    fn strace_summary_with_and_without_an_errors_column() {
        let summary = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 98.50    0.061000        1487        41           fdatasync
  1.50    0.000900         900         1         1 fsync
------ ----------- ----------- --------- --------- ----------------
100.00    0.061900        1473        42         1 total
";
        assert_eq!(strace_calls(summary, &["fsync", "fdatasync"]), 42);
        assert_eq!(strace_calls(summary, &["fdatasync"]), 41);
        assert_eq!(strace_calls("", &["fsync"]), 0);
    }
}
