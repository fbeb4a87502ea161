//! What every experiment shares, whatever it measures. Each has the same
//! shape ([`Experiment`]): options in (made from its arguments), one serde
//! result out of `measure`, then a table and verdicts from `render`. One
//! runner ([`run`]) does the rest alike for all: it owns the results folder,
//! stamps each run (when, on which machine, at which commit), writes the
//! result as JSON with any files that go beside it, and says what it wrote.

use std::future::Future;
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

/// One experiment: what it measures and how it shows it.
pub trait Experiment {
    /// Everything one run measured, as written to [`Experiment::FILE`].
    type Result: Serialize;
    /// The default results folder's name before its UTC timestamp
    /// (`chaos-` makes `results/chaos-2026-12-05T09-00-00Z/`).
    const PREFIX: &'static str;
    /// The result's file in the results folder (`chaos.json`).
    const FILE: &'static str;

    /// The results folder asked for (`--out`), if any.
    fn out(&self) -> Option<PathBuf>;

    /// One run. `out` is its folder (for files it writes as it goes, such
    /// as hop logs); `earlier` holds the runs before it, when it is
    /// repeated.
    fn measure(
        &self,
        out: &Path,
        stamp: Stamp,
        earlier: &[Self::Result],
    ) -> impl Future<Output = anyhow::Result<Self::Result>>;

    /// Files that go beside the result (a report, plots): names and contents.
    fn files(&self, _result: &Self::Result) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// The table and the verdicts, of one run or of several together.
    fn render(&self, results: &[Self::Result]);

    /// An error, once everything is written and shown, if a run does not
    /// stand (a result that measured nothing it claims to).
    fn check(&self, _results: &[Self::Result]) -> anyhow::Result<()> {
        Ok(())
    }
}

/// When a run started, at which commit and on which machine: every
/// experiment's result carries it, flattened into its JSON
/// (`#[serde(flatten)] pub stamp: Stamp`), so that a figure can always say
/// which run it came from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Stamp {
    pub shoplab_version: &'static str,
    /// The commit the sources were at (`-dirty` if they had changes).
    pub commit: Option<String>,
    pub started_at: String,
    pub machine: Machine,
}

impl Stamp {
    pub fn now() -> Stamp {
        Stamp {
            shoplab_version: env!("CARGO_PKG_VERSION"),
            started_at: now(),
            commit: commit(),
            machine: machine(),
        }
    }
}

/// Runs `experiment` `repeat` times, each run stamped and written (to the
/// results folder, or to its `run-N/` when there are several), then renders
/// them together and says what was written.
pub async fn run<E: Experiment>(experiment: &E, repeat: usize) -> anyhow::Result<Vec<E::Result>> {
    anyhow::ensure!(repeat > 0, "an experiment runs at least once");
    let out = results_dir(experiment.out(), E::PREFIX)?;
    let mut results = Vec::new();
    let mut written = Vec::new();
    for number in 1..=repeat {
        let dir = if repeat > 1 {
            eprintln!("\nrun {number} of {repeat}");
            let dir = out.join(format!("run-{number}"));
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir
        } else {
            out.clone()
        };
        let result = experiment.measure(&dir, Stamp::now(), &results).await?;
        written.push(write_json(&dir, E::FILE, &result)?);
        for (name, contents) in experiment.files(&result) {
            let path = dir.join(name);
            std::fs::write(&path, contents)
                .with_context(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
        results.push(result);
    }
    experiment.render(&results);
    let written: Vec<String> = written
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    println!("\nwritten: {}", written.join(" and "));
    experiment.check(&results)?;
    Ok(results)
}

/// Now, as RFC 3339 in UTC to the second: when a run started.
fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Creates the results folder: `out` if given, else
/// `results/<prefix><UTC timestamp>/`.
fn results_dir(out: Option<PathBuf>, prefix: &str) -> anyhow::Result<PathBuf> {
    let out = out.unwrap_or_else(|| {
        let now = now();
        PathBuf::from("results").join(format!("{prefix}{}", now.replace(':', "-")))
    });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the results folder {}", out.display()))?;
    Ok(out)
}

/// Writes `result` as pretty JSON to `out/name` and returns the file's path.
pub(crate) fn write_json(
    out: &Path,
    name: &str,
    result: &impl Serialize,
) -> anyhow::Result<PathBuf> {
    let path = out.join(name);
    let json =
        serde_json::to_string_pretty(result).with_context(|| format!("cannot encode {name}"))?;
    std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Runs `work` until it ends or Ctrl-C comes, whichever is first: Ctrl-C
/// stops it (its processes go with the dropped future, killed on drop) with
/// the error `interrupted`, so that what the caller cleans up afterwards (the
/// databases it created) is cleaned up either way.
pub async fn until_interrupted<T>(
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::select! {
        done = work => done,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    }
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
fn commit() -> Option<String> {
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
