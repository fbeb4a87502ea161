//! `shoplab scale`: what more processes buy, on this machine.
//!
//! For three targets — the monolith (reads), the catalog service (reads)
//! and the orders service (orders) — and 1, 2 and 4 processes of it behind
//! the load balancer, it starts a fresh deployment, seeds it, and drives it
//! with a closed loop (maximum throughput) for a few seconds, measuring
//! throughput, latency and the CPU time every process of the deployment
//! spent per request. The monolith stands behind the gateway even as one
//! process, so that every count is reached through the same hop (and so
//! its figures sit below `shoplab compare`'s, which reaches it directly).
//!
//! The claim under test (DESIGN.md): services scale out behind a load
//! balancer. What this machine can show is bounded by its cores: once they
//! are busy, more processes add no throughput, only their own overhead. The
//! report says how many cores there were, so the reader knows which case
//! they are looking at.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use plotters::prelude::*;
use serde::Serialize;

use crate::cli::{backend, seconds, ExperimentArgs};
use crate::client::ShopClient;
use crate::deployment::{Deployment, Kind, Options as DeployOptions, ReplicaCounts};
use crate::experiment::{Experiment, Machine, Stamp};
use crate::load::{self, DataSet, Mode, Run, SeedSize, Workload};
use crate::progress::Step;
use crate::report::plot::{draw, legend, line, titled, Drawn, PROCESS_COLOURS};
use crate::report::text::{Align, Columns};
use crate::scratch::{Backend, Databases};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub bin_dir: PathBuf,
    pub backend: Backend,
    /// How many processes of each target, in order.
    pub replicas: Vec<usize>,
    /// Length of each closed-loop run.
    pub duration: Duration,
    /// Connections of the closed loop.
    pub connections: usize,
    pub seed: u64,
    pub out: Option<PathBuf>,
}

/// What is scaled out, and under which load.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Target {
    pub kind: Kind,
    /// `monolith`, or the service scaled.
    pub part: &'static str,
    /// The workload's name (`read`, `order`).
    pub workload: &'static str,
}

impl Target {
    pub const ALL: [Target; 3] = [
        Target::new(Kind::Monolith, "monolith", "read"),
        Target::new(Kind::Micro, "catalog", "read"),
        Target::new(Kind::Micro, "orders", "order"),
    ];

    const fn new(kind: Kind, part: &'static str, workload: &'static str) -> Self {
        Target {
            kind,
            part,
            workload,
        }
    }

    fn label(&self) -> String {
        match self.kind {
            Kind::Monolith => format!("monolith ({}s)", self.workload),
            Kind::Micro => format!("{} service ({}s)", self.part, self.workload),
            Kind::Group(..) => format!("{} ({}s)", self.kind.label(), self.workload),
        }
    }

    fn load(&self) -> Workload {
        match self.workload {
            "order" => Workload::Order,
            _ => Workload::Read,
        }
    }
}

/// One target at one count of processes.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub replicas: usize,
    pub throughput_rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    /// CPU time of every process of the deployment, per request.
    pub cpu_us_per_request: f64,
    /// How many processes the deployment ran.
    pub processes: usize,
}

/// One target's points.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub target: Target,
    pub label: String,
    pub points: Vec<Point>,
}

/// The whole run, as `scale.json` has it.
#[derive(Debug, Serialize)]
pub struct Results {
    #[serde(flatten)]
    pub stamp: Stamp,
    pub duration_s: f64,
    pub connections: usize,
    pub series: Vec<Series>,
    pub verdict: String,
}

/// Runs every target at each count, prints the table and the verdict,
/// writes scale.json and the two plots.
impl Experiment for Options {
    type Result = Results;
    const PREFIX: &'static str = "scale";
    const FILE: &'static str = "scale.json";

    fn out(&self) -> Option<PathBuf> {
        self.out.clone()
    }

    async fn measure(
        &self,
        out: &Path,
        stamp: Stamp,
        _earlier: &[Results],
    ) -> anyhow::Result<Results> {
        eprintln!(
            "shoplab scale: {} targets × {:?} processes, {} s closed loops of {} connections, results in {}",
            Target::ALL.len(),
            self.replicas,
            self.duration.as_secs_f64(),
            self.connections,
            out.display()
        );
        let mut databases = Databases::new(&self.backend, "scale");
        let measured = measure_all(self, &mut databases).await;
        databases.drop_all().await;
        let series = measured?;
        Ok(Results {
            verdict: verdict(&series, &stamp.machine),
            stamp,
            duration_s: self.duration.as_secs_f64(),
            connections: self.connections,
            series,
        })
    }

    fn files(&self, results: &Results) -> Vec<(&'static str, String)> {
        vec![
            (
                "scale-throughput.svg",
                plot(&results.series, Figure::Throughput),
            ),
            ("scale-cpu.svg", plot(&results.series, Figure::Cpu)),
        ]
    }

    fn render(&self, results: &[Results]) {
        for results in results {
            println!("{}", table(&results.series));
            println!("verdict: {}", results.verdict);
        }
    }
}

async fn measure_all(options: &Options, databases: &mut Databases) -> anyhow::Result<Vec<Series>> {
    let mut series = Vec::new();
    for target in Target::ALL {
        let mut points = Vec::new();
        for &replicas in &options.replicas {
            let point = measure(options, databases, target, replicas)
                .await
                .with_context(|| format!("{} ×{replicas}", target.label()))?;
            points.push(point);
        }
        series.push(Series {
            target,
            label: target.label(),
            points,
        });
    }
    Ok(series)
}

async fn measure(
    options: &Options,
    databases: &mut Databases,
    target: Target,
    replicas: usize,
) -> anyhow::Result<Point> {
    let step = Step::begin(format!("{} ×{replicas}: closed loop", target.label()));
    let mut deploy = DeployOptions::new(
        target.kind,
        options.bin_dir.clone(),
        databases.fresh(target.kind)?,
    );
    deploy.replicas = ReplicaCounts::of_part(target.part, replicas);
    deploy.balance_one_monolith = true;
    let deployment = Deployment::start(&deploy)
        .await
        .with_context(|| format!("cannot start the {}", target.kind.label()))?;
    let measured = drive(options, &deployment, target, &step).await;
    let processes = deployment.process_count();
    deployment.stop().await;
    let (report, cpu) = measured?;
    let requests = report.all.requests.max(1);
    let point = Point {
        replicas,
        throughput_rps: report.all.throughput_rps,
        p50_ms: report.all.latency_ms.p50,
        p99_ms: report.all.latency_ms.p99,
        errors: report.all.errors,
        cpu_us_per_request: cpu.as_secs_f64() * 1e6 / requests as f64,
        processes,
    };
    step.done(&format!(
        "{:.0} req/s, p99 {:.2} ms, {:.0} µs CPU/request",
        point.throughput_rps, point.p99_ms, point.cpu_us_per_request
    ));
    Ok(point)
}

/// Seeds, warms up briefly, then runs the measured closed loop; returns its
/// report and the CPU time the deployment's processes spent over it.
async fn drive(
    options: &Options,
    deployment: &Deployment,
    target: Target,
    step: &Step,
) -> anyhow::Result<(load::Report, Duration)> {
    let shop = ShopClient::new(&deployment.base_url);
    let data = DataSet::seed(&shop, SeedSize::default(), options.seed, "scale").await?;
    let http = load::http_client()?;
    let run = |duration: Duration| Run {
        base_url: deployment.base_url.clone(),
        workload: target.load(),
        mode: Mode::Closed {
            connections: options.connections,
        },
        duration,
        seed: options.seed,
        timeout: Duration::from_secs(10),
        request_id_prefix: format!("scale-{}", target.part),
    };
    load::drive(&http, &run(WARM_UP), &data, |_| {}).await?;
    let before: Duration = deployment.cpu_times().iter().map(|(_, used)| *used).sum();
    let report = load::drive(&http, &run(options.duration), &data, |share| {
        step.set(share)
    })
    .await?;
    let after: Duration = deployment.cpu_times().iter().map(|(_, used)| *used).sum();
    Ok((report, after.saturating_sub(before)))
}

/// A short run before each measured one: connections opened, caches warm.
const WARM_UP: Duration = Duration::from_secs(1);

/// One line a student can check against the table: how throughput changed
/// from the fewest processes to the most, per target, and what the cores
/// allow.
fn verdict(series: &[Series], machine: &Machine) -> String {
    let changes: Vec<String> = series
        .iter()
        .filter_map(|series| {
            let (first, last) = (series.points.first()?, series.points.last()?);
            let ratio = last.throughput_rps / first.throughput_rps.max(f64::EPSILON);
            Some(format!(
                "{} ×{}→×{}: throughput ×{ratio:.2}, CPU/request ×{:.2}",
                series.label,
                first.replicas,
                last.replicas,
                last.cpu_us_per_request / first.cpu_us_per_request.max(f64::EPSILON)
            ))
        })
        .collect();
    format!(
        "on {} cores: {}. More processes add throughput only while cores are idle; beyond that they add their own cost per request",
        machine.cores,
        changes.join("; ")
    )
}

/// The table printed at the end.
pub fn table(series: &[Series]) -> String {
    const COLUMNS: Columns<'static> = Columns::spaced(&[
        (26, Align::Left),
        (9, Align::Right),
        (10, Align::Right),
        (9, Align::Right),
        (9, Align::Right),
        (8, Align::Right),
        (10, Align::Right),
    ]);
    let mut lines = vec![COLUMNS.line(&[
        "target",
        "processes",
        "req/s",
        "p50",
        "p99",
        "errors",
        "CPU/req",
    ])];
    for series in series {
        for point in &series.points {
            lines.push(COLUMNS.line(&[
                series.label.clone(),
                format!("×{}", point.replicas),
                format!("{:.0}", point.throughput_rps),
                format!("{:.2}ms", point.p50_ms),
                format!("{:.2}ms", point.p99_ms),
                point.errors.to_string(),
                format!("{:.0}µs", point.cpu_us_per_request),
            ]));
        }
    }
    lines.join("\n")
}

#[derive(Clone, Copy)]
enum Figure {
    Throughput,
    Cpu,
}

/// One line per target against the number of processes.
fn plot(series: &[Series], figure: Figure) -> String {
    let value = |point: &Point| match figure {
        Figure::Throughput => point.throughput_rps,
        Figure::Cpu => point.cpu_us_per_request,
    };
    let title = match figure {
        Figure::Throughput => "Throughput (req/s) by processes of the target",
        Figure::Cpu => "CPU µs per request by processes of the target",
    };
    let high = series
        .iter()
        .flat_map(|series| series.points.iter().map(value))
        .fold(0f64, f64::max);
    let most = series
        .iter()
        .flat_map(|series| series.points.iter().map(|point| point.replicas))
        .max()
        .unwrap_or(1) as f64;
    draw(720, 360, |root| -> Drawn {
        let mut chart = titled(&root, title)
            .build_cartesian_2d(0.5f64..most + 0.5, 0f64..(high * 1.2).max(1.0))?;
        chart
            .configure_mesh()
            .x_desc("processes")
            .x_labels(most as usize + 1)
            .draw()?;
        for (slot, series) in series.iter().enumerate() {
            let colour = PROCESS_COLOURS[slot % PROCESS_COLOURS.len()];
            let points = series
                .points
                .iter()
                .map(|point| (point.replicas as f64, value(point)));
            line(&mut chart, &series.label, colour, points.collect(), 4)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    })
}

/// Scale out: throughput, latency and CPU per request as processes are
/// added behind the load balancer.
///
/// For the monolith (reads), the catalog service (reads) and the orders
/// service (orders), with 1, 2 and 4 processes of it (--replicas), each
/// on a fresh deployment: seed, warm up for a second, then a closed loop
/// of --connections for --duration seconds. The monolith stands behind
/// the gateway even as one process, so every count has the same hop.
///
/// Prints a table and a verdict (the throughput and CPU ratios from the
/// fewest processes to the most, and the machine's cores: on 2 cores,
/// more processes cannot add throughput); writes scale.json,
/// scale-throughput.svg and scale-cpu.svg.
#[derive(clap::Args)]
pub struct Args {
    /// The process counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    pub replicas: Vec<usize>,
    /// Seconds of each measured closed loop.
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Connections of the closed loop.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    #[command(flatten)]
    pub run: ExperimentArgs,
}

impl Args {
    /// The options these arguments ask for, with the binaries in `bin_dir`.
    pub fn options(self, bin_dir: PathBuf) -> anyhow::Result<Options> {
        let max = crate::deployment::MAX_REPLICAS;
        if let Some(bad) = self
            .replicas
            .iter()
            .find(|count| !(1..=max).contains(*count))
        {
            bail!("--replicas takes counts from 1 to {max} (got {bad})");
        }
        if self.connections == 0 {
            bail!("--connections must be at least 1");
        }
        let mut replicas = self.replicas;
        replicas.sort_unstable();
        replicas.dedup();
        Ok(Options {
            bin_dir,
            backend: backend(self.run.database_url)?,
            replicas,
            duration: seconds("--duration", self.duration)?,
            connections: self.connections,
            seed: self.run.seed,
            out: self.run.out,
        })
    }
}
