//! `shoplab rollout`'s arguments, and the options they make.

use std::path::PathBuf;

use anyhow::bail;

use crate::cli::{backend, seconds, ExperimentArgs};

use super::Options;

/// Deploy one part while the shop runs: a rolling update under load.
///
/// Six cases, each on a fresh deployment: the monolith, the catalog
/// service and the orders service, as one process and as two behind the
/// load balancer. Each is driven by a constant open loop of --rate
/// requests per second (80% reads, 20% orders with an Idempotency-Key)
/// and, after --before seconds, every process of the part is replaced
/// in turn: SIGTERM (it drains: its /health answers 503, the balancer
/// stops sending to it, it finishes what it has and exits), then the
/// binary on disk started again at the same address and its /health
/// awaited. The load goes on --after seconds more.
///
/// Prints a table (per case: the rollout's duration, the requests due
/// during it, those that failed by status, the gap, p99 and max latency
/// before and during) and a verdict; writes rollout.json.
#[derive(clap::Args)]
pub struct Args {
    /// The constant load, requests per second.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Seconds of load before the rollout starts.
    #[arg(long, default_value_t = 3.0)]
    pub before: f64,
    /// Seconds of load after the rollout's budget (4 s per process) ends.
    #[arg(long, default_value_t = 2.0)]
    pub after: f64,
    #[command(flatten)]
    pub run: ExperimentArgs,
}

impl Args {
    /// The options these arguments ask for, with the binaries in `bin_dir`.
    pub fn options(self, bin_dir: PathBuf) -> anyhow::Result<Options> {
        if !(self.rate > 0.0 && self.rate.is_finite() && self.rate <= 100_000.0) {
            bail!(
                "--rate must be above 0 and at most 100000 (got {})",
                self.rate
            );
        }
        Ok(Options {
            bin_dir,
            backend: backend(self.run.database_url)?,
            rate: self.rate,
            before: seconds("--before", self.before)?,
            after: seconds("--after", self.after)?,
            seed: self.run.seed,
            out: self.run.out,
        })
    }
}
