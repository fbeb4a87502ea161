//! Counting what a process asks of the kernel, with the kernel's own
//! tracepoints through `perf` (Linux; root or `perf_event_paranoid` ≤ -1):
//! its system calls by name, its context switches, and the bytes it wrote
//! to sockets. The process runs at full speed meanwhile: a tracepoint only
//! counts.
//!
//! Instructions (`callgrind.rs`) see only user space; these are the other
//! half of what a request costs, the half a hop adds most of.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde::Serialize;
use tokio::process::{Child, Command};

/// The families a system call is counted under, and the calls each holds.
/// Reads and writes count as the sockets', which use them; SQLite's files
/// use `pread64` and `pwrite64` (`file`). Every call not named here is
/// `other`, the difference between all calls and these.
pub const FAMILIES: &[(&str, &[&str])] = &[
    (
        "send",
        &["sendto", "sendmsg", "sendmmsg", "write", "writev"],
    ),
    (
        "receive",
        &["recvfrom", "recvmsg", "recvmmsg", "read", "readv"],
    ),
    (
        "poll",
        &[
            "epoll_wait",
            "epoll_pwait",
            "epoll_pwait2",
            "epoll_ctl",
            "poll",
            "ppoll",
        ],
    ),
    ("futex", &["futex", "futex_waitv"]),
    (
        "file",
        &[
            "pread64",
            "pwrite64",
            "fsync",
            "fdatasync",
            "openat",
            "close",
            "lseek",
            "fcntl",
            "newfstatat",
            "fstat",
            "ftruncate",
            "unlink",
        ],
    ),
    (
        "connection",
        &[
            "accept4",
            "connect",
            "socket",
            "shutdown",
            "setsockopt",
            "getsockopt",
            "getsockname",
            "getpeername",
        ],
    ),
];

/// What one process asked of the kernel over a window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KernelCounts {
    /// Every system call.
    pub syscalls: u64,
    /// By family ([`FAMILIES`], and `other`).
    pub by_family: BTreeMap<String, u64>,
    pub context_switches: u64,
    /// Bytes written to sockets (what `send`s returned).
    pub socket_bytes: u64,
}

impl KernelCounts {
    /// Each count times `factor`, rounded: an idle window's counts brought
    /// to a batch's length.
    pub fn scaled(&self, factor: f64) -> KernelCounts {
        let scale = |count: u64| (count as f64 * factor).round() as u64;
        KernelCounts {
            syscalls: scale(self.syscalls),
            by_family: self
                .by_family
                .iter()
                .map(|(family, count)| (family.clone(), scale(*count)))
                .collect(),
            context_switches: scale(self.context_switches),
            socket_bytes: scale(self.socket_bytes),
        }
    }

    /// `self - idle`, each count floored at zero.
    pub fn less(&self, idle: &KernelCounts) -> KernelCounts {
        let mut by_family = self.by_family.clone();
        for (family, count) in &mut by_family {
            *count = count.saturating_sub(idle.by_family.get(family).copied().unwrap_or(0));
        }
        KernelCounts {
            syscalls: self.syscalls.saturating_sub(idle.syscalls),
            by_family,
            context_switches: self.context_switches.saturating_sub(idle.context_switches),
            socket_bytes: self.socket_bytes.saturating_sub(idle.socket_bytes),
        }
    }
}

/// Whether `perf` can count tracepoints here.
pub async fn available() -> anyhow::Result<()> {
    let output = Command::new("perf")
        .args(["stat", "-x,", "-e", "raw_syscalls:sys_enter", "--", "true"])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "perf is not installed: the counting pass counts system calls with it \
                 (Debian: apt-get install linux-perf), or pass --no-count"
            )
        })?;
    if !output.status.success() {
        bail!(
            "perf cannot count the kernel's tracepoints here (run as root, or set \
             kernel.perf_event_paranoid to -1): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// `perf` counting one process until [`Tracer::finish`].
pub struct Tracer {
    stat: Child,
    record: Child,
    stat_file: PathBuf,
    record_file: PathBuf,
}

/// How long perf takes to attach to a process's threads before counting.
const ATTACH: Duration = Duration::from_millis(300);

impl Tracer {
    /// Starts counting the process `pid` (all its threads); files go to `dir`
    /// under `label`.
    pub async fn start(pid: u32, dir: &Path, label: &str) -> anyhow::Result<Self> {
        let stat_file = dir.join(format!("{label}.stat.csv"));
        let record_file = dir.join(format!("{label}.send.data"));
        let mut events = vec![
            "raw_syscalls:sys_enter".to_owned(),
            "context-switches".to_owned(),
        ];
        // Only the calls this kernel has (an architecture may lack one,
        // such as `fstat`): perf refuses a list with an unknown tracepoint.
        for (_, calls) in FAMILIES {
            for call in calls.iter().filter(|call| has_tracepoint(call)) {
                events.push(format!("syscalls:sys_enter_{call}"));
            }
        }
        let stat = attach(
            &["stat", "-x,", "--no-big-num", "-e", &events.join(","), "-o"],
            &stat_file,
            pid,
        )?;
        let record = attach(
            &["record", "-q", "-e", "sock:sock_send_length", "-o"],
            &record_file,
            pid,
        )?;
        tokio::time::sleep(ATTACH).await;
        Ok(Tracer {
            stat,
            record,
            stat_file,
            record_file,
        })
    }

    /// Stops counting and reads the counts.
    pub async fn finish(self) -> anyhow::Result<KernelCounts> {
        for child in [&self.stat, &self.record] {
            if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
            }
        }
        // Told to stop by SIGINT, perf writes its counts and exits as a
        // process interrupted does: its status says nothing; its file does.
        let stat = self.stat.wait_with_output().await?;
        let record = self.record.wait_with_output().await?;
        let text = std::fs::read_to_string(&self.stat_file).unwrap_or_default();
        let mut counts = parse_stat(&text).with_context(|| {
            format!(
                "perf stat: {}",
                String::from_utf8_lossy(&stat.stderr).trim()
            )
        })?;
        if !self.record_file.exists() {
            bail!(
                "perf record wrote nothing: {}",
                String::from_utf8_lossy(&record.stderr).trim()
            );
        }
        let script = Command::new("perf")
            .args(["script", "-F", "trace", "-i"])
            .arg(&self.record_file)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .await
            .context("cannot run perf script")?;
        counts.socket_bytes = sent_bytes(&String::from_utf8_lossy(&script.stdout));
        Ok(counts)
    }
}

/// `perf ARGS FILE -p PID`: perf attached to every thread of `pid`, writing
/// to `file` once told to stop (SIGINT).
fn attach(args: &[&str], file: &Path, pid: u32) -> anyhow::Result<Child> {
    Command::new("perf")
        .args(args)
        .arg(file)
        .arg("-p")
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start perf {}", args[0]))
}

/// Whether the kernel has a tracepoint for entering the system call `call`.
fn has_tracepoint(call: &str) -> bool {
    ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
        .iter()
        .any(|root| Path::new(&format!("{root}/events/syscalls/sys_enter_{call}")).exists())
}

/// The count of `raw_syscalls:sys_enter` in `perf stat -x,`'s output: every
/// system call of the command it ran.
pub fn total_from_stat(text: &str) -> anyhow::Result<u64> {
    Ok(parse_stat(text)?.syscalls)
}

/// Reads `perf stat -x,`'s lines: `COUNT,UNIT,EVENT,...`.
fn parse_stat(text: &str) -> anyhow::Result<KernelCounts> {
    let mut by_call = BTreeMap::new();
    let mut counts = KernelCounts::default();
    let mut seen_total = false;
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let mut fields = line.split(',');
        let (Some(count), Some(_unit), Some(event)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        // `<not counted>` and `<not supported>` count nothing.
        let count: u64 = count.trim().parse().unwrap_or(0);
        match event.trim() {
            "raw_syscalls:sys_enter" => {
                counts.syscalls = count;
                seen_total = true;
            }
            "context-switches" | "cs" => counts.context_switches = count,
            other => {
                if let Some(call) = other.strip_prefix("syscalls:sys_enter_") {
                    by_call.insert(call.to_owned(), count);
                }
            }
        }
    }
    if !seen_total {
        bail!("perf stat counted no system calls: {text:?}");
    }
    let mut named = 0;
    for (family, calls) in FAMILIES {
        let count: u64 = calls
            .iter()
            .map(|call| by_call.get(*call).copied().unwrap_or(0))
            .sum();
        named += count;
        counts.by_family.insert((*family).to_owned(), count);
    }
    counts
        .by_family
        .insert("other".to_owned(), counts.syscalls.saturating_sub(named));
    Ok(counts)
}

/// The bytes sent, summed over `perf script`'s `sock_send_length` lines
/// (`... length = 123, error = 0, ...`).
fn sent_bytes(script: &str) -> u64 {
    script
        .lines()
        .filter_map(|line| {
            let after = line.split("length = ").nth(1)?;
            after
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_stat_lines_are_counted_by_family_and_the_rest_is_other() {
        let text = "\
# started on Mon Dec  7 01:00:00 2026

120,,raw_syscalls:sys_enter,1000,100.00,,
7,,context-switches,1000,100.00,,
30,,syscalls:sys_enter_sendto,1000,100.00,,
10,,syscalls:sys_enter_writev,1000,100.00,,
40,,syscalls:sys_enter_recvfrom,1000,100.00,,
20,,syscalls:sys_enter_epoll_wait,1000,100.00,,
<not counted>,,syscalls:sys_enter_futex,0,0.00,,
";
        let counts = parse_stat(text).expect("perf's lines");
        assert_eq!(counts.syscalls, 120);
        assert_eq!(counts.context_switches, 7);
        assert_eq!(counts.by_family["send"], 40);
        assert_eq!(counts.by_family["receive"], 40);
        assert_eq!(counts.by_family["poll"], 20);
        assert_eq!(counts.by_family["futex"], 0);
        assert_eq!(counts.by_family["other"], 20);
        assert!(parse_stat("").is_err(), "no total, no figure");
    }

    #[test]
    fn sent_bytes_add_up_the_lengths_perf_script_prints() {
        let script = "\
sk address = 0xffff, family = AF_INET protocol = IPPROTO_TCP, length = 120, error = 0, flags = 0x0
sk address = 0xffff, family = AF_INET protocol = IPPROTO_TCP, length = 80, error = 0, flags = 0x40
";
        assert_eq!(sent_bytes(script), 200);
    }

    #[test]
    fn an_idle_window_is_taken_off_each_count() {
        let busy = KernelCounts {
            syscalls: 100,
            by_family: BTreeMap::from([("send".to_owned(), 50)]),
            context_switches: 10,
            socket_bytes: 1000,
        };
        let idle = KernelCounts {
            syscalls: 10,
            by_family: BTreeMap::from([("send".to_owned(), 60)]),
            context_switches: 2,
            socket_bytes: 0,
        };
        let less = busy.less(&idle);
        assert_eq!(less.syscalls, 90);
        assert_eq!(less.by_family["send"], 0, "floored at zero");
        assert_eq!(less.context_switches, 8);
    }
}
