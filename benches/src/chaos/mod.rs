//! `shoplab chaos`: consistency under faults, for each way of holding an
//! order together.
//!
//! For each mode — `acid` (the monolith's one transaction), `saga` and
//! `naive` (the microservices with and without saga state, compensations and
//! recovery) — it starts a fresh deployment under one fault plan, seeds users
//! (some with money, some without) and products (stock that runs out), places
//! N orders from concurrent clients, cancels some of the completed ones, and
//! kills the process that runs the orders component once mid-run, letting the
//! supervisor restart whatever crashed. Then it waits until nothing is in
//! flight (or a bounded settle time) and audits API.md's invariants through
//! `GET /audit` and `GET /audit/orders/{id}`.
//!
//! Violations: each order that breaks invariant 3 (a `completed` one not
//! charged its total or not holding its units, a `failed` or `cancelled` one
//! charged or holding any, one still `pending`) counts one; each of the
//! money and stock equations that fails counts one. Then every order's
//! Idempotency-Key is sent again with its body ([`Replays`]): a key that
//! answers with an order that did not complete, an order another key also
//! answers with, a conflict with its own body, or a completed order no key
//! answers with (some key placed two) counts one each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::deployment::{Deployment, Kind, Options as DeployOptions, ReplicaCounts, Tx};
use crate::experiment::{until_interrupted, Experiment, Stamp};
use crate::progress::Step;
use crate::scratch::{Backend, Databases};

mod args;
mod audit;
mod exercise;
mod table;

pub use args::Args;
pub use audit::{audit, Audited, Replays};
use exercise::exercise;
pub use exercise::Seeded;
use table::print_table;

/// One way of holding an order together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The monolith: one database transaction per order.
    Acid,
    /// The microservices: a saga with recorded state, compensations, recovery.
    Saga,
    /// The microservices with the same calls and none of that.
    Naive,
    /// The modular monolith: the same saga, its four databases in one
    /// process, no network (a crash takes every component down at once).
    Modular,
}

impl Mode {
    pub const ALL: [Mode; 4] = [Mode::Acid, Mode::Saga, Mode::Naive, Mode::Modular];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Acid => "acid",
            Mode::Saga => "saga",
            Mode::Naive => "naive",
            Mode::Modular => "modular",
        }
    }

    fn kind(self) -> Kind {
        match self {
            Mode::Acid => Kind::Monolith,
            Mode::Saga | Mode::Naive => Kind::Micro,
            Mode::Modular => Kind::MODULAR,
        }
    }

    /// Whether orders are sagas (whose runs may still be in flight when
    /// the load ends).
    fn runs_sagas(self) -> bool {
        matches!(self, Mode::Saga | Mode::Modular)
    }

    /// The process that runs the orders component: the one killed mid-run.
    fn orders_process(self) -> String {
        self.kind()
            .process_of(shoplab_common::components::Component::Orders)
    }

    /// How many processes of each part, with `orders` of the one that runs
    /// the orders component (the modular monolith runs as one).
    fn replicas(self, orders: usize) -> anyhow::Result<ReplicaCounts> {
        match self {
            Mode::Acid => Ok(ReplicaCounts::of_part("monolith", orders)),
            Mode::Saga | Mode::Naive => Ok(ReplicaCounts::of_part("orders", orders)),
            Mode::Modular if orders == 1 => Ok(ReplicaCounts::default()),
            Mode::Modular => anyhow::bail!(
                "--orders-replicas is not for the modular mode: it runs as one process"
            ),
        }
    }
}

/// What `shoplab chaos` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub bin_dir: PathBuf,
    pub backend: Backend,
    pub out: Option<PathBuf>,
    pub modes: Vec<Mode>,
    /// Orders to place.
    pub orders: usize,
    /// Clients placing them at once.
    pub concurrency: usize,
    pub users: usize,
    pub products: usize,
    /// The plan given to every process; `None` writes the default one.
    pub fault_plan: Option<PathBuf>,
    /// Kill the orders process once, a third of the way through.
    pub kill: bool,
    /// Processes running the orders component (the orders service, or the
    /// monolith) behind the gateway.
    pub orders_replicas: usize,
    /// Freeze the first of them for this long, two thirds of the way
    /// through.
    pub freeze: Option<Duration>,
    /// The longest wait for nothing to be in flight after the orders.
    pub settle: Duration,
    pub seed: u64,
}

/// The default plan: errors and delays on every step of an order, and
/// crashes before and after the steps that take stock and money, rare
/// enough that a run finishes. Seeding is never struck: it uses no step (a
/// deposit's user check is only ever delayed).
pub fn default_plan(seed: u64) -> String {
    let rule = |op: &str, kind: &str, probability: f64, extra: &str| {
        format!(
            "[[fault]]\nop = \"{op}\"\nkind = \"{kind}\"\nprobability = {probability}\n{extra}\n"
        )
    };
    let mut plan =
        format!("# shoplab chaos: the default fault plan (docs/FAULTS.md)\nseed = {seed}\n\n");
    for op in [
        "catalog.reserve",
        "payments.charge",
        "catalog.release",
        "payments.refund",
    ] {
        plan += &rule(op, "error", 0.02, "");
        plan += &rule(op, "delay", 0.05, "delay_ms = 20");
    }
    plan += &rule("users.user", "delay", 0.05, "delay_ms = 20");
    plan += &rule("catalog.reserve", "crash_after", 0.002, "");
    plan += &rule("payments.charge", "crash_after", 0.002, "");
    plan += &rule("payments.charge", "crash_before", 0.001, "");
    plan
}

/// Everything one mode's run measured.
#[derive(Debug, Clone, Serialize)]
pub struct ModeResult {
    pub mode: Mode,
    pub violations: usize,
    /// Orders by status, as the audit counts them at the end.
    pub orders: BTreeMap<String, i64>,
    /// Each order that broke invariant 3, and how.
    pub broken_orders: Vec<BrokenOrder>,
    /// Every order's Idempotency-Key sent again once nothing was in flight:
    /// one order per key, and each replay its order's outcome.
    pub keys_replayed: Replays,
    pub money_equation_holds: bool,
    pub stock_equation_holds: bool,
    pub deposits_cents: i64,
    pub stock_created: i64,
    /// Cents and units held for orders that should hold none, or missing
    /// from orders that should hold them.
    pub cents_involved: i64,
    pub units_involved: i64,
    /// What the clients saw: answers by status (`none` = no answer).
    pub answers: BTreeMap<String, usize>,
    pub cancels: BTreeMap<String, usize>,
    /// Restarts of each process by the supervisor.
    pub restarts: BTreeMap<String, u32>,
    /// From the end of the load (when the last fault could strike) to the
    /// first audit with nothing in flight; `None` if it never came within the
    /// settle time.
    pub settled_after_ms: Option<f64>,
    /// Latency of the orders that completed (201), in milliseconds.
    pub completed_p50_ms: Option<f64>,
    pub completed_p99_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BrokenOrder {
    pub order_id: i64,
    pub status: String,
    pub total_cents: i64,
    pub units: i64,
    pub charged_cents: i64,
    pub reserved_units: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChaosResult {
    #[serde(flatten)]
    pub stamp: Stamp,
    pub backend: String,
    pub seed: u64,
    pub orders: usize,
    pub concurrency: usize,
    pub fault_plan: String,
    pub killed_mid_run: bool,
    /// Processes running the orders component, behind the gateway.
    pub orders_replicas: usize,
    /// How long the first of them was frozen, two thirds of the way through.
    pub frozen_s: Option<f64>,
    pub modes: Vec<ModeResult>,
}

/// Runs every mode, prints the verdict lines and the table, writes chaos.json.
impl Experiment for Options {
    type Result = ChaosResult;
    const PREFIX: &'static str = "chaos-";
    const FILE: &'static str = "chaos.json";

    fn out(&self) -> Option<PathBuf> {
        self.out.clone()
    }

    /// Runs every mode, with the fault plan written to `out`
    /// (fault-plan.toml), and drops the databases it created, however it
    /// ends (Ctrl-C included).
    async fn measure(
        &self,
        out: &Path,
        stamp: Stamp,
        _earlier: &[ChaosResult],
    ) -> anyhow::Result<ChaosResult> {
        let plan_text = match &self.fault_plan {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the fault plan {}", path.display()))?,
            None => default_plan(self.seed),
        };
        let plan_path = out.join("fault-plan.toml");
        std::fs::write(&plan_path, &plan_text).context("cannot write the fault plan")?;
        let mut databases = Databases::new(&self.backend, "chaos");
        let measured = until_interrupted(measure_modes(
            self,
            &plan_path,
            &plan_text,
            stamp,
            &mut databases,
        ))
        .await;
        databases.drop_all().await;
        measured
    }

    fn render(&self, results: &[ChaosResult]) {
        for result in results {
            for mode in &result.modes {
                println!("{}: {} violations", mode.mode.name(), mode.violations);
            }
            print_table(result);
        }
    }
}

async fn measure_modes(
    options: &Options,
    plan_path: &Path,
    plan_text: &str,
    stamp: Stamp,
    databases: &mut Databases,
) -> anyhow::Result<ChaosResult> {
    let mut modes = Vec::new();
    for &mode in &options.modes {
        modes.push(run_mode(options, mode, plan_path, databases).await?);
    }
    Ok(ChaosResult {
        stamp,
        backend: options.backend.name().into(),
        seed: options.seed,
        orders: options.orders,
        concurrency: options.concurrency,
        fault_plan: plan_text.to_owned(),
        killed_mid_run: options.kill,
        orders_replicas: options.orders_replicas,
        frozen_s: options.freeze.map(|freeze| freeze.as_secs_f64()),
        modes,
    })
}

/// One mode: a fresh deployment, the data set, the orders under faults, the
/// settling, the audit.
async fn run_mode(
    options: &Options,
    mode: Mode,
    plan_path: &Path,
    databases: &mut Databases,
) -> anyhow::Result<ModeResult> {
    let step = Step::begin(format!("{}: starting a fresh deployment", mode.name()));
    let mut deploy = DeployOptions::new(
        mode.kind(),
        options.bin_dir.clone(),
        databases.fresh(mode.kind())?,
    );
    deploy.fault_plan = Some(plan_path.to_path_buf());
    if mode == Mode::Naive {
        deploy.tx = Tx::Naive;
    }
    deploy.replicas = mode.replicas(options.orders_replicas)?;
    let deployment = Deployment::start(&deploy).await?;
    step.done("up");
    let outcome = exercise(options, mode, &deployment).await;
    deployment.stop().await;
    outcome
}
