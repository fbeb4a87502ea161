//! The counting pass: what a request costs, counted rather than timed, so
//! that a ratio repeats to the percent on any machine of a kind (the way
//! rustc-perf and SQLite track their own speed).
//!
//! For one deployment and each workload it sends the same `N` requests, one
//! at a time, on a deployment of its own each time:
//! 1. **instructions**, on two to four starts, the lowest count two starts
//!    agree on kept (see [`count`]): every
//!    process runs under callgrind (`setarch -R`, `--fair-sched=yes`,
//!    pinned to one core, its time limits lifted); after a warm-up each
//!    process's counters are zeroed, the batch is sent, the counters dumped;
//!    then an idle window, dumped the same way, is taken off (what the
//!    processes run with no request: timers, health checks), scaled to the
//!    batch's length. Each function's own instructions are mapped to a
//!    layer of the stack (`layers.rs`);
//! 2. **the kernel**: the processes at full speed, pinned the same way, ten
//!    batches' worth sent and counted back to one; the kernel's tracepoints
//!    count each one's system calls by kind, context switches and bytes
//!    sent to sockets (`syscalls.rs`), and its CPU clock the nanoseconds it
//!    ran; the same idle window is taken off.
//!
//! Every request of a batch must answer its expected status: a figure from
//! a batch with an error is refused, never printed. What a count cannot see
//! (the kernel's own work, cache misses; why counts differ between CPUs) is
//! in docs/INSTRUMENTS.md.

pub mod figures;
pub mod hop;
pub mod inspect;
pub mod layers;
mod send;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::callgrind::{self, file_name, Callgrind, Profile};
use crate::client::ShopClient;
use crate::deployment::{Deployment, Options as DeployOptions};
use crate::load::{DataSet, SeedSize, Workload};
use crate::progress::Step;
use crate::syscalls::{KernelCounts, Tracer};
pub use figures::{Counted, ProcessCount};
use layers::Layer;
use send::Batch;

/// How a counting pass runs.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Requests in each measured batch.
    pub requests: usize,
    /// Requests sent before a batch, not counted: connections opened,
    /// caches and pools filled, code paths taken once.
    pub warm_up: usize,
    /// The request stream's seed: the same seed, the same requests.
    pub seed: u64,
    /// Where the dumps and perf's files go (kept: a dump can be opened in
    /// any callgrind viewer, such as `callgrind_annotate`).
    pub dir: PathBuf,
    pub seed_size: SeedSize,
}

/// The longest idle window: background work is steady, so a few seconds
/// measure its rate, which is then scaled to the batch's length.
const IDLE_AT_MOST: Duration = Duration::from_secs(3);

/// Whether the tools a counting pass needs are here, or why not.
pub async fn available() -> anyhow::Result<()> {
    callgrind::available()?;
    crate::syscalls::available().await
}

/// How far apart the saga's recovery loop runs in a counting pass: its
/// passes are background work, not a request's, and one falling into a
/// batch or not moved the services' reads by up to 1%.
const RECOVERY_EVERY_MS: u64 = 600_000;

/// The most starts under callgrind a deployment gets, and how close two
/// starts' counts of a workload must be to confirm each other.
const STARTS_AT_MOST: usize = 4;
const STARTS_AGREE: f64 = 0.005;

/// Counts `workloads` on one deployment. `fresh` gives the options of a
/// fresh start of it, each on databases of its own: it is started under
/// callgrind (its `callgrind` is set here) until every workload's count has
/// been seen twice, within 0.5%, and at most [`STARTS_AT_MOST`] times; each
/// workload keeps the lowest count two starts agree on (the lowest of all
/// if none do). Then it is started once more natively, for the kernel's
/// counts. All on the same cores. Returns each workload's figures by its
/// name.
///
/// Why: a start's count of a read is one of a few levels about 2% apart.
/// In some starts actix's worker looks at a handler's blocking task once
/// more before it is done, on about half the requests, and each extra
/// poll adds instructions; a start now and then polls less. A level two
/// starts agree on is a state of the process, not a start's accident.
pub async fn count(
    plan: &Plan,
    mut fresh: impl FnMut() -> anyhow::Result<DeployOptions>,
    workloads: &[Workload],
) -> anyhow::Result<BTreeMap<String, Counted>> {
    let mut kernel = fresh()?;
    kernel.recovery_every_ms = Some(RECOVERY_EVERY_MS);
    let label = kernel.kind.label();
    let dir = plan.dir.join(kernel.kind.dir_name());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
    let http = crate::load::http_client()?;

    // Per workload, every start's count and profiles.
    let mut starts: Vec<Vec<(f64, Vec<ProcessProfile>)>> =
        workloads.iter().map(|_| Vec::new()).collect();
    for start in 1..=STARTS_AT_MOST {
        let mut options = fresh()?;
        options.recovery_every_ms = Some(RECOVERY_EVERY_MS);
        options.callgrind = Some(Callgrind { dir: dir.clone() });
        let step = Step::begin(format!(
            "{label}: counting instructions (under callgrind, start {start}, at most \
             {STARTS_AT_MOST})"
        ));
        let deployment = started(&options).await?;
        let profiles = Pass::Instructions
            .run(plan, &deployment, workloads, &http, &dir, &step)
            .await;
        deployment.stop().await;
        for (profile, counts) in profiles?.instructions.into_iter().zip(&mut starts) {
            counts.push((instructions(&profile), profile));
        }
        let confirmed = starts.iter().all(|counts| confirmed(counts).is_some());
        step.done(if confirmed {
            "counted; every count seen twice"
        } else {
            "counted"
        });
        if confirmed {
            break;
        }
    }
    let profiles: Vec<Vec<ProcessProfile>> = starts
        .into_iter()
        .filter_map(|mut counts| {
            let at = confirmed(&counts).or_else(|| lowest(&counts))?;
            Some(counts.swap_remove(at).1)
        })
        .collect();

    let step = Step::begin(format!(
        "{label}: counting system calls (kernel tracepoints)"
    ));
    let deployment = started(&kernel).await?;
    let kernels = Pass::Kernel
        .run(plan, &deployment, workloads, &http, &dir, &step)
        .await;
    deployment.stop().await;
    let kernels = kernels?.kernel;
    step.done("counted");

    let mut counted = BTreeMap::new();
    for ((workload, profile), kernel) in workloads.iter().zip(profiles).zip(kernels) {
        counted.insert(
            workload.name().to_owned(),
            Counted::from_counts(plan.requests, &profile, &kernel),
        );
    }
    Ok(counted)
}

/// Where in `counts` the lowest count is that another start agrees with,
/// within [`STARTS_AGREE`]: a state of the process seen twice, not a start
/// that happened to poll more (or less) than the others.
fn confirmed<T>(counts: &[(f64, T)]) -> Option<usize> {
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|&a, &b| counts[a].0.total_cmp(&counts[b].0));
    order
        .windows(2)
        .find(|pair| counts[pair[1]].0 - counts[pair[0]].0 <= STARTS_AGREE * counts[pair[0]].0)
        .map(|pair| pair[0])
}

/// Where in `counts` the lowest count is.
fn lowest<T>(counts: &[(f64, T)]) -> Option<usize> {
    (0..counts.len()).min_by(|&a, &b| counts[a].0.total_cmp(&counts[b].0))
}

/// Instructions per request alone (no kernel pass), each workload's batch
/// on a deployment started under callgrind from `options`: for a variant
/// set beside a full count (the deployments with metrics on).
pub async fn instructions_only(
    plan: &Plan,
    mut options: DeployOptions,
    workloads: &[Workload],
    what: &str,
) -> anyhow::Result<BTreeMap<String, f64>> {
    let dir = plan.dir.join(format!("{}-{what}", options.kind.dir_name()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
    options.callgrind = Some(Callgrind { dir: dir.clone() });
    options.recovery_every_ms = Some(RECOVERY_EVERY_MS);
    let http = crate::load::http_client()?;
    let step = Step::begin(format!(
        "{}, {what}: counting instructions (under callgrind)",
        options.kind.label()
    ));
    let deployment = started(&options).await?;
    let counted = Pass::Instructions
        .run(plan, &deployment, workloads, &http, &dir, &step)
        .await;
    deployment.stop().await;
    let by_workload = workloads
        .iter()
        .zip(counted?.instructions)
        .map(|(workload, profiles)| {
            (
                workload.name().to_owned(),
                instructions(&profiles) / plan.requests.max(1) as f64,
            )
        })
        .collect();
    step.done("counted");
    Ok(by_workload)
}

async fn started(options: &DeployOptions) -> anyhow::Result<Deployment> {
    Deployment::start(options)
        .await
        .with_context(|| format!("cannot start the {}", options.kind.label()))
}

/// The two passes over a deployment's workloads.
#[derive(Debug, Clone, Copy)]
enum Pass {
    Instructions,
    Kernel,
}

/// What one pass counted, workload by workload, per process: the pass
/// fills the half that is its own.
#[derive(Default)]
struct Counts {
    instructions: Vec<Vec<ProcessProfile>>,
    kernel: Vec<Vec<ProcessKernel>>,
}

impl Pass {
    /// Seeds `deployment`, then counts each workload in turn.
    async fn run(
        self,
        plan: &Plan,
        deployment: &Deployment,
        workloads: &[Workload],
        http: &reqwest::Client,
        dir: &Path,
        step: &Step,
    ) -> anyhow::Result<Counts> {
        let data = seed(plan, deployment).await?;
        let mut counts = Counts::default();
        for (index, workload) in workloads.iter().enumerate() {
            let batch = Batch::of_workload(http, &deployment.base_url, workload, &data, plan.seed)?;
            let pids = deployment.pids();
            match self {
                Pass::Instructions => counts
                    .instructions
                    .push(instructions_of(plan, &pids, &batch, dir).await?),
                Pass::Kernel => counts
                    .kernel
                    .push(kernel_of(plan, &pids, &batch, dir).await?),
            }
            step.set((index + 1) as f64 / workloads.len() as f64);
        }
        Ok(counts)
    }
}

async fn seed(plan: &Plan, deployment: &Deployment) -> anyhow::Result<DataSet> {
    let shop = ShopClient::new(&deployment.base_url);
    DataSet::seed(&shop, plan.seed_size, plan.seed, "count").await
}

/// Per process: its batch less its idle window, both as profiles.
pub struct ProcessProfile {
    pub name: String,
    pub batch: Profile,
    pub idle: Profile,
    /// Batch length ÷ idle window length: what the idle counts are scaled by.
    pub idle_scale: f64,
}

impl ProcessProfile {
    /// The batch's instructions less the idle window's, scaled: what
    /// [`layers_less_idle`]'s layers add up to (every function's own
    /// instructions add up to a dump's total), without mapping each
    /// function to its layer.
    pub fn instructions(&self) -> f64 {
        self.batch.instructions as f64 - self.idle.instructions as f64 * self.idle_scale
    }
}

/// The instructions of one batch on the processes `pids` (by name), each
/// under callgrind.
pub(crate) async fn instructions_of(
    plan: &Plan,
    pids: &[(String, u32)],
    batch: &Batch<'_>,
    dir: &Path,
) -> anyhow::Result<Vec<ProcessProfile>> {
    batch.warm_up(plan.warm_up).await?;
    for (_, pid) in pids {
        callgrind::zero(*pid).await?;
    }
    let started = Instant::now();
    batch.send(plan.requests).await?;
    let elapsed = started.elapsed();
    let mut batch_dumps = Vec::new();
    for (name, pid) in pids {
        batch_dumps.push(dump(dir, name, *pid).await?);
    }
    let idle = elapsed.min(IDLE_AT_MOST);
    let idle_started = Instant::now();
    tokio::time::sleep(idle).await;
    let mut idle_dumps = Vec::new();
    for (name, pid) in pids {
        idle_dumps.push(dump(dir, name, *pid).await?);
    }
    let idle_scale = elapsed.as_secs_f64() / idle_started.elapsed().as_secs_f64().max(1e-9);
    let mut profiles = Vec::new();
    for ((name, _), (batch_dump, idle_dump)) in
        pids.iter().zip(batch_dumps.into_iter().zip(idle_dumps))
    {
        profiles.push(ProcessProfile {
            name: name.clone(),
            batch: Profile::read(&batch_dump)?,
            idle: Profile::read(&idle_dump)?,
            idle_scale,
        });
    }
    Ok(profiles)
}

/// Dumps the counters of process `name` (`pid`) and returns the new dump's
/// path: callgrind numbers a process's dumps `.1`, `.2`, ...
async fn dump(dir: &Path, name: &str, pid: u32) -> anyhow::Result<PathBuf> {
    let before = dumps_of(dir, pid);
    callgrind::dump(pid).await?;
    let after = dumps_of(dir, pid);
    after
        .into_iter()
        .find(|path| !before.contains(path))
        .with_context(|| {
            format!(
                "callgrind wrote no dump for {name} (pid {pid}) in {}",
                dir.display()
            )
        })
}

/// The dumps of process `pid` in `dir` so far.
fn dumps_of(dir: &Path, pid: u32) -> Vec<PathBuf> {
    let marker = format!(".{pid}.");
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| {
                    path.file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| name.contains(&marker))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Per process: what the kernel counted over the batch, less the idle
/// window's (scaled to the batch's length), and the CPU time it ran.
pub struct ProcessKernel {
    pub name: String,
    pub counts: KernelCounts,
    pub cpu: Duration,
}

/// How many batches' worth of requests the kernel pass sends. It runs at
/// full speed, so it can afford more, and it needs them: whether a request
/// costs a futex call turns on timing (was the blocking pool's thread still
/// awake), so its count is an average, and ten times the requests steady it.
const KERNEL_BATCHES: usize = 10;

/// The system calls of one batch on the processes `pids` (by name), at
/// full speed: [`KERNEL_BATCHES`] batches sent, the counts divided back to
/// one.
pub(crate) async fn kernel_of(
    plan: &Plan,
    pids: &[(String, u32)],
    batch: &Batch<'_>,
    dir: &Path,
) -> anyhow::Result<Vec<ProcessKernel>> {
    batch.warm_up(plan.warm_up).await?;
    let workload = batch.name();
    // In the order of `pids`, as the counts below are.
    let cpu_times = || -> Vec<Duration> {
        pids.iter()
            .map(|(_, pid)| crate::cpu::cpu_time(*pid).unwrap_or_default())
            .collect()
    };
    let cpu_before = cpu_times();
    let window = Instant::now();
    let mut tracers = Vec::new();
    for (name, pid) in pids {
        tracers.push(Tracer::start(*pid, dir, &format!("{workload}-{}", file_name(name))).await?);
    }
    batch.send(plan.requests * KERNEL_BATCHES).await?;
    let mut busy = Vec::new();
    for tracer in tracers {
        busy.push(tracer.finish().await?);
    }
    let busy_window = window.elapsed();
    let cpu_after = cpu_times();

    let idle_started = Instant::now();
    let mut tracers = Vec::new();
    for (name, pid) in pids {
        tracers
            .push(Tracer::start(*pid, dir, &format!("{workload}-idle-{}", file_name(name))).await?);
    }
    tokio::time::sleep(
        busy_window
            .saturating_sub(idle_started.elapsed())
            .min(IDLE_AT_MOST),
    )
    .await;
    let mut idle = Vec::new();
    for tracer in tracers {
        idle.push(tracer.finish().await?);
    }
    let scale = busy_window.as_secs_f64() / idle_started.elapsed().as_secs_f64().max(1e-9);
    Ok(pids
        .iter()
        .zip(busy.into_iter().zip(idle))
        .zip(cpu_before.into_iter().zip(cpu_after))
        .map(
            |(((name, _), (busy, idle)), (before, after))| ProcessKernel {
                name: name.clone(),
                counts: busy
                    .less(&idle.scaled(scale))
                    .scaled(1.0 / KERNEL_BATCHES as f64),
                cpu: after.saturating_sub(before) / KERNEL_BATCHES as u32,
            },
        )
        .collect())
}

/// The instructions of one batch over all its processes, idle taken off.
pub(crate) fn instructions(profiles: &[ProcessProfile]) -> f64 {
    profiles.iter().map(ProcessProfile::instructions).sum()
}

/// Instructions by layer of one process's batch, less its idle window.
pub(crate) fn layers_less_idle(profile: &ProcessProfile) -> BTreeMap<Layer, f64> {
    let batch = layers::by_layer(&profile.batch);
    let idle = layers::by_layer(&profile.idle);
    Layer::ALL
        .iter()
        .map(|layer| {
            let busy = batch.get(layer).copied().unwrap_or(0) as f64;
            let quiet = idle.get(layer).copied().unwrap_or(0) as f64 * profile.idle_scale;
            (*layer, busy - quiet)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{confirmed, lowest};

    #[test]
    fn the_count_kept_is_the_lowest_two_starts_agree_on_not_a_lone_outlier() {
        let starts = [
            (75_075.0, 'a'),
            (73_385.0, 'b'),
            (74_758.0, 'c'),
            (74_736.0, 'd'),
        ];
        assert_eq!(confirmed(&starts), Some(3), "74,736 and 74,758 agree");
        assert_eq!(confirmed(&starts[..2]), None, "75,075 and 73,385 do not");
        assert_eq!(lowest(&starts[..2]), Some(1));
        assert_eq!(confirmed::<char>(&[]), None);
    }
}
