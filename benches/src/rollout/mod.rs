//! `shoplab rollout`: deploying one part while the shop runs.
//!
//! For each case (the monolith, the catalog service, the orders service; one
//! process, then two behind the load balancer) it starts a fresh deployment,
//! drives it with a constant open-loop load of reads and orders (orders with
//! an `Idempotency-Key`, as a careful client sends them), and midway
//! replaces every process of the part in turn: SIGTERM (the process drains:
//! its `/health` answers 503 so the balancer stops sending to it, then it
//! stops accepting and finishes what it has), then the binary on disk
//! started again at the same address, its `/health` awaited, and a moment
//! for the balancers to take it back before the next one goes.
//!
//! Each case reports the requests that failed (by status) while the
//! rollout ran, the p99 and the worst latency during it against before it,
//! and how long it took. The claim under test (DESIGN.md): services deploy
//! independently, and with two or more replicas a rollout fails no request;
//! a single instance shows the gap.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::client::ShopClient;
use crate::deployment::{Deployment, Kind, Options as DeployOptions, ReplicaCounts, DRAIN_NOTICE};
use crate::experiment::{Experiment, Stamp};
use crate::load::{self, DataSet, Mix, Mode, Observe, Run, Sample, SeedSize, Workload};
use crate::progress::Step;
use crate::scratch::{Backend, Databases};
use crate::stats::{median, percentile};

mod args;
mod table;

pub use args::Args;
pub use table::table;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub bin_dir: PathBuf,
    pub backend: Backend,
    /// The constant load, requests per second.
    pub rate: f64,
    /// How long the load runs before the rollout starts, and after it ends.
    pub before: Duration,
    pub after: Duration,
    pub seed: u64,
    pub out: Option<PathBuf>,
}

/// One rollout: which part, how many processes of it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Case {
    pub kind: Kind,
    /// `monolith`, or the service rolled.
    pub part: &'static str,
    pub replicas: usize,
}

impl Case {
    /// Every case the experiment runs, single instances first.
    pub const ALL: [Case; 6] = [
        Case::new(Kind::Monolith, "monolith", 1),
        Case::new(Kind::Monolith, "monolith", 2),
        Case::new(Kind::Micro, "catalog", 1),
        Case::new(Kind::Micro, "catalog", 2),
        Case::new(Kind::Micro, "orders", 1),
        Case::new(Kind::Micro, "orders", 2),
    ];

    const fn new(kind: Kind, part: &'static str, replicas: usize) -> Self {
        Case {
            kind,
            part,
            replicas,
        }
    }

    fn label(&self) -> String {
        let what = match self.kind {
            Kind::Monolith => "monolith".to_owned(),
            Kind::Micro => format!("{} service", self.part),
            Kind::Group(..) => self.kind.label(),
        };
        format!("{what} ×{}", self.replicas)
    }

    fn binary(&self) -> String {
        format!("shoplab-{}", self.part)
    }
}

/// The load: DESIGN.md's reads and orders, the orders carrying their keys.
fn workload() -> Workload {
    Workload::Mix(Mix {
        read: 80,
        browse: 0,
        order: 20,
        deposit: 0,
    })
}

/// How long the balancers get to take a replaced process back before the
/// next one is stopped: a little over two health checks.
const REJOIN: Duration = DRAIN_NOTICE;
/// The most one process's replacement is expected to take; the load runs
/// long enough for every replacement to take this long.
const REPLACE_BUDGET: Duration = Duration::from_secs(4);
/// Connections the open loop may use at once.
const CONNECTIONS: usize = 64;

/// What one window of a case saw.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub requests: usize,
    pub failed: usize,
    /// Failed requests by what they got: an HTTP status, `timeout` or
    /// `transport` (the connection failed).
    pub failed_by_status: BTreeMap<String, usize>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// One case's figures.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub case: Case,
    pub label: String,
    /// From the first SIGTERM to the last replaced process back in the
    /// balancers (or, for one process, passing `/health`).
    pub rollout_ms: f64,
    /// The processes replaced, in order.
    pub replaced: Vec<String>,
    pub before: Window,
    /// Requests due while the rollout ran.
    pub during: Window,
    pub after: Window,
    /// From the first failed request's due time to the last one's end: how
    /// long the shop could not serve (0 when nothing failed).
    pub gap_ms: f64,
    /// Failed requests over the whole run, by status: a request due just
    /// before the rollout may fail because of it.
    pub failed_in_run: BTreeMap<String, usize>,
}

/// The whole run, as `rollout.json` has it.
#[derive(Debug, Serialize)]
pub struct Results {
    #[serde(flatten)]
    pub stamp: Stamp,
    pub rate_rps: f64,
    pub workload: String,
    pub cases: Vec<CaseResult>,
    pub verdict: String,
}

/// Runs every case, prints the table and the verdict, writes rollout.json.
impl Experiment for Options {
    type Result = Results;
    const PREFIX: &'static str = "rollout";
    const FILE: &'static str = "rollout.json";

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
            "shoplab rollout: {} cases, {:.0} req/s ({}), results in {}",
            Case::ALL.len(),
            self.rate,
            workload_label(),
            out.display()
        );
        let mut databases = Databases::new(&self.backend, "rollout");
        let mut cases = Vec::new();
        let mut failure = None;
        for case in Case::ALL {
            match run_case(self, &mut databases, case).await {
                Ok(result) => cases.push(result),
                Err(error) => {
                    failure = Some(error.context(format!("the {} rollout failed", case.label())));
                    break;
                }
            }
        }
        databases.drop_all().await;
        if let Some(error) = failure {
            return Err(error);
        }
        Ok(Results {
            stamp,
            rate_rps: self.rate,
            workload: workload_label(),
            verdict: verdict(&cases),
            cases,
        })
    }

    fn render(&self, results: &[Results]) {
        for results in results {
            println!("{}", table(&results.cases));
            println!("verdict: {}", results.verdict);
        }
    }
}

fn workload_label() -> String {
    match workload() {
        Workload::Mix(mix) => format!("mix {mix}, orders with Idempotency-Key"),
        other => other.name().to_owned(),
    }
}

async fn run_case(
    options: &Options,
    databases: &mut Databases,
    case: Case,
) -> anyhow::Result<CaseResult> {
    let step = Step::begin(format!(
        "{}: {:.0} req/s, rolling every process midway",
        case.label(),
        options.rate
    ));
    let mut deploy = DeployOptions::new(
        case.kind,
        options.bin_dir.clone(),
        databases.fresh(case.kind)?,
    );
    deploy.replicas = ReplicaCounts::of_part(case.part, case.replicas);
    let deployment = Deployment::start(&deploy)
        .await
        .with_context(|| format!("cannot start the {}", case.kind.label()))?;
    let measured = measure(options, &deployment, case, &step).await;
    deployment.stop().await;
    let result = measured?;
    step.done(&format!(
        "{} of {} failed during the rollout ({:.0} ms)",
        result.during.failed, result.during.requests, result.rollout_ms
    ));
    Ok(result)
}

async fn measure(
    options: &Options,
    deployment: &Deployment,
    case: Case,
    step: &Step,
) -> anyhow::Result<CaseResult> {
    let shop = ShopClient::new(&deployment.base_url);
    let data = DataSet::seed(&shop, SeedSize::default(), options.seed, "rollout").await?;
    let processes = deployment.replicas_of(&case.binary());
    anyhow::ensure!(
        processes.len() == case.replicas,
        "expected {} processes of {}, found {processes:?}",
        case.replicas,
        case.binary()
    );
    let budget = REPLACE_BUDGET.saturating_mul(u32::try_from(case.replicas).unwrap_or(u32::MAX));
    let run = Run {
        base_url: deployment.base_url.clone(),
        workload: workload(),
        mode: Mode::Open {
            rate: options.rate,
            connections: CONNECTIONS,
        },
        duration: options.before + budget + options.after,
        seed: options.seed,
        timeout: Duration::from_secs(10),
        request_id_prefix: format!("roll-{}-{}", case.part, case.replicas),
    };
    let (samples, mut arrived) = mpsc::unbounded_channel();
    let observe = Observe {
        samples: Some(samples),
        idempotency_keys: true,
    };
    let http = load::http_client()?;
    let load = load::drive_observed(&http, &run, &data, |share| step.set(share), observe);
    let rollout = async {
        tokio::time::sleep(options.before).await;
        let started = Instant::now();
        for (index, name) in processes.iter().enumerate() {
            deployment.replace(name).await?;
            if index + 1 < processes.len() {
                tokio::time::sleep(REJOIN).await;
            }
        }
        let ended = Instant::now();
        anyhow::Ok((started, ended))
    };
    let (report, rolled) = tokio::join!(load, rollout);
    report?;
    let (started, ended) = rolled?;
    let mut all = Vec::new();
    while let Ok(sample) = arrived.try_recv() {
        all.push(sample);
    }
    let (mut before, mut during, mut after) = (Vec::new(), Vec::new(), Vec::new());
    for sample in &all {
        if sample.due < started {
            before.push(sample);
        } else if sample.due <= ended {
            during.push(sample);
        } else {
            after.push(sample);
        }
    }
    Ok(CaseResult {
        case,
        label: case.label(),
        rollout_ms: (ended - started).as_secs_f64() * 1e3,
        replaced: processes,
        before: window(&before),
        during: window(&during),
        after: window(&after),
        gap_ms: gap(&all),
        failed_in_run: window(&all.iter().collect::<Vec<_>>()).failed_by_status,
    })
}

fn window(samples: &[&Sample]) -> Window {
    let mut latencies: Vec<f64> = samples
        .iter()
        .map(|sample| sample.latency.as_secs_f64() * 1e3)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let mut failed_by_status = BTreeMap::new();
    for sample in samples.iter().filter(|sample| sample.failed()) {
        *failed_by_status.entry(sample.outcome.key()).or_default() += 1;
    }
    Window {
        requests: samples.len(),
        failed: failed_by_status.values().sum(),
        failed_by_status,
        p50_ms: median(&latencies),
        p99_ms: percentile(&latencies, 0.99).unwrap_or(0.0),
        max_ms: latencies.last().copied().unwrap_or(0.0),
    }
}

/// From the first failed request's due time to the last failed one's end.
fn gap(samples: &[Sample]) -> f64 {
    let failures = samples.iter().filter(|sample| sample.failed());
    let first = failures.clone().map(|sample| sample.due).min();
    let last = failures.map(|sample| sample.due + sample.latency).max();
    match (first, last) {
        (Some(first), Some(last)) => (last - first).as_secs_f64() * 1e3,
        _ => 0.0,
    }
}

/// One line a student can check against the table.
fn verdict(cases: &[CaseResult]) -> String {
    let (replicated, single): (Vec<&CaseResult>, Vec<&CaseResult>) =
        cases.iter().partition(|result| result.case.replicas > 1);
    let failed = |result: &&CaseResult| result.failed_in_run.values().sum::<usize>();
    let replicated_failed: usize = replicated.iter().map(failed).sum();
    let replicated_requests: usize = replicated.iter().map(|result| result.during.requests).sum();
    let worst_single = single.iter().max_by(|a, b| a.gap_ms.total_cmp(&b.gap_ms));
    let replicated_said = if replicated_failed == 0 {
        format!(
            "with two replicas no request failed (0 of {replicated_requests} during the rollouts)"
        )
    } else {
        format!(
            "with two replicas {replicated_failed} of {replicated_requests} requests failed during the rollouts"
        )
    };
    let single_said = match worst_single {
        Some(worst) if worst.gap_ms > 0.0 => format!(
            "a single instance failed {} requests (the {}: a {:.0} ms gap)",
            single.iter().map(failed).sum::<usize>(),
            worst.label,
            worst.gap_ms
        ),
        Some(_) => "a single instance failed none either: its restart was shorter than the balancer's patience".to_owned(),
        None => "no single-instance case ran".to_owned(),
    };
    format!("{replicated_said}; {single_said}")
}
