//! What the numbers were measured on: cores, CPU, how busy the machine was, and the wrangler (and so workerd)
//! that ran the hubs.

use std::fs;
use std::process::Command;

use hub_e2e::workspace;

/// The machine and the tools, described once for the report.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Logical cores this process may use.
    pub cores: usize,
    /// `model name` from /proc/cpuinfo, if there is one.
    pub cpu: Option<String>,
    /// `wrangler --version` of the pinned wrangler.
    pub wrangler: String,
}

impl Machine {
    /// Looks at this machine.
    pub fn here() -> Self {
        Self {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            cpu: fs::read_to_string("/proc/cpuinfo")
                .ok()
                .and_then(|info| cpu_model(&info)),
            wrangler: wrangler_version().unwrap_or_else(|| "unknown".to_owned()),
        }
    }
}

/// The 1-minute load average (runnable processes, averaged), if the kernel tells.
pub fn load_average() -> Option<f64> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

fn wrangler_version() -> Option<String> {
    let output = Command::new(workspace::wrangler())
        .arg("--version")
        .envs(workspace::WRANGLER_ENV)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    Some(line.split_whitespace().last()?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cpu_model() {
        let info = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: x\n";
        assert_eq!(cpu_model(info).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model("processor : 0\n"), None);
    }
}
