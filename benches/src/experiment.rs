//! What every experiment shares, whatever it measures: the results folder it
//! writes into, the stamp its result carries (when, on which machine, at
//! which commit, from which build) and the JSON file it leaves there.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use serde::Serialize;

/// The machine a run happens on: CPU model, cores, memory, OS.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub memory_bytes: Option<u64>,
    pub os: String,
}

/// Now, as RFC 3339 in UTC to the second: when a run started.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Creates the results folder: `out` if given, else
/// `results/<prefix><UTC timestamp>/`.
pub fn results_dir(out: Option<PathBuf>, prefix: &str) -> anyhow::Result<PathBuf> {
    let out = out.unwrap_or_else(|| {
        let now = now();
        PathBuf::from("results").join(format!("{prefix}{}", now.replace(':', "-")))
    });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the results folder {}", out.display()))?;
    Ok(out)
}

/// Writes `result` as pretty JSON to `out/name` and returns the file's path.
pub fn write_json(out: &Path, name: &str, result: &impl Serialize) -> anyhow::Result<PathBuf> {
    let path = out.join(name);
    let json =
        serde_json::to_string_pretty(result).with_context(|| format!("cannot encode {name}"))?;
    std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// `release` or `debug`, from the directory the binaries come from.
pub fn build_profile(bin_dir: &Path) -> &'static str {
    if bin_dir.ends_with("release") {
        "release"
    } else {
        "debug"
    }
}

/// The workspace's root, where the harness was built from.
pub fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The commit the sources are at (`-dirty` if they have changes).
pub fn commit() -> Option<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(source_root())
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let head = git(&["rev-parse", "HEAD"])?;
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|out| !out.is_empty());
    Some(if dirty { format!("{head}-dirty") } else { head })
}

/// The machine this run happens on.
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown".to_owned(), |(_, model)| model.trim().to_owned());
    let memory_bytes = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|meminfo| {
            let line = meminfo
                .lines()
                .find(|line| line.starts_with("MemTotal:"))?
                .to_owned();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map(|kib| kib * 1024);
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    Machine {
        cpu_model,
        // Every core the machine has online (the harness itself may be
        // pinned to fewer).
        cores: nix::unistd::sysconf(nix::unistd::SysconfVar::_NPROCESSORS_ONLN)
            .ok()
            .flatten()
            .and_then(|count| usize::try_from(count).ok())
            .unwrap_or(1),
        memory_bytes,
        os: format!("{} {}", std::env::consts::OS, release.trim()),
    }
}
