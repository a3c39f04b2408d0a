//! CPU time of processes, from `/proc/<pid>/stat` (utime + stime, in clock ticks), so a
//! report can show who used the two cores during a measured window: the load generator
//! (`wrk`, or this process) and the server under load. A generator near the machine's
//! capacity would be measuring itself, not the server.

use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, read once; 100 on
/// Linux when it cannot be read).
fn ticks_per_s() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .filter(|t: &f64| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// CPU seconds (user + system, all threads, living and exited) in one `/proc/<pid>/stat`
/// line; `None` if it is not one. Fields 14 and 15 (utime, stime) count from the first
/// after the `)` closing the command name, which may itself hold spaces.
pub fn stat_cpu_s(stat: &str) -> Option<f64> {
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / ticks_per_s())
}

/// CPU seconds process `pid` has used so far; `None` once it is gone.
pub fn cpu_s(pid: u32) -> Option<f64> {
    stat_cpu_s(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// CPU seconds this process has used so far.
pub fn own_cpu_s() -> f64 {
    cpu_s(std::process::id()).unwrap_or(f64::NAN)
}

/// Cores of the machine (the denominator of a share).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// CPU a process used over a measured window.
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    /// CPU seconds (user + system) in the window.
    pub cpu_s: f64,
    /// The window, seconds of wall-clock time.
    pub window_s: f64,
}

impl CpuUse {
    /// `cpu_s` over `window`.
    pub fn new(cpu_s: f64, window: Duration) -> Self {
        Self {
            cpu_s,
            window_s: window.as_secs_f64(),
        }
    }

    /// Share of the whole machine: CPU seconds ÷ (window × cores), 0–1.
    pub fn machine_share(&self) -> f64 {
        self.cpu_s / (self.window_s * cores() as f64)
    }

    /// `{cpu_s, machine_share}`, rounded.
    pub fn json(&self) -> Value {
        json!({
            "cpu_s": crate::driver::round3(self.cpu_s),
            "machine_share": crate::driver::round3(self.machine_share()),
        })
    }

    /// `1.23 s (31 %)`.
    pub fn text(&self) -> String {
        format!(
            "{:.2} s ({:.0} %)",
            self.cpu_s,
            self.machine_share() * 100.0
        )
    }
}
