//! `shoplab isolation`'s arguments, and the options they make.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use super::{Component, Fault, Options};
use crate::cli::{backend, seconds, ExperimentArgs};
use crate::deployment::Kind;

/// Fault isolation: does one failing component take the rest down?
///
/// Each deployment, on fresh databases, takes four groups of requests at
/// once (GET /users/{id}, GET /products/{id}, GET /users/{id}/wallet,
/// POST /orders), each an open loop at --rate, through three phases:
/// before, during and after a fault in one component. In the
/// microservices the component's service is killed and kept down
/// (crash) or stopped with SIGSTOP (hang) for the middle phase, then
/// brought back. In the monolith a fault plan (--fault-plan) makes every
/// operation of the component fail as unavailable (crash) or never return
/// (hang) for the same window.
///
/// Prints, per deployment, group and phase, the success rate (timeouts
/// count as failures), the p99 latency of the answered requests and the
/// requests sent; then a verdict per deployment: which groups the fault
/// reached beyond those that need the component, and whether all came
/// back. Writes isolation.json. About 20 s per deployment by default.
#[derive(clap::Args)]
pub struct Args {
    /// The component that fails.
    #[arg(long, value_enum, default_value_t = Component::Catalog)]
    pub component: Component,
    /// crash: the component is gone (a killed service; in the monolith, its
    /// operations fail at once as unavailable). hang: it answers nothing (a
    /// stopped service; in the monolith, its operations never return).
    #[arg(long, value_enum, default_value_t = Fault::Crash)]
    pub fault: Fault,
    /// The deployments to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "monolith,micro")]
    pub deployments: Vec<Kind>,
    /// Requests per second sent to each of the four groups...
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// ...but POST /orders, which gets this many (default: --rate).
    #[arg(long)]
    pub order_rate: Option<f64>,
    /// Seconds into the fault from which its failures count as its settled
    /// cost (how the orders that failed once a circuit could have opened
    /// were answered).
    #[arg(long, default_value_t = 3.0)]
    pub settle: f64,
    /// Seconds before the fault.
    #[arg(long, default_value_t = 5.0)]
    pub before: f64,
    /// Seconds the fault lasts.
    #[arg(long, default_value_t = 5.0)]
    pub during: f64,
    /// Seconds after the fault.
    #[arg(long, default_value_t = 5.0)]
    pub after: f64,
    /// Milliseconds after which an unanswered request counts as failed.
    #[arg(long, default_value_t = 6000)]
    pub timeout_ms: u64,
    #[command(flatten)]
    pub run: ExperimentArgs,
}

impl Args {
    /// The options these arguments ask for, with the binaries in `bin_dir`.
    pub fn options(self, bin_dir: PathBuf) -> anyhow::Result<Options> {
        for (flag, rate) in [
            ("--rate", Some(self.rate)),
            ("--order-rate", self.order_rate),
        ] {
            if let Some(rate) =
                rate.filter(|rate| !(*rate > 0.0 && rate.is_finite() && *rate <= 100_000.0))
            {
                bail!("{flag} must be above 0 and at most 100000 (got {rate})");
            }
        }
        if let Some(group) = self
            .deployments
            .iter()
            .find(|kind| !matches!(kind, Kind::Monolith | Kind::Micro))
        {
            bail!("--deployments names {group}: isolation runs on the monolith and micro only (its faults strike their processes by name)");
        }
        let mut deployments = self.deployments;
        deployments.dedup();
        if deployments.is_empty() {
            bail!("--deployments names no deployment");
        }
        Ok(Options {
            bin_dir,
            backend: backend(self.run.database_url)?,
            out: self.run.out,
            deployments,
            component: self.component,
            fault: self.fault,
            rate: self.rate,
            order_rate: self.order_rate,
            settle: seconds("--settle", self.settle)?,
            before: seconds("--before", self.before)?,
            during: seconds("--during", self.during)?,
            after: seconds("--after", self.after)?,
            timeout: Duration::from_millis(self.timeout_ms.max(1)),
            seed: self.run.seed,
        })
    }
}
