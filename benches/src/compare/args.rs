//! `shoplab compare`'s arguments, and the options they make.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use super::Options;
use crate::cli::{backend, seconds, ExperimentArgs, DEFAULT_CONNECTIONS};
use crate::deployment::Kind;
use crate::load::workload::parse_workload;
use crate::load::Mix;
use crate::pin::Pinning;

/// Measure the deployments side by side: latency at equal load, maximum
/// throughput, CPU per request, start-up, memory, the cost of a hop (and
/// build times with --with-build). Writes result.json and report.html.
///
/// Each deployment runs on fresh databases, pinned to its own cores with
/// the load generator on the others. The default run takes about three
/// minutes; --quick about one.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub runs: RunArgs,
    /// Microseconds added to every internal hop, comma-separated: the first
    /// for the main run, each further one runs the services again
    /// (e.g. 0,250,1000 shows how the gap grows with network distance).
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub hop_delay_us: Vec<u64>,
    /// Also measure build times (clean and incremental, in a copy of the
    /// workspace with its own target directory; takes several minutes).
    #[arg(long)]
    pub with_build: bool,
    /// Run the measured deployments without hop logs. By default every
    /// process logs one line per hop to <results>/logs/ (a small write per
    /// hop), and the report draws each open loop's slowest request as its
    /// tree of hops (`shoplab trace`).
    #[arg(long)]
    pub no_hop_logs: bool,
    /// Also run the monolith and the microservices in containers
    /// (deploy/compose/, the images of scripts/images.sh; a Docker engine),
    /// under the same workloads at the same rates, pinned to the same
    /// cores, the load sent to the entry container's own address; and B
    /// between two containers. Adds a table: processes on loopback against
    /// containers on a bridge network.
    #[arg(long)]
    pub containers: bool,
    /// Workloads to run, comma-separated: read, browse, order, mix.
    #[arg(long, value_delimiter = ',', default_value = "read,browse,order,mix")]
    pub workloads: Vec<String>,
    /// The deployments to measure, comma-separated, one column each in
    /// this order: monolith and micro (which every ratio and the hop
    /// figures need), and any of modular, modular-http,
    /// group:GROUPING, group-http:GROUPING (GROUPING as
    /// users+payments/catalog/orders).
    #[arg(long, value_delimiter = ',', default_value = "monolith,modular,micro")]
    pub deployments: Vec<Kind>,
    /// Run the whole comparison N times (each on fresh deployments, the
    /// open loops at the first run's rates) and print every figure and
    /// ratio as its median with its min–max; each run's result.json and
    /// report.html go to run-1/, run-2/, ... under the results directory.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub repeat: usize,
    #[command(flatten)]
    pub run: ExperimentArgs,
}

/// How each measured run goes, for `compare` and for `partitions`, which
/// runs the same runs.
#[derive(clap::Args)]
pub struct RunArgs {
    /// Short runs (1 s each, one start-up sample), for CI.
    #[arg(long)]
    pub quick: bool,
    /// Seconds each measured run lasts (default 5, or 1 with --quick).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Do not pin the deployment and the load generator to separate cores.
    #[arg(long)]
    pub no_pin: bool,
    /// Connections of the closed loop (the open loop keeps up to 64
    /// requests in flight).
    #[arg(long, default_value_t = DEFAULT_CONNECTIONS)]
    pub connections: usize,
    /// The mix workload's shares.
    #[arg(long)]
    pub mix: Option<Mix>,
    /// Requests in each batch of the counting pass, which counts what a
    /// request costs in instructions (every process under valgrind) and in
    /// system calls (the kernel's tracepoints, through perf), one request
    /// at a time (default 200, or 50 with --quick).
    #[arg(long, value_name = "N")]
    pub count_requests: Option<usize>,
    /// Skip the counting pass (it needs valgrind, and perf as root).
    #[arg(long, conflicts_with = "count_requests")]
    pub no_count: bool,
}

impl RunArgs {
    /// The options of runs of `workloads` (by name), of the binaries in
    /// `bin_dir`, on the backend `run` names, pinned as `pinning` plans
    /// unless `--no-pin`; the monolith and the microservices measured, once.
    pub fn options(
        self,
        workloads: &[String],
        run: ExperimentArgs,
        bin_dir: PathBuf,
        pinning: Option<Pinning>,
    ) -> anyhow::Result<Options> {
        let workloads = workloads
            .iter()
            .map(|name| parse_workload(name.trim(), self.mix.clone()))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if workloads.is_empty() {
            bail!("--workloads names no workload");
        }
        if self.connections == 0 {
            bail!("--connections must be at least 1");
        }
        let duration = self.duration.unwrap_or(if self.quick { 1.0 } else { 5.0 });
        if self.count_requests == Some(0) {
            bail!("--count-requests must be at least 1");
        }
        let count_requests = (!self.no_count).then(|| {
            self.count_requests
                .unwrap_or(if self.quick { 50 } else { 200 })
        });
        Ok(Options {
            bin_dir,
            backend: backend(run.database_url)?,
            out: run.out,
            quick: self.quick,
            duration: seconds("--duration", duration)?,
            warm_up: Duration::from_secs_f64(if self.quick { 0.5 } else { 2.0 }),
            connections: self.connections,
            seed: run.seed,
            pinning: pinning.filter(|_| !self.no_pin),
            hop_delays_us: vec![0],
            with_build: false,
            workloads,
            startups: if self.quick { 1 } else { 5 },
            hop_samples: if self.quick { 300 } else { 2000 },
            hop_logs: true,
            containers: false,
            repeat: 1,
            deployments: vec![Kind::Monolith, Kind::Micro],
            count_requests,
        })
    }
}

impl Args {
    /// Whether the load generator is to be pinned (unless `--no-pin`).
    pub fn pins(&self) -> bool {
        !self.runs.no_pin
    }

    /// The comparison these arguments ask for, of the binaries in `bin_dir`,
    /// pinned as `pinning` plans unless `--no-pin`.
    pub fn options(self, bin_dir: PathBuf, pinning: Option<Pinning>) -> anyhow::Result<Options> {
        if self.repeat == 0 {
            bail!("--repeat must be at least 1");
        }
        for needed in [Kind::Monolith, Kind::Micro] {
            if !self.deployments.contains(&needed) {
                bail!(
                    "--deployments must include {needed}: the ratios are against the monolith, \
                     and the hop figures measure the microservices' gateway"
                );
            }
        }
        if let Some(twice) = self
            .deployments
            .iter()
            .enumerate()
            .find(|(at, kind)| self.deployments[..*at].contains(kind))
            .map(|(_, kind)| kind)
        {
            bail!("--deployments names {twice} twice");
        }
        let options = self
            .runs
            .options(&self.workloads, self.run, bin_dir, pinning)?;
        Ok(Options {
            hop_delays_us: if self.hop_delay_us.is_empty() {
                vec![0]
            } else {
                self.hop_delay_us
            },
            with_build: self.with_build,
            hop_logs: !self.no_hop_logs,
            containers: self.containers,
            repeat: self.repeat,
            deployments: self.deployments,
            ..options
        })
    }
}
