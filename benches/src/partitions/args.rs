//! `shoplab partitions`'s arguments, and the options they make.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use super::Options;
use crate::cli::{backend, seconds, ExperimentArgs, DEFAULT_CONNECTIONS};
use crate::deployment::Kind;
use crate::load::workload::parse_workload;
use crate::load::Mix;
use crate::pin::Pinning;

/// Every grouping of the four components into processes, measured and
/// ranked, and the split's cost taken apart piece by piece.
///
/// Runs the 15 partitions of {users, catalog, payments, orders} (each
/// group one `shoplab-group` process, each component on its own
/// database, the gateway in front of more than one; the first is the
/// modular monolith), and beside them the monolith, the modular monolith
/// over loopback HTTP and the microservices. On each, fresh and seeded:
/// each workload's closed loop (maximum throughput, and CPU per request
/// over it) and an open loop at one equal rate for all (a quarter of the
/// microservices' maximum) for its p50.
///
/// Prints the 15 ranked by CPU per request on the mix (cheapest first,
/// `3. users+payments/catalog/orders ...`), with the calls per request
/// each sends across processes; the calls between each pair of
/// components (from a traced pass on the microservices); and the cost of
/// the split taken apart: the split databases and the saga (modular −
/// monolith), the network (modular over HTTP − modular), the extra
/// processes (microservices − modular over HTTP). Writes
/// partitions.json and report.html. --quick takes about three minutes.
#[derive(clap::Args)]
pub struct Args {
    /// Short runs (1 s each): a few minutes, for CI.
    #[arg(long)]
    pub quick: bool,
    /// Seconds each measured run lasts (default 3, or 1 with --quick).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Do not pin the deployment and the load generator to separate cores.
    #[arg(long)]
    pub no_pin: bool,
    /// Connections of the closed loop.
    #[arg(long, default_value_t = DEFAULT_CONNECTIONS)]
    pub connections: usize,
    /// Workloads to run, comma-separated: order, mix, read, browse.
    #[arg(long, value_delimiter = ',', default_value = "order,mix")]
    pub workloads: Vec<String>,
    /// The mix workload's shares.
    #[arg(long)]
    pub mix: Option<Mix>,
    #[command(flatten)]
    pub run: ExperimentArgs,
}

impl Args {
    /// The experiment these arguments ask for, of the binaries in
    /// `bin_dir`, pinned as `pinning` plans unless `--no-pin`.
    pub fn options(self, bin_dir: PathBuf, pinning: Option<Pinning>) -> anyhow::Result<Options> {
        let workloads = self
            .workloads
            .iter()
            .map(|name| parse_workload(name.trim(), self.mix.clone()))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if workloads.is_empty() {
            bail!("--workloads names no workload");
        }
        if self.connections == 0 {
            bail!("--connections must be at least 1");
        }
        let duration = self.duration.unwrap_or(if self.quick { 1.0 } else { 3.0 });
        Ok(Options {
            runs: crate::compare::Options {
                bin_dir,
                backend: backend(self.run.database_url)?,
                out: self.run.out,
                quick: self.quick,
                duration: seconds("--duration", duration)?,
                warm_up: Duration::from_secs_f64(if self.quick { 0.5 } else { 1.0 }),
                connections: self.connections,
                seed: self.run.seed,
                pinning: pinning.filter(|_| !self.no_pin),
                hop_delays_us: vec![0],
                with_build: false,
                workloads,
                startups: 1,
                hop_samples: 0,
                hop_logs: false,
                repeat: 1,
                deployments: vec![Kind::Monolith, Kind::Micro],
            },
        })
    }
}
