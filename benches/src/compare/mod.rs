//! `shoplab compare`: the lab's main command. The monolith, the
//! microservices and any grouping beside them (the modular monolith by
//! default) on fresh databases, the same seeded workloads against each, every figure as a
//! ratio measured in the same run: latency at equal load, maximum
//! throughput, CPU per request (per process for the services), start-up,
//! memory, binary sizes, the cost of a hop, and optionally build times. The
//! figures go to the terminal, to `result.json` and to `report.html`.
//!
//! The order of a run:
//! 1. start-up: each deployment started (and stopped) a few times on fresh
//!    databases, spawn to a passing `/health`;
//! 2. the floor (`shoplab-floor`) and both deployments started, pinned to
//!    the deployment's cores; each seeded through the public API and warmed;
//! 3. the generator's ceiling (`/hello` on the floor) and the floor's read;
//! 4. per workload: a closed loop on each deployment (maximum throughput,
//!    and CPU per request over it), then an open loop on each at a quarter
//!    of the slower one's maximum (latency at equal, light load);
//! 5. the hop: B, and what the gateway adds;
//! 6. the microservices again with each extra `--hop-delay-us`;
//! 7. the counting pass (`counting`): each deployment again, under
//!    callgrind (twice, the lower count kept) and then at full speed under
//!    the kernel's tracepoints, the same batch of each workload counted in
//!    instructions and system calls;
//! 8. with `--with-build`, build times.
//!
//! The two measured deployments keep hop logs (`<results>/logs/`, unless
//! `--no-hop-logs`), paused while anything is measured: logging every hop
//! costs more in the services (more hops) than in the monolith, and would
//! tilt the comparison. After each equal-load run, a short traced pass at
//! the same rate runs with them on; the report draws its slowest request as
//! its tree of hops (`shoplab trace`), so a slow tail is explained, not just
//! counted, and sets the pass's median beside the run's: what observing
//! every hop cost.

mod args;
mod bars;
pub mod claims;
pub mod containers;
pub mod counted;
pub mod figures;
pub mod hop;
pub mod html;
mod round;
pub(crate) mod runs;
pub(crate) mod start;
pub mod table;
mod terminal;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::deployment::{Deployment, Kind};
use crate::experiment::{
    self, build_profile, machine, source_root, until_interrupted, Experiment, Stamp,
};
use crate::load::{self, DataSet, Workload};
use crate::pin::Pinning;
use crate::process::Process;
use crate::progress::Step;
use crate::scratch::{Backend, Databases};
use crate::stats::median;
use figures::{CompareResult, HopFigures, WorkloadFigures, WorkloadRuns};
use round::{turns, Round};
use runs::{
    closed, closed_with_cpu, delayed, equal_load_rate, metered, run_of, seed_and_warm, OpenLoop,
};
use start::{deployment_figures, start, start_floor};

pub use args::{Args, RunArgs};
pub use start::hop_log_dir;

/// What `shoplab compare` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub bin_dir: PathBuf,
    pub backend: Backend,
    pub out: Option<PathBuf>,
    pub quick: bool,
    /// Each measured run's length.
    pub duration: Duration,
    pub warm_up: Duration,
    pub connections: usize,
    pub seed: u64,
    pub pinning: Option<Pinning>,
    /// The first is the main run's; each further one runs the services again.
    pub hop_delays_us: Vec<u64>,
    pub with_build: bool,
    pub workloads: Vec<Workload>,
    /// How many times each deployment is started for the start-up figure.
    pub startups: usize,
    /// Sequential requests per hop figure.
    pub hop_samples: usize,
    /// Whether the measured deployments write hop logs.
    pub hop_logs: bool,
    /// Whether the monolith and the microservices run again in containers.
    pub containers: bool,
    /// How many times the whole comparison runs.
    pub repeat: usize,
    /// The deployments, in the order every table shows them: the monolith
    /// and the microservices, and any groupings beside them.
    pub deployments: Vec<Kind>,
    /// Requests per batch of the counting pass (`counting`); `None`: no
    /// counting pass (`--no-count`).
    pub count_requests: Option<usize>,
}

/// The most requests the open loop keeps in flight: enough that a request
/// waits for a connection only when the deployment is saturated (at the
/// chosen rates, even with 1 ms added per hop, fewer than 10 are in flight),
/// few enough that a stall cannot turn into a storm of new connections.
pub(crate) const OPEN_LOOP_CONNECTIONS: usize = 64;

/// The longest traced pass after an equal-load run: long enough to catch a
/// slow request, short enough to add little to a run.
const TRACED_PASS: Duration = Duration::from_secs(2);

/// Products the floor serves (the deployments get the same number seeded).
const FLOOR_PRODUCTS: usize = 100;

/// Orders sent one at a time to measure the internal hop: four component
/// calls each.
const INTERNAL_HOP_ORDERS: usize = 100;

/// Runs the comparison (`repeat` times) and writes `result.json` and
/// `report.html` (of each run, in `run-N/`, when there are several).
pub async fn run(options: Options) -> anyhow::Result<()> {
    let machine = machine();
    eprintln!(
        "shoplab compare: {} on {} ({} cores), {}, {} build",
        options.backend.label(),
        machine.cpu_model,
        machine.cores,
        options
            .pinning
            .as_ref()
            .map_or("not pinned".to_owned(), Pinning::describe),
        build_profile(&options.bin_dir)
    );
    if options.containers {
        containers::check_engine().await?;
    }
    experiment::run(&options, options.repeat).await.map(drop)
}

impl Experiment for Options {
    type Result = CompareResult;
    const PREFIX: &'static str = "";
    const FILE: &'static str = "result.json";

    fn out(&self) -> Option<PathBuf> {
        self.out.clone()
    }

    async fn measure(
        &self,
        out: &Path,
        stamp: Stamp,
        earlier: &[CompareResult],
    ) -> anyhow::Result<CompareResult> {
        // Every run after the first sends its open loops at the first's
        // rates, so that each latency row compares the same load.
        let rates: Option<BTreeMap<String, f64>> = earlier.first().map(|first| {
            first
                .workloads
                .iter()
                .map(|figures| (figures.workload.clone(), figures.rate_rps))
                .collect()
        });
        let round = Round {
            stamp,
            out,
            rates: rates.as_ref(),
            index: earlier.len(),
        };
        let mut databases = Databases::new(&self.backend, "cmp");
        let measured = until_interrupted(measure(self, &mut databases, round)).await;
        databases.drop_all().await;
        let mut result = measured?;
        if self.with_build && earlier.is_empty() {
            let source = source_root();
            result.build = Some(
                tokio::task::spawn_blocking(move || {
                    crate::build_time::measure(&source, crate::build_time::Scope::default())
                })
                .await?
                .context("measuring build times")?,
            );
        }
        result.verdicts = claims::verdicts(&result);
        Ok(result)
    }

    fn files(&self, result: &CompareResult) -> Vec<(&'static str, String)> {
        vec![("report.html", html::render(result))]
    }

    fn render(&self, results: &[CompareResult]) {
        terminal::print(results);
        counted::print_layers(results);
        terminal::print_containers(results);
    }
}

/// Everything but the build: the deployments and the floor, run and stopped.
async fn measure(
    options: &Options,
    databases: &mut Databases,
    round: Round<'_>,
) -> anyhow::Result<CompareResult> {
    let mut startups: BTreeMap<Kind, Vec<f64>> = BTreeMap::new();
    let order = turns(options.deployments.len(), round.index);
    for kind in order.iter().map(|&at| options.deployments[at]) {
        let step = Step::begin(format!(
            "{}: start-up, {} starts on fresh databases",
            kind.label(),
            options.startups
        ));
        for index in 0..options.startups {
            let deployment =
                start(options, databases, kind, options.hop_delays_us[0], None).await?;
            startups
                .entry(kind)
                .or_default()
                .push(deployment.startup.as_secs_f64() * 1000.0);
            deployment.stop().await;
            step.set((index + 1) as f64 / options.startups as f64);
        }
        let samples = &startups[&kind];
        step.done(&format!("median {:.1} ms", median(samples)));
    }

    let step = Step::begin("starting the floor and the deployments");
    let floor = start_floor(options, databases).await?;
    let mut running = Vec::new();
    for &kind in &options.deployments {
        let logs = options.hop_logs.then(|| hop_log_dir(round.out, kind));
        running.push(start(options, databases, kind, options.hop_delays_us[0], logs).await?);
    }
    step.done("up");
    let out = round.out;
    let outcome = measure_running(options, databases, &floor, &running, &startups, round).await;
    floor.stop().await;
    for deployment in running {
        deployment.stop().await;
    }
    let mut result = outcome?;
    // With the timed deployments gone: the counting pass's have the cores.
    if let Some(requests) = options.count_requests {
        match crate::counting::available().await {
            Ok(()) => counted::measure(options, databases, out, requests, &mut result).await?,
            Err(why) => {
                let why = format!("{why:#}");
                eprintln!("shoplab compare: the counting pass is skipped: {why}");
                result.counting_skipped = Some(why);
            }
        }
    }
    if options.containers {
        // With the processes gone: the containers get the same cores.
        let http = load::http_client()?;
        result.containers = Some(containers::measure(options, &http, &result.workloads).await?);
    }
    Ok(result)
}

async fn measure_running(
    options: &Options,
    databases: &mut Databases,
    floor: &Process,
    running: &[Deployment],
    startups: &BTreeMap<Kind, Vec<f64>>,
    round: Round<'_>,
) -> anyhow::Result<CompareResult> {
    let out = round.out;
    let http = load::http_client()?;
    if options.hop_logs {
        // Paused for everything but the traced passes (`OpenLoop::traced`).
        for deployment in running {
            deployment.hop_logs(false);
        }
    }
    // Memory before any load: started, nothing served yet.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle: Vec<Vec<(String, u64)>> = running.iter().map(Deployment::rss_by_process).collect();

    let mut data_sets = Vec::new();
    for deployment in running {
        data_sets.push(seed_and_warm(options, &http, deployment).await?);
    }

    let step = Step::begin("the generator's ceiling (GET /hello on the floor)");
    let ceiling_run = run_of(options, &floor.url, Workload::Hello, closed(options));
    let generator_ceiling = load::drive(&http, &ceiling_run, &DataSet::default(), |share| {
        step.set(share)
    })
    .await?;
    step.done(&format!(
        "{:.0} req/s",
        generator_ceiling.all.throughput_rps
    ));

    let step = Step::begin("the floor: bare product read on the same stack");
    let floor_data = DataSet {
        users: Vec::new(),
        products: (1..=FLOOR_PRODUCTS as i64).collect(),
    };
    let floor_run = run_of(options, &floor.url, Workload::Read, closed(options));
    let floor_read = load::drive(&http, &floor_run, &floor_data, |share| step.set(share)).await?;
    step.done(&format!("{:.0} req/s", floor_read.all.throughput_rps));

    let mut load_rss: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); running.len()];
    let mut workloads = Vec::new();
    let order = turns(running.len(), round.index);
    for workload in &options.workloads {
        let mut closed_runs = BTreeMap::new();
        for &index in &order {
            let deployment = &running[index];
            let (report, cpu) =
                closed_with_cpu(options, &http, deployment, workload, &data_sets[index]).await?;
            for (name, bytes) in deployment.rss_by_process() {
                let peak = load_rss[index].entry(name).or_default();
                *peak = (*peak).max(bytes);
            }
            closed_runs.insert(index, (report, cpu));
        }
        let slower_max = closed_runs
            .values()
            .map(|(report, _)| report.all.throughput_rps)
            .fold(f64::INFINITY, f64::min);
        let rate = round
            .rates
            .and_then(|rates| rates.get(workload.name()).copied())
            .unwrap_or_else(|| equal_load_rate(slower_max));
        let mut runs = BTreeMap::new();
        for &index in &order {
            let (deployment, data) = (&running[index], &data_sets[index]);
            let Some((closed, cpu)) = closed_runs.remove(&index) else {
                continue;
            };
            let open_loop = OpenLoop {
                options,
                http: &http,
                deployment,
                workload,
                rate,
                data,
            };
            let open = open_loop.measure().await?;
            let traced = if options.hop_logs {
                let logs = hop_log_dir(out, deployment.kind);
                Some(open_loop.traced(&logs).await?)
            } else {
                None
            };
            runs.insert(
                deployment.kind.label(),
                WorkloadRuns {
                    closed,
                    open,
                    cpu,
                    traced,
                    counted: None,
                },
            );
        }
        workloads.push(WorkloadFigures {
            workload: workload.name().into(),
            rate_rps: rate,
            runs,
        });
    }

    let micro = running
        .iter()
        .position(|deployment| deployment.kind == Kind::Micro)
        .context("the microservices are not running")?;
    let step = Step::begin("the hop: B, and what the gateway adds");
    let hop = hop::measure(
        &floor.url,
        &running[micro].base_url,
        running[micro]
            .url_of("shoplab-catalog")
            .context("no catalog service")?,
        data_sets[micro].products[0],
        options.hop_samples,
        options
            .pinning
            .as_ref()
            .map(|pinning| pinning.deployment.clone()),
    )
    .await?;
    step.done(&format!(
        "B {:.3} ms, gateway hop {:.3} ms",
        hop.b_async_ms, hop.gateway_hop_ms
    ));
    // The internal hop needs component calls to measure, and the hop logs.
    let calls_components = workloads
        .iter()
        .any(|figures| matches!(figures.workload.as_str(), "order" | "mix"));
    let hop = if calls_components && options.hop_logs {
        let step = Step::begin("the internal hop: orders one at a time, read from the hop logs");
        let (internal_ms, calls) = hop::internal(
            &running[micro],
            hop_log_dir(out, Kind::Micro),
            &data_sets[micro],
            INTERNAL_HOP_ORDERS,
        )
        .await?;
        step.done(&format!(
            "{internal_ms:.3} ms, the median of {calls} component calls"
        ));
        HopFigures {
            internal_hop_ms: Some(internal_ms),
            internal_hop_over_b: Some(internal_ms / hop.b_async_ms),
            internal_hop_calls: calls,
            ..hop
        }
    } else {
        hop
    };

    let mut hop_delays = Vec::new();
    for &delay_us in options.hop_delays_us.iter().skip(1) {
        hop_delays.push(delayed(options, databases, &http, delay_us, &workloads).await?);
    }

    let metrics_on = metered(options, databases, &http, running, &data_sets).await?;

    let mut deployments = BTreeMap::new();
    for (index, deployment) in running.iter().enumerate() {
        let samples = startups.get(&deployment.kind).cloned().unwrap_or_default();
        let figures =
            deployment_figures(options, deployment, &idle[index], &load_rss[index], samples).await;
        deployments.insert(deployment.kind.label(), figures);
    }

    Ok(CompareResult {
        stamp: round.stamp,
        build_profile: build_profile(&options.bin_dir),
        pinning: options.pinning.clone(),
        seed: options.seed,
        storage: options.backend.name().into(),
        quick: options.quick,
        duration_s: options.duration.as_secs_f64(),
        connections: options.connections,
        generator_ceiling,
        floor_read,
        order: options
            .deployments
            .iter()
            .map(|kind| kind.label())
            .collect(),
        deployments,
        workloads,
        hop,
        hop_delays,
        metrics_on,
        build: None,
        containers: None,
        metrics_on_counted: Vec::new(),
        counting_skipped: None,
        verdicts: Vec::new(),
    })
}
