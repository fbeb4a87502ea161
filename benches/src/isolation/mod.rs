//! `shoplab isolation`: the claim "in a monolith one component's failure
//! affects the whole system; in microservices it stays in its service",
//! measured on both deployments the same way.
//!
//! For each deployment, on fresh databases:
//! 1. start it (the monolith with a fault plan whose window is the run's
//!    middle phase, written before it starts: `fault.rs`);
//! 2. seed users with funded wallets and products with ample stock through
//!    the public API (`load::DataSet::seed`);
//! 3. send four groups of requests at once, each in an open loop at the
//!    same rate (`traffic.rs`): users, products, wallets, orders; for three
//!    phases, scheduled by the clock: before, during and after the fault;
//! 4. at the middle phase's start, fail one component (the microservices:
//!    its process is killed and held down, or stopped; the monolith: its
//!    plan's window opens), and at its end, let it recover;
//! 5. per group and phase: the success rate, the p99 latency and the
//!    requests (`report.rs`), and a verdict from those figures alone.
//!
//! The figures go to the terminal and to `isolation.json`.

mod args;
pub mod fault;
pub mod report;
pub mod traffic;

pub use args::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::time::Instant;

use crate::client::ShopClient;
use crate::deployment::{Deployment, Kind, Options as DeployOptions};
use crate::experiment::{self, until_interrupted, Experiment, Stamp};
use crate::load::{DataSet, SeedSize};
use crate::progress::Step;
use crate::scratch::{Backend, Databases};
pub use fault::{Component, Fault};
use report::{DeploymentFigures, IsolationResult, ProcessFigures, Settled, SETTLE_LIMIT_S};
use traffic::{Rates, Schedule};

/// What `shoplab isolation` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub bin_dir: PathBuf,
    pub backend: Backend,
    /// The results folder (default `results/isolation-<timestamp>/`).
    pub out: Option<PathBuf>,
    /// The deployments to run, in this order.
    pub deployments: Vec<Kind>,
    pub component: Component,
    pub fault: Fault,
    /// Requests per second sent to each group...
    pub rate: f64,
    /// ...but the orders group, which gets this many (default: `rate`).
    pub order_rate: Option<f64>,
    /// How far into the fault the failures are tallied apart, as the cost
    /// of the fault once the deployment has settled into it.
    pub settle: Duration,
    pub before: Duration,
    pub during: Duration,
    pub after: Duration,
    /// A request with no answer after this long counts as failed.
    pub timeout: Duration,
    pub seed: u64,
}

impl Options {
    pub fn rates(&self) -> Rates {
        Rates {
            reads: self.rate,
            orders: self.order_rate.unwrap_or(self.rate),
        }
    }
}

/// A small data set: the experiment is about who answers, not how much data.
const DATA: SeedSize = SeedSize {
    users: 20,
    products: 20,
};

/// Time from a deployment's spawn to the load's start: enough to start and
/// seed it. The monolith's fault plan is written before it starts, so its
/// window (counted from the process's start) must be fixed in advance; the
/// load is then scheduled by the clock to line up with it. The services get
/// the same schedule, so both runs are alike.
const SETUP: Duration = Duration::from_secs(3);

/// Runs the experiment, prints the table and the verdicts, writes
/// `isolation.json`.
impl Experiment for Options {
    type Result = IsolationResult;
    const PREFIX: &'static str = "isolation-";
    const FILE: &'static str = "isolation.json";

    fn out(&self) -> Option<PathBuf> {
        self.out.clone()
    }

    async fn measure(
        &self,
        _out: &Path,
        stamp: Stamp,
        _earlier: &[IsolationResult],
    ) -> anyhow::Result<IsolationResult> {
        measure(self, stamp).await
    }

    fn render(&self, results: &[IsolationResult]) {
        results.iter().for_each(report::print);
    }
}

/// Runs the experiment on each deployment in turn and returns every figure.
pub async fn measure(options: &Options, stamp: Stamp) -> anyhow::Result<IsolationResult> {
    if options.deployments.is_empty() {
        bail!("no deployment to run the experiment on");
    }
    eprintln!(
        "shoplab isolation: {} {} for {:.1} s, {:.0} req/s on each of 4 groups, {} build, {}",
        options.component.name(),
        options.fault.past(),
        options.during.as_secs_f64(),
        options.rate,
        experiment::build_profile(&options.bin_dir),
        options.backend.label(),
    );
    let mut databases = Databases::new(&options.backend, "iso");
    let measured = until_interrupted(measure_each(options, &mut databases)).await;
    databases.drop_all().await;
    Ok(IsolationResult {
        stamp,
        build_profile: experiment::build_profile(&options.bin_dir),
        // `postgresql`, as isolation.json has always said (the others say `postgres`).
        storage: options.backend.label().to_lowercase(),
        seed: options.seed,
        component: options.component,
        fault: options.fault,
        rate_per_group_rps: options.rate,
        order_rate_rps: options.rates().orders,
        settle_s: options.settle.as_secs_f64(),
        before_s: options.before.as_secs_f64(),
        during_s: options.during.as_secs_f64(),
        after_s: options.after.as_secs_f64(),
        timeout_ms: u64::try_from(options.timeout.as_millis()).unwrap_or(u64::MAX),
        deployments: measured?,
    })
}

async fn measure_each(
    options: &Options,
    databases: &mut Databases,
) -> anyhow::Result<Vec<DeploymentFigures>> {
    let mut figures = Vec::new();
    for &kind in &options.deployments {
        figures.push(measure_one(options, databases, kind).await?);
    }
    Ok(figures)
}

/// One deployment: started, seeded, loaded through the three phases with
/// the fault in the middle one, stopped.
async fn measure_one(
    options: &Options,
    databases: &mut Databases,
    kind: Kind,
) -> anyhow::Result<DeploymentFigures> {
    let label = kind.label();
    let mut deploy = DeployOptions::new(kind, options.bin_dir.clone(), databases.fresh(kind)?);
    // The monolith's fault is a plan it reads at start; it must outlive the run.
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let plan = (kind == Kind::Monolith).then(|| {
        let from = SETUP + options.before;
        fault::plan(
            options.component,
            options.fault,
            options.seed,
            from,
            from + options.during,
        )
    });
    if let Some(plan) = &plan {
        let path = scratch.path().join("fault-plan.toml");
        std::fs::write(&path, plan).with_context(|| format!("cannot write {}", path.display()))?;
        deploy.fault_plan = Some(path);
    }

    let step = Step::begin(format!("{label}: starting on fresh databases"));
    let deployment = Deployment::start(&deploy)
        .await
        .with_context(|| format!("cannot start the {label}"))?;
    step.done(&format!(
        "up in {:.0} ms",
        deployment.startup.as_secs_f64() * 1000.0
    ));
    let outcome = exercise(options, &deployment).await;
    let restarts = deployment.restarts().into_iter().collect();
    deployment.stop().await;
    let Exercised {
        tallies,
        timing,
        ordering_process,
        settled,
    } = outcome?;
    let groups = report::groups(&tallies);
    Ok(DeploymentFigures {
        deployment: label.to_owned(),
        how: options.fault.how(options.component, kind == Kind::Monolith),
        fault_plan: plan,
        fault_began_s: timing.began.as_secs_f64(),
        fault_ended_s: timing.ended.as_secs_f64(),
        restart_ms: timing.restart.map(|took| took.as_secs_f64() * 1000.0),
        restarts,
        ordering_process,
        settled,
        verdict: report::verdict(&label, options.component, options.fault, &groups),
        groups,
    })
}

/// When the fault was in force, from the load's start.
struct Timing {
    began: Duration,
    ended: Duration,
    /// How long a released service took to pass `/health`.
    restart: Option<Duration>,
}

/// What one deployment's run gave.
struct Exercised {
    tallies: traffic::Tallies,
    timing: Timing,
    ordering_process: ProcessFigures,
    settled: Settled,
}

/// The process that places orders.
fn ordering_process(kind: Kind) -> String {
    kind.process_of(shoplab_common::components::Component::Orders)
}

/// Seeds the deployment, then runs the load and the fault side by side,
/// watching the process that places orders, and waits for the deployment
/// to settle.
async fn exercise(options: &Options, deployment: &Deployment) -> anyhow::Result<Exercised> {
    let label = deployment.kind.label();
    let step = Step::begin(format!("{label}: seeding users, wallets and products"));
    let shop = ShopClient::new(&deployment.base_url);
    let data = DataSet::seed(&shop, DATA, options.seed, "isolation").await?;
    step.done(&format!(
        "{} users, {} products",
        data.users.len(),
        data.products.len()
    ));
    let seeded = audit(&shop).await?;
    let schedule = Schedule {
        start: Instant::from_std(deployment.spawned_at) + SETUP,
        before: options.before,
        during: options.during,
        after: options.after,
        settle: options.settle,
    };
    if Instant::now() >= schedule.start {
        bail!(
            "starting and seeding the {label} took longer than the {} s allowed before the load \
             begins (the monolith's fault plan is timed from its start)",
            SETUP.as_secs()
        );
    }
    let process = ordering_process(deployment.kind);
    let pid = deployment
        .pids()
        .into_iter()
        .find_map(|(name, pid)| (name == process).then_some(pid))
        .with_context(|| format!("no {process} process in the {label}"))?;
    let idle = sample(pid).with_context(|| format!("cannot read {process}'s /proc entry"))?;
    let (tallies, timing, peak) = tokio::join!(
        traffic::drive(
            &deployment.base_url,
            &data,
            options.rates(),
            schedule,
            options.timeout,
            options.seed,
        ),
        conduct(options, deployment, schedule),
        watch(pid, idle, schedule.end()),
    );
    let step = Step::begin(format!("{label}: waiting for no order to be pending"));
    let settled = settle(&shop, &seeded).await?;
    step.done(&match settled.no_pending_after_s {
        Some(seconds) => format!("after {seconds:.1} s"),
        None => format!("{} still pending", settled.pending),
    });
    Ok(Exercised {
        tallies: tallies?,
        timing: timing?,
        ordering_process: ProcessFigures {
            process: process.to_owned(),
            idle_threads: idle.0,
            max_threads: peak.0,
            idle_rss_mib: mib(idle.1),
            max_rss_mib: mib(peak.1),
        },
        settled,
    })
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// A process's threads and resident bytes now.
fn sample(pid: u32) -> Option<(u64, u64)> {
    Some((crate::cpu::threads(pid)?, crate::cpu::rss_bytes(pid)?))
}

/// The most threads and resident bytes `pid` has, sampled every 100 ms
/// until `until` (a moment it cannot be read, say while it restarts, is
/// skipped).
async fn watch(pid: u32, idle: (u64, u64), until: Instant) -> (u64, u64) {
    let mut peak = idle;
    while Instant::now() < until {
        if let Some((threads, rss)) = sample(pid) {
            peak = (peak.0.max(threads), peak.1.max(rss));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    peak
}

/// The figures of `GET /audit` the run checks.
struct Audit {
    money: i64,
    stock_and_sold: i64,
    pending: i64,
}

async fn audit(shop: &ShopClient) -> anyhow::Result<Audit> {
    let reply = shop.get("/audit").await?;
    anyhow::ensure!(reply.status == 200, "/audit answered {}", reply.status);
    let figure = |pointer: &str| {
        reply
            .body
            .pointer(pointer)
            .and_then(serde_json::Value::as_i64)
            .with_context(|| format!("/audit has no {pointer}: {}", reply.body))
    };
    Ok(Audit {
        money: figure("/wallet_cents")? + figure("/paid_cents")?,
        // Every order of the run is one unit of one product.
        stock_and_sold: figure("/stock_units")? + figure("/orders/completed")?,
        pending: figure("/orders/pending")?,
    })
}

/// Waits (up to [`SETTLE_LIMIT_S`]) for no order to be pending, then checks
/// money and stock against the audit taken once the data was seeded.
async fn settle(shop: &ShopClient, seeded: &Audit) -> anyhow::Result<Settled> {
    let began = Instant::now();
    let limit = Duration::from_secs(SETTLE_LIMIT_S);
    loop {
        let now = audit(shop).await?;
        let settled_after = (now.pending == 0).then(|| began.elapsed().as_secs_f64());
        if settled_after.is_some() || began.elapsed() >= limit {
            return Ok(Settled {
                no_pending_after_s: settled_after,
                pending: now.pending,
                money_conserved: now.money == seeded.money,
                stock_conserved: now.stock_and_sold == seeded.stock_and_sold,
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Walks through the phases on the clock, saying where the run is, and in
/// the microservices starts and ends the fault at the phases' edges (the
/// monolith's plan does it by itself, on the same clock).
async fn conduct(
    options: &Options,
    deployment: &Deployment,
    schedule: Schedule,
) -> anyhow::Result<Timing> {
    let label = deployment.kind.label();
    let services = deployment.kind == Kind::Micro;
    let (component, fault) = (options.component, options.fault);
    tokio::time::sleep_until(schedule.start).await;

    let step = Step::begin(format!(
        "{label}: before the fault, {:.0} req/s per group",
        options.rate
    ));
    wait_until(&step, schedule.start, schedule.fault_starts()).await;
    step.done(&due(options.rate, schedule.before));

    let step = Step::begin(format!("{label}: {} {}", component.name(), fault.past()));
    if services {
        fault::inject(deployment, component, fault)
            .await
            .with_context(|| format!("cannot make {} fail", component.binary()))?;
    }
    let began = schedule.start.elapsed();
    wait_until(&step, schedule.fault_starts(), schedule.fault_ends()).await;
    let ended = schedule.start.elapsed();
    let mut restart = None;
    if services {
        let removing = Instant::now();
        fault::remove(deployment, component, fault)
            .await
            .with_context(|| format!("cannot bring {} back", component.binary()))?;
        if fault == Fault::Crash {
            restart = Some(removing.elapsed());
        }
    }
    step.done(&match restart {
        Some(took) => format!(
            "restarted, healthy in {:.0} ms",
            took.as_secs_f64() * 1000.0
        ),
        None => "ended".to_owned(),
    });

    let step = Step::begin(format!("{label}: after the fault"));
    wait_until(&step, schedule.fault_ends(), schedule.end()).await;
    step.done(&due(options.rate, schedule.after));
    let (began, ended) = if services {
        (began, ended)
    } else {
        // The plan's window, by construction the middle phase.
        (schedule.before, schedule.before + schedule.during)
    };
    Ok(Timing {
        began,
        ended,
        restart,
    })
}

/// How many requests a phase sends, for its progress line.
fn due(rate: f64, phase: Duration) -> String {
    format!("{:.0} requests due", 4.0 * rate * phase.as_secs_f64())
}

/// Waits until `until`, moving the step's bar along from `from`.
async fn wait_until(step: &Step, from: Instant, until: Instant) {
    let span = until.saturating_duration_since(from).as_secs_f64();
    while Instant::now() < until {
        step.set(from.elapsed().as_secs_f64() / span.max(f64::EPSILON));
        let next = (Instant::now() + Duration::from_millis(100)).min(until);
        tokio::time::sleep_until(next).await;
    }
}
