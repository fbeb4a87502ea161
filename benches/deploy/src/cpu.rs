//! CPU time and memory of processes, read from `/proc` (Linux): what a
//! request costs the machine, in every process that served it.
//!
//! CPU time comes from the process's CPU clock (`clock_getcpuclockid`), the
//! scheduler's own account in nanoseconds of every thread the process has
//! run, the ones that have exited included: what `/proc/<pid>/schedstat`
//! says of one thread, summed over all of them. `/proc/<pid>/stat` counts
//! user and system time in clock ticks (1/100 s on Linux), which over a
//! short run is too coarse; it remains the fallback.

use std::time::Duration;

use nix::time::{clock_getcpuclockid, clock_gettime};
use nix::unistd::Pid;

/// User + system CPU time `pid` has used so far, to the nanosecond, or
/// `None` if it is gone.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let raw = i32::try_from(pid).ok()?;
    if let Ok(clock) = clock_getcpuclockid(Pid::from_raw(raw)) {
        if let Ok(spent) = clock_gettime(clock) {
            return Some(Duration::from(spent));
        }
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat)
}

/// Fields 14 and 15 of `/proc/<pid>/stat`, after the command name (which is
/// in parentheses and may itself hold spaces or parentheses).
fn parse_stat(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name come state (field 3) ... utime (14), stime (15).
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(ticks(utime + stime))
}

fn ticks(count: u64) -> Duration {
    let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|ticks| u64::try_from(ticks).ok())
        .filter(|ticks| *ticks > 0)
        .unwrap_or(100);
    Duration::from_nanos(count * 1_000_000_000 / per_second)
}

/// Resident memory of `pid` in bytes (`VmRSS`).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// How many threads `pid` has now (`Threads`).
pub fn threads(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("Threads:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The pids of every process whose command name is `name` (e.g. the
/// PostgreSQL server's `postgres` processes).
pub fn pids_named(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
        .collect()
}

/// CPU time of all processes named `name` together.
pub fn cpu_time_of_all(name: &str) -> Duration {
    pids_named(name).into_iter().filter_map(cpu_time).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_system_ticks_are_read_after_a_name_with_spaces() {
        let stat = "4242 (tokio (worker) 1) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0";
        assert_eq!(parse_stat(stat), Some(ticks(300)));
    }

    #[test]
    fn this_process_has_used_some_cpu_and_holds_some_memory() {
        let me = std::process::id();
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(50) {}
        assert!(cpu_time(me).is_some_and(|used| used > Duration::ZERO));
        assert!(rss_bytes(me).is_some_and(|bytes| bytes > 0));
        assert!(cpu_time(u32::MAX).is_none());
    }
}
