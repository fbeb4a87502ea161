//! `shoplab compare`: the lab's main command. Both deployments on fresh
//! databases, the same seeded workloads against each, every figure as a
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
//! 7. with `--with-build`, build times.
//!
//! The two measured deployments keep hop logs (`<results>/logs/`, unless
//! `--no-hop-logs`), paused while anything is measured: logging every hop
//! costs more in the services (more hops) than in the monolith, and would
//! tilt the comparison. After each equal-load run, a short traced pass at
//! the same rate runs with them on; the report draws its slowest request as
//! its tree of hops (`shoplab trace`), so a slow tail is explained, not just
//! counted, and sets the pass's median beside the run's: what observing
//! every hop cost.

pub mod claims;
pub mod figures;
pub mod hop;
pub mod html;
pub mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use shoplab_common::http::hop_log;

use crate::client::ShopClient;
use crate::deploy::{Deployment, Kind, Options as DeployOptions, Storage};
use crate::load::{self, DataSet, Mode, Report, Run, SeedSize, Workload};
use crate::pin::Pinning;
use crate::postgres;
use crate::process::Process;
use crate::progress::Step;
use crate::stats::median;
use crate::trace;
use figures::{
    CompareResult, CpuFigures, DelayFigures, DelayedRun, DeploymentFigures, HopFigures, Machine,
    MeteredRun, ProcessFigures, SlowestTrace, TracedPass, WorkloadFigures, WorkloadRuns,
};

/// Where the deployments keep their data during a comparison.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Fresh SQLite files in temporary directories (the default).
    Sqlite,
    /// Fresh databases on this server (`postgres://USER@HOST:PORT/ANY`),
    /// created under unique names and dropped afterwards.
    Postgres(String),
}

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
}

/// The deployments, in the order every table shows them.
const KINDS: [Kind; 2] = [Kind::Monolith, Kind::Micro];

/// The most requests the open loop keeps in flight: enough that a request
/// waits for a connection only when the deployment is saturated (at the
/// chosen rates, even with 1 ms added per hop, fewer than 10 are in flight),
/// few enough that a stall cannot turn into a storm of new connections.
const OPEN_LOOP_CONNECTIONS: usize = 64;

/// The longest traced pass after an equal-load run: long enough to catch a
/// slow request, short enough to add little to a run.
const TRACED_PASS: Duration = Duration::from_secs(2);

/// Products the floor serves (the deployments get the same number seeded).
const FLOOR_PRODUCTS: usize = 100;

/// Orders sent one at a time to measure the internal hop: four component
/// calls each.
const INTERNAL_HOP_ORDERS: usize = 100;

/// Runs the comparison and writes `result.json` and `report.html`.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let out = results_dir(options.out.clone(), "")?;
    let machine = machine();
    eprintln!(
        "shoplab compare: {} on {} ({} cores), {}, {} build",
        match &options.backend {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        },
        machine.cpu_model,
        machine.cores,
        options
            .pinning
            .as_ref()
            .map_or("not pinned".to_owned(), Pinning::describe),
        build_profile(&options.bin_dir)
    );
    let mut databases = Databases::new(&options.backend, "cmp");
    // Ctrl-C stops the run but not the clean-up: the processes go with the
    // dropped future (killed on drop), the databases are dropped below.
    let measured = tokio::select! {
        measured = measure(&options, &mut databases, Stamp { started_at, machine }, &out) => measured,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    databases.drop_all().await;
    let mut result = measured?;
    if options.with_build {
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
    let json = serde_json::to_string_pretty(&result)?;
    std::fs::write(out.join("result.json"), json).context("cannot write result.json")?;
    std::fs::write(out.join("report.html"), html::render(&result))
        .context("cannot write report.html")?;
    table::print(&result);
    println!(
        "\nwritten: {} and {}",
        out.join("result.json").display(),
        out.join("report.html").display()
    );
    Ok(())
}

/// Creates the results folder: `out` if given, else
/// `results/<prefix><UTC timestamp>/`.
pub fn results_dir(out: Option<PathBuf>, prefix: &str) -> anyhow::Result<PathBuf> {
    let out = out.unwrap_or_else(|| {
        let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        PathBuf::from("results").join(format!("{prefix}{}", now.replace(':', "-")))
    });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the results folder {}", out.display()))?;
    Ok(out)
}

/// Everything but the build: the deployments and the floor, run and stopped.
/// When and where a run happened: taken once, at its start.
struct Stamp {
    started_at: String,
    machine: Machine,
}

async fn measure(
    options: &Options,
    databases: &mut Databases,
    stamp: Stamp,
    out: &Path,
) -> anyhow::Result<CompareResult> {
    let mut startups: BTreeMap<Kind, Vec<f64>> = BTreeMap::new();
    for kind in KINDS {
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

    let step = Step::begin("starting the floor and both deployments");
    let floor = start_floor(options, databases).await?;
    let mut running = Vec::new();
    for kind in KINDS {
        let logs = options.hop_logs.then(|| hop_log_dir(out, kind));
        running.push(start(options, databases, kind, options.hop_delays_us[0], logs).await?);
    }
    step.done("up");
    let outcome =
        measure_running(options, databases, &floor, &running, &startups, stamp, out).await;
    floor.stop().await;
    for deployment in running {
        deployment.stop().await;
    }
    outcome
}

async fn measure_running(
    options: &Options,
    databases: &mut Databases,
    floor: &Process,
    running: &[Deployment],
    startups: &BTreeMap<Kind, Vec<f64>>,
    stamp: Stamp,
    out: &Path,
) -> anyhow::Result<CompareResult> {
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
    for workload in &options.workloads {
        let mut closed_runs = Vec::new();
        for (index, deployment) in running.iter().enumerate() {
            let (report, cpu) =
                closed_with_cpu(options, &http, deployment, workload, &data_sets[index]).await?;
            for (name, bytes) in deployment.rss_by_process() {
                let peak = load_rss[index].entry(name).or_default();
                *peak = (*peak).max(bytes);
            }
            closed_runs.push((report, cpu));
        }
        let slower_max = closed_runs
            .iter()
            .map(|(report, _)| report.all.throughput_rps)
            .fold(f64::INFINITY, f64::min);
        let rate = equal_load_rate(slower_max);
        let mut runs = BTreeMap::new();
        for ((deployment, (closed, cpu)), data) in running.iter().zip(closed_runs).zip(&data_sets) {
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
                deployment.kind.label().to_owned(),
                WorkloadRuns {
                    closed,
                    open,
                    cpu,
                    traced,
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
        let processes: Vec<ProcessFigures> = deployment
            .members()
            .into_iter()
            .map(|member| ProcessFigures {
                rss_idle_bytes: lookup(&idle[index], &member.name),
                rss_load_bytes: load_rss[index]
                    .get(&member.name)
                    .copied()
                    .unwrap_or_default(),
                binary_bytes: binary_size(&options.bin_dir, &member.name),
                startup_ms: member.startup.as_secs_f64() * 1000.0,
                name: member.name,
            })
            .collect();
        deployments.insert(
            deployment.kind.label().to_owned(),
            DeploymentFigures {
                rss_idle_bytes: processes.iter().map(|process| process.rss_idle_bytes).sum(),
                rss_load_bytes: processes.iter().map(|process| process.rss_load_bytes).sum(),
                binary_bytes: processes.iter().map(|process| process.binary_bytes).sum(),
                startup_median_ms: median(&samples),
                startup_ms: samples,
                processes,
            },
        );
    }

    Ok(CompareResult {
        shoplab_version: env!("CARGO_PKG_VERSION"),
        commit: commit(),
        started_at: stamp.started_at,
        machine: stamp.machine,
        build_profile: build_profile(&options.bin_dir),
        pinning: options.pinning.clone(),
        seed: options.seed,
        storage: match options.backend {
            Backend::Sqlite => "sqlite".into(),
            Backend::Postgres(_) => "postgres".into(),
        },
        quick: options.quick,
        duration_s: options.duration.as_secs_f64(),
        connections: options.connections,
        generator_ceiling,
        floor_read,
        deployments,
        workloads,
        hop,
        hop_delays,
        metrics_on,
        build: None,
        verdicts: Vec::new(),
    })
}

/// The open-loop rate for a workload: a quarter of the slower deployment's
/// maximum, so both are measured at the same light load, where a median
/// shows what a request costs rather than how long it queued (at half the
/// maximum, on one core, the services' medians moved by half from run to
/// run); rounded down to two significant digits so the report reads cleanly.
fn equal_load_rate(slower_max: f64) -> f64 {
    let quarter = (slower_max / 4.0).max(1.0);
    let magnitude = 10f64.powf(quarter.log10().floor() - 1.0);
    ((quarter / magnitude).floor() * magnitude).max(1.0)
}

/// A closed-loop run with the CPU time each process (and the PostgreSQL
/// server) spent over it.
async fn closed_with_cpu(
    options: &Options,
    http: &reqwest::Client,
    deployment: &Deployment,
    workload: &Workload,
    data: &DataSet,
) -> anyhow::Result<(Report, CpuFigures)> {
    let step = Step::begin(format!(
        "{}: {}, closed loop, {} connections",
        deployment.kind.label(),
        workload.name(),
        options.connections
    ));
    let run = run_of(
        options,
        &deployment.base_url,
        workload.clone(),
        closed(options),
    );
    let database_before = database_server_cpu(options);
    let generator_before = own_cpu();
    let before = deployment.cpu_times();
    let report = load::drive(http, &run, data, |share| step.set(share)).await?;
    let after = deployment.cpu_times();
    let generator_spent = own_cpu().saturating_sub(generator_before);
    let database_after = database_server_cpu(options);
    let generator_cores = options.pinning.as_ref().map_or_else(
        || crate::pin::usable_cores().len(),
        |pinning| pinning.generator.len(),
    );
    let requests = report.all.requests.max(1);
    let per_request = |spent: Duration| spent.as_secs_f64() * 1e6 / requests as f64;
    let mut by_process_us = BTreeMap::new();
    for ((name, then), (_, now)) in before.into_iter().zip(after) {
        by_process_us.insert(name, per_request(now.saturating_sub(then)));
    }
    let cpu = CpuFigures {
        requests: report.all.requests,
        us_per_request: by_process_us.values().sum(),
        by_process_us,
        database_server_us: database_before
            .zip(database_after)
            .map(|(then, now)| per_request(now.saturating_sub(then))),
        generator_busy: generator_spent.as_secs_f64()
            / (report.elapsed_s * generator_cores.max(1) as f64).max(f64::EPSILON),
    };
    step.done(&format!(
        "{:.0} req/s, {:.0} µs CPU/request",
        report.all.throughput_rps, cpu.us_per_request
    ));
    Ok((report, cpu))
}

/// An equal-load run: one workload at one rate against one deployment.
struct OpenLoop<'a> {
    options: &'a Options,
    http: &'a reqwest::Client,
    deployment: &'a Deployment,
    workload: &'a Workload,
    rate: f64,
    data: &'a DataSet,
}

impl OpenLoop<'_> {
    /// The measured run: `--duration` long.
    async fn measure(&self) -> anyhow::Result<Report> {
        self.run(self.options.duration, "").await
    }

    /// The traced pass after it: the same rate, with hop logs on, for at
    /// most [`TRACED_PASS`]; then its slowest request is read from the logs
    /// in `logs` (now: later runs may fill them and move this one aside).
    async fn traced(&self, logs: &Path) -> anyhow::Result<TracedPass> {
        let duration = self.options.duration.min(TRACED_PASS);
        self.deployment.hop_logs(true);
        let traced = self.run(duration, ", traced").await;
        self.deployment.hop_logs(false);
        let traced = traced?;
        // Every line logged is on disk within this.
        tokio::time::sleep(2 * hop_log::FLUSH_EVERY).await;
        Ok(TracedPass {
            duration_s: duration.as_secs_f64(),
            p50_ms: traced.all.latency_ms.p50,
            slowest: slowest_trace(&traced, logs),
        })
    }

    async fn run(&self, duration: Duration, what: &str) -> anyhow::Result<Report> {
        let (deployment, workload, rate) = (self.deployment, self.workload, self.rate);
        let step = Step::begin(format!(
            "{}: {}, open loop at {rate:.0} req/s{what}",
            deployment.kind.label(),
            workload.name()
        ));
        let run = Run {
            duration,
            ..run_of(
                self.options,
                &deployment.base_url,
                workload.clone(),
                Mode::Open {
                    rate,
                    connections: OPEN_LOOP_CONNECTIONS,
                },
            )
        };
        let report = load::drive(self.http, &run, self.data, |share| step.set(share)).await?;
        step.done(&format!(
            "p50 {:.3} ms, p99 {:.3} ms",
            report.all.latency_ms.p50, report.all.latency_ms.p99
        ));
        Ok(report)
    }
}

/// Seeds the data set into `deployment` through its public API, then warms
/// it up with the mix, in a closed loop.
async fn seed_and_warm(
    options: &Options,
    http: &reqwest::Client,
    deployment: &Deployment,
) -> anyhow::Result<DataSet> {
    let label = deployment.kind.label();
    let step = Step::begin(format!("{label}: seeding the data set"));
    let shop = ShopClient::new(&deployment.base_url);
    let data = DataSet::seed(&shop, seed_size(), options.seed, "compare").await?;
    step.done(&format!(
        "{} users, {} products",
        data.users.len(),
        data.products.len()
    ));
    let step = Step::begin(format!("{label}: warming up (mix)"));
    let warm = Run {
        duration: options.warm_up,
        ..run_of(
            options,
            &deployment.base_url,
            Workload::Mix(Default::default()),
            closed(options),
        )
    };
    let report = load::drive(http, &warm, &data, |share| step.set(share)).await?;
    step.done(&format!("{:.0} req/s", report.all.throughput_rps));
    Ok(data)
}

/// Both deployments again with metrics on (every process with a
/// `/metrics` endpoint, as `shoplab up` runs them): each workload's closed
/// loop on it, right beside the same loop on the main run's deployment
/// (metrics off), the two in turns (off then on, then on then off), so that
/// the machine's drift over the minutes of a run does not pass for what
/// observing costs.
async fn metered(
    options: &Options,
    databases: &mut Databases,
    http: &reqwest::Client,
    running: &[Deployment],
    data_sets: &[DataSet],
) -> anyhow::Result<Vec<MeteredRun>> {
    let mut runs = Vec::new();
    for (plain, plain_data) in running.iter().zip(data_sets) {
        let kind = plain.kind;
        let label = kind.label();
        let step = Step::begin(format!("{label} with metrics on: starting"));
        let mut deploy = deploy_options(options, databases, kind, options.hop_delays_us[0], None)?;
        deploy.metrics = true;
        let metered = Deployment::start(&deploy)
            .await
            .with_context(|| format!("cannot start the {label} with metrics on"))?;
        step.done("up");
        let outcome = async {
            let metered_data = seed_and_warm(options, http, &metered).await?;
            for (index, workload) in options.workloads.iter().enumerate() {
                let mut off_then_on = [(plain, plain_data), (&metered, &metered_data)];
                if index % 2 == 1 {
                    off_then_on.reverse();
                }
                let mut rps = [0.0; 2];
                for (deployment, data) in off_then_on {
                    let (closed, _) =
                        closed_with_cpu(options, http, deployment, workload, data).await?;
                    rps[usize::from(std::ptr::eq(deployment, &metered))] =
                        closed.all.throughput_rps;
                }
                let [without_rps, with_rps] = rps;
                runs.push(MeteredRun {
                    deployment: label.to_owned(),
                    workload: workload.name().to_owned(),
                    without_rps,
                    with_rps,
                    cost: 1.0 - with_rps / without_rps.max(f64::EPSILON),
                });
            }
            anyhow::Ok(())
        }
        .await;
        metered.stop().await;
        outcome?;
    }
    Ok(runs)
}

/// The microservices again, with `delay_us` on every internal hop, at the
/// same open-loop rates as the main run.
async fn delayed(
    options: &Options,
    databases: &mut Databases,
    http: &reqwest::Client,
    delay_us: u64,
    measured: &[WorkloadFigures],
) -> anyhow::Result<DelayFigures> {
    let step = Step::begin(format!(
        "microservices with {delay_us} µs per hop: starting"
    ));
    let deployment = start(options, databases, Kind::Micro, delay_us, None).await?;
    let shop = ShopClient::new(&deployment.base_url);
    let data = DataSet::seed(&shop, seed_size(), options.seed, "compare").await;
    step.done("up");
    let mut workloads = BTreeMap::new();
    let outcome = async {
        let data = data?;
        for (workload, figures) in options.workloads.iter().zip(measured) {
            let (closed, _) = closed_with_cpu(options, http, &deployment, workload, &data).await?;
            let open = OpenLoop {
                options,
                http,
                deployment: &deployment,
                workload,
                rate: figures.rate_rps,
                data: &data,
            }
            .measure()
            .await?;
            workloads.insert(
                workload.name().to_owned(),
                DelayedRun {
                    rate_rps: figures.rate_rps,
                    p50_ms: open.all.latency_ms.p50,
                    p99_ms: open.all.latency_ms.p99,
                    max_throughput_rps: closed.all.throughput_rps,
                    monolith_p50_ms: figures
                        .runs
                        .get(Kind::Monolith.label())
                        .map_or(0.0, |runs| runs.open.all.latency_ms.p50),
                },
            );
        }
        anyhow::Ok(())
    }
    .await;
    deployment.stop().await;
    outcome?;
    Ok(DelayFigures {
        delay_us,
        workloads,
    })
}

fn closed(options: &Options) -> Mode {
    Mode::Closed {
        connections: options.connections,
    }
}

fn run_of(options: &Options, base_url: &str, workload: Workload, mode: Mode) -> Run {
    Run {
        base_url: base_url.to_owned(),
        request_id_prefix: format!("cmp-{}-{}", workload.name(), uuid::Uuid::new_v4().simple())
            .chars()
            .take(24)
            .collect(),
        workload,
        mode,
        duration: options.duration,
        seed: options.seed,
        timeout: Duration::from_secs(5),
    }
}

fn seed_size() -> SeedSize {
    SeedSize {
        users: 100,
        products: FLOOR_PRODUCTS,
    }
}

/// Where a measured deployment of `kind` writes its hop logs.
pub fn hop_log_dir(out: &Path, kind: Kind) -> PathBuf {
    out.join("logs").join(match kind {
        Kind::Monolith => "monolith",
        Kind::Micro => "micro",
    })
}

/// The slowest request of `report`, as its hops (`None` when its logs do
/// not hold it: a request that never reached the deployment).
fn slowest_trace(report: &Report, logs: &Path) -> Option<SlowestTrace> {
    let slowest = report.all.slowest.first()?;
    let hops = trace::hops(&slowest.request_id, &[logs.to_owned()]).ok()?;
    (!hops.is_empty()).then(|| SlowestTrace {
        request_id: slowest.request_id.clone(),
        latency_ms: slowest.latency_ms,
        log_dir: logs.display().to_string(),
        hops,
    })
}

/// Starts `kind` on fresh storage, pinned as the options say, with hop logs
/// in `logs` if given.
async fn start(
    options: &Options,
    databases: &mut Databases,
    kind: Kind,
    hop_delay_us: u64,
    logs: Option<PathBuf>,
) -> anyhow::Result<Deployment> {
    let deploy = deploy_options(options, databases, kind, hop_delay_us, logs)?;
    Deployment::start(&deploy)
        .await
        .with_context(|| format!("cannot start the {}", kind.label()))
}

/// How [`start`] starts `kind`.
fn deploy_options(
    options: &Options,
    databases: &mut Databases,
    kind: Kind,
    hop_delay_us: u64,
    logs: Option<PathBuf>,
) -> anyhow::Result<DeployOptions> {
    let mut deploy = DeployOptions::new(kind, options.bin_dir.clone(), databases.fresh(kind)?);
    deploy.cores = options
        .pinning
        .as_ref()
        .map(|pinning| pinning.deployment.clone());
    deploy.hop_delay_us = hop_delay_us;
    deploy.log_dir = logs;
    Ok(deploy)
}

async fn start_floor(options: &Options, databases: &mut Databases) -> anyhow::Result<Process> {
    let url = databases.fresh_floor().await?;
    let args = [
        "--database-url".to_owned(),
        url,
        "--products".into(),
        FLOOR_PRODUCTS.to_string(),
    ];
    let cores = options
        .pinning
        .as_ref()
        .map(|pinning| pinning.deployment.as_slice());
    Process::spawn_on(&options.bin_dir, "shoplab-floor", &args, cores, &[]).await
}

/// Fresh storage for each start, and what must be removed afterwards (also
/// used by `shoplab isolation`).
pub(crate) struct Databases {
    backend: Backend,
    /// SQLite: the temporary directories (removed when dropped).
    directories: Vec<tempfile::TempDir>,
    /// PostgreSQL: every database this run created, and only those.
    created: Vec<String>,
    /// Names are `shoplab_<command>_<run>_<n>`, so a leftover says whose it is.
    command: &'static str,
    run: String,
}

impl Databases {
    pub(crate) fn new(backend: &Backend, command: &'static str) -> Self {
        Databases {
            backend: backend.clone(),
            directories: Vec::new(),
            created: Vec::new(),
            command,
            run: uuid::Uuid::new_v4().simple().to_string()[..10].to_owned(),
        }
    }

    pub(crate) fn fresh(&mut self, kind: Kind) -> anyhow::Result<Storage> {
        match &self.backend {
            Backend::Sqlite => {
                let directory = tempfile::tempdir().context("cannot make a scratch directory")?;
                let storage = Storage::Sqlite(directory.path().to_path_buf());
                self.directories.push(directory);
                Ok(storage)
            }
            Backend::Postgres(server) => {
                let name = format!(
                    "shoplab_{}_{}_{}",
                    self.command,
                    self.run,
                    self.created.len()
                );
                let storage = Storage::Postgres(postgres::with_database(server, &name)?);
                // Deployment::start creates them; they are ours to drop.
                self.created.extend(storage.urls(kind)?);
                Ok(storage)
            }
        }
    }

    async fn fresh_floor(&mut self) -> anyhow::Result<String> {
        match &self.backend {
            Backend::Sqlite => {
                let directory = tempfile::tempdir().context("cannot make a scratch directory")?;
                let url = format!("sqlite://{}", directory.path().join("floor.db").display());
                self.directories.push(directory);
                Ok(url)
            }
            Backend::Postgres(server) => {
                let url = postgres::with_database(
                    server,
                    &format!("shoplab_{}_{}_floor", self.command, self.run),
                )?;
                let create = url.clone();
                tokio::task::spawn_blocking(move || postgres::ensure_database(&create)).await??;
                self.created.push(url.clone());
                Ok(url)
            }
        }
    }

    /// Drops every PostgreSQL database this run created.
    pub(crate) async fn drop_all(&mut self) {
        let created = std::mem::take(&mut self.created);
        if created.is_empty() {
            return;
        }
        let step = Step::begin(format!(
            "dropping the {} databases this run created",
            created.len()
        ));
        let dropping = tokio::task::spawn_blocking(move || {
            created
                .iter()
                .filter_map(|url| postgres::drop_database(url).err().map(|_| url.clone()))
                .collect::<Vec<_>>()
        })
        .await;
        step.done(&match dropping {
            Ok(failed) if failed.is_empty() => "dropped".to_owned(),
            Ok(failed) => format!("could not drop {}", failed.join(", ")),
            Err(_) => format!(
                "the dropping task failed: check for shoplab_{}_* databases",
                self.command
            ),
        });
    }
}

/// CPU time this process (the load generator) has used so far.
fn own_cpu() -> Duration {
    crate::cpu::cpu_time(std::process::id()).unwrap_or_default()
}

/// CPU time of the PostgreSQL server's processes, when the run uses it.
fn database_server_cpu(options: &Options) -> Option<Duration> {
    match options.backend {
        Backend::Sqlite => None,
        Backend::Postgres(_) => Some(crate::cpu::cpu_time_of_all("postgres")),
    }
}

fn lookup(pairs: &[(String, u64)], name: &str) -> u64 {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map_or(0, |(_, value)| *value)
}

fn binary_size(bin_dir: &Path, name: &str) -> u64 {
    std::fs::metadata(bin_dir.join(name)).map_or(0, |metadata| metadata.len())
}

/// `release` or `debug`, from the directory the binaries come from.
pub(crate) fn build_profile(bin_dir: &Path) -> &'static str {
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
pub(crate) fn commit() -> Option<String> {
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

/// The machine a run happens on: CPU model, cores, memory, OS.
pub(crate) fn machine() -> Machine {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_equal_load_rate_is_a_quarter_of_the_slower_maximum_rounded_down() {
        assert_eq!(equal_load_rate(4_321.0), 1_000.0);
        assert_eq!(equal_load_rate(19_600.0), 4_900.0);
        assert_eq!(equal_load_rate(987.0), 240.0);
        assert_eq!(equal_load_rate(30.0), 7.5);
        assert_eq!(equal_load_rate(2.0), 1.0);
    }
}
