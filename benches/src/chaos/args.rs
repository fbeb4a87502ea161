//! `shoplab chaos`'s arguments, and the options they make.

use std::path::PathBuf;

use anyhow::bail;

use crate::cli::{backend, seconds, ExperimentArgs};

use super::{Mode, Options};

/// Consistency under faults: one ACID transaction vs a saga vs no saga.
///
/// For each mode — acid (the monolith), saga and naive (the
/// microservices, with and without saga state, compensations and
/// recovery), modular (the same saga in one process: four databases, no
/// network) — starts a fresh deployment under one fault plan (errors,
/// delays and crashes on the component operations; see docs/FAULTS.md),
/// seeds users (two in three with money) and products (stock that runs
/// out), places --orders orders from --concurrency clients (each retried
/// with its Idempotency-Key on a 502/503/504 or no answer), cancels one in
/// ten that complete, and kills the process running the orders component
/// once, a third of the way through. The supervisor restarts whatever
/// crashed. Then it waits until nothing is in flight (at most --settle
/// seconds) and audits every order through GET /audit/orders/{id}, and
/// the money and stock equations through GET /audit.
///
/// Prints `acid: N violations`, `saga: N violations`, `naive: N
/// violations`, `modular: N violations`, then a table; writes chaos.json and the fault plan used.
/// Violations are results: the exit code is non-zero only if the
/// experiment could not run.
#[derive(clap::Args)]
pub struct Args {
    /// The modes to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "acid,saga,naive,modular"
    )]
    pub modes: Vec<Mode>,
    /// Orders to place in each mode.
    #[arg(long, default_value_t = 2000)]
    pub orders: usize,
    /// Clients placing orders at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Users to seed (two in three get money).
    #[arg(long, default_value_t = 60)]
    pub users: usize,
    /// Products to seed.
    #[arg(long, default_value_t = 20)]
    pub products: usize,
    /// The fault plan for every process (default: the plan written to the
    /// results folder as fault-plan.toml; see docs/FAULTS.md).
    #[arg(long, value_name = "FILE")]
    pub fault_plan: Option<PathBuf>,
    /// Do not kill the orders process mid-run (the plan's faults still strike).
    #[arg(long)]
    pub no_kill: bool,
    /// Processes running the orders component (the orders service, or the
    /// monolith), behind the gateway's balancer.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=8))]
    pub orders_replicas: u16,
    /// Freeze (SIGSTOP) the first orders process for this many seconds, two
    /// thirds of the way through: past its leases (a request's 5 s deadline
    /// and a second more), so the others take its sagas and keys over while
    /// it still believes it holds them.
    #[arg(long, value_name = "SECONDS")]
    pub freeze: Option<f64>,
    /// The longest wait, in seconds, for nothing to be in flight after the
    /// orders (what is still pending then counts as a violation).
    #[arg(long, default_value_t = 20.0)]
    pub settle: f64,
    #[command(flatten)]
    pub run: ExperimentArgs,
}

impl Args {
    /// The options these arguments ask for, with the binaries in `bin_dir`.
    pub fn options(self, bin_dir: PathBuf) -> anyhow::Result<Options> {
        if self.orders == 0 || self.concurrency == 0 || self.users == 0 || self.products == 0 {
            bail!("--orders, --concurrency, --users and --products must be at least 1");
        }
        if let Some(plan) = &self.fault_plan {
            // Checked here, so that a mistake is one line before anything starts.
            shoplab_common::faults::FaultPlan::load(plan).map_err(anyhow::Error::msg)?;
        }
        let mut modes = self.modes;
        modes.sort();
        modes.dedup();
        Ok(Options {
            bin_dir,
            backend: backend(self.run.database_url)?,
            out: self.run.out,
            modes,
            orders: self.orders,
            concurrency: self.concurrency,
            users: self.users,
            products: self.products,
            fault_plan: self.fault_plan,
            kill: !self.no_kill,
            orders_replicas: usize::from(self.orders_replicas),
            freeze: self
                .freeze
                .map(|freeze| seconds("--freeze", freeze))
                .transpose()?,
            settle: seconds("--settle", self.settle)?,
            seed: self.run.seed,
        })
    }
}
