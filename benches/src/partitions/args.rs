//! `shoplab partitions`'s arguments, and the options they make.

use std::path::PathBuf;

use super::Options;
use crate::cli::ExperimentArgs;
use crate::compare::RunArgs;
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
/// partitions.json and report.html. Each deployment's instructions are
/// counted too, under callgrind (--no-count skips it): --quick takes about
/// six minutes, of which four and a half are counting; without counting,
/// about seven minutes, --quick a minute and a half.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub runs: RunArgs,
    /// Workloads to run, comma-separated: order, mix, read, browse.
    #[arg(long, value_delimiter = ',', default_value = "order,mix")]
    pub workloads: Vec<String>,
    #[command(flatten)]
    pub run: ExperimentArgs,
}

impl Args {
    /// Whether the load generator is to be pinned (unless `--no-pin`).
    pub fn pins(&self) -> bool {
        !self.runs.no_pin
    }

    /// The experiment these arguments ask for, of the binaries in
    /// `bin_dir`, pinned as `pinning` plans unless `--no-pin`.
    pub fn options(self, bin_dir: PathBuf, pinning: Option<Pinning>) -> anyhow::Result<Options> {
        let runs = self
            .runs
            .options(&self.workloads, self.run, bin_dir, pinning)?;
        Ok(Options { runs })
    }
}
