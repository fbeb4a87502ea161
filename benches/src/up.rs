//! `shoplab up`: a whole deployment started, supervised and kept running
//! until Ctrl-C or SIGTERM, with each process's address and metrics printed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::cli::{default_data_dir, is_postgres};
use shoplab_common::grouping::Grouping;

use crate::deployment::{Calls, Deployment, Kind, Options, ReplicaCounts, Storage, Tx};

/// Start a whole deployment and keep it running until Ctrl-C or SIGTERM.
///
/// Every process is supervised: one that exits (a crash, a kill, an exit
/// code) is started again at the same address, after 100 ms, then after
/// a pause that doubles while it keeps failing (at most 3 s; back to
/// 100 ms once it has stayed up for 10 s). Each restart is one line on
/// stderr. The others run on meanwhile.
#[derive(clap::Args)]
pub struct Args {
    /// monolith (one process, one database), micro (four services behind a
    /// gateway), modular (the four components in one process, each on its
    /// own database: the modular monolith) or group (any grouping of the
    /// components into processes: --group).
    #[arg(value_enum)]
    pub layout: Layout,
    /// With `group`: which components share a process, `+` joining a
    /// group's components and `/` separating the groups, e.g.
    /// users+payments/catalog/orders (the gateway stands in front of more
    /// than one group).
    #[arg(long, value_name = "GROUPING", required_if_eq("layout", "group"))]
    pub group: Option<Grouping>,
    /// With `modular` or `group`: how a process calls the components it
    /// hosts itself: in-process (function calls) or http (loopback HTTP to
    /// its own port: the network's cost without another process).
    #[arg(long, value_enum)]
    pub calls: Option<Calls>,
    /// The public port: the monolith's, the modular monolith's, or the
    /// gateway's.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Directory for the SQLite files (default: ./data/monolith,
    /// ./data/micro, ./data/modular, ./data/group-GROUPING).
    #[arg(long, conflicts_with = "database_url")]
    pub data_dir: Option<PathBuf>,
    /// Use PostgreSQL instead: postgres://USER@HOST/NAME. The monolith uses
    /// NAME; every other deployment gives each component its own:
    /// NAME_users, NAME_catalog, NAME_payments and NAME_orders. Missing
    /// databases are created.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Microseconds every internal HTTP hop waits before it is sent,
    /// standing for network distance (not for the monolith; a function
    /// call waits nothing).
    #[arg(long, default_value_t = 0)]
    pub hop_delay_us: u64,
    /// A fault plan (TOML) passed as --fault-plan to every process of the
    /// deployment: which component operations fail, how and when.
    #[arg(long)]
    pub fault_plan: Option<PathBuf>,
    /// How the orders component places an order when the components have
    /// databases of their own: saga, or naive (the steps with no
    /// compensation). Not for the monolith.
    #[arg(long, value_enum)]
    pub tx: Option<Tx>,
    /// Where every process writes its hop log, one JSON line per request
    /// served and per call made, with its X-Request-Id (default: logs/
    /// beside the SQLite files, or ./data/<monolith|micro>/logs).
    /// `shoplab trace` reads them.
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// How many processes run each part, behind a load balancer: `3`
    /// (three monoliths on one database behind the gateway, or three of
    /// each service) or `catalog=3,orders=2` (parts not named run one).
    /// A balancer routes around a replica that fails its health check.
    #[arg(long, default_value = "1", value_name = "N|PART=N,...")]
    pub replicas: ReplicaCounts,
    /// Serve no metrics. By default every process serves Prometheus
    /// text on a loopback port of its own (printed at start; see
    /// docs/METRICS.md).
    #[arg(long)]
    pub no_metrics: bool,
    /// Write a Prometheus scrape configuration for every process to
    /// FILE (YAML; then `prometheus --config.file=FILE`).
    #[arg(long, value_name = "FILE", conflicts_with = "no_metrics")]
    pub prometheus_config: Option<PathBuf>,
}

/// Which deployment `shoplab up` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    Monolith,
    Micro,
    Modular,
    Group,
}

impl Args {
    /// The deployment the layout, `--group` and `--calls` name.
    fn kind(&self) -> anyhow::Result<Kind> {
        let calls = self.calls.unwrap_or_default();
        if self.calls.is_some() && matches!(self.layout, Layout::Monolith | Layout::Micro) {
            bail!("--calls is for `up modular` and `up group`: the monolith and micro have one way to call");
        }
        match (self.layout, self.group) {
            (Layout::Group, Some(grouping)) => Ok(Kind::Group(grouping, calls)),
            (Layout::Group, None) => {
                bail!("`up group` needs --group, e.g. users+payments/catalog/orders")
            }
            (_, Some(_)) => bail!("--group is for `up group`"),
            (Layout::Monolith, None) => Ok(Kind::Monolith),
            (Layout::Micro, None) => Ok(Kind::Micro),
            (Layout::Modular, None) => Ok(Kind::Group(Grouping::TOGETHER, calls)),
        }
    }

    /// The deployment these arguments ask for, of the binaries in `bin_dir`.
    pub fn options(self, bin_dir: PathBuf) -> anyhow::Result<Options> {
        let kind = self.kind()?;
        if kind == Kind::Monolith && self.tx.is_some() {
            bail!("--tx is not for the monolith: it places an order in one transaction");
        }
        if kind == Kind::Monolith && self.hop_delay_us > 0 {
            bail!(
                "--hop-delay-us is not for the monolith: it makes no HTTP calls between components"
            );
        }
        let storage = match self.database_url {
            Some(url) if is_postgres(&url) => Storage::Postgres(url),
            Some(url) => {
                bail!("--database-url takes postgres://...; for SQLite use --data-dir (got {url})")
            }
            None => Storage::Sqlite(self.data_dir.unwrap_or_else(|| default_data_dir(kind))),
        };
        let log_dir = self.log_dir.unwrap_or_else(|| match &storage {
            Storage::Sqlite(dir) => dir.join("logs"),
            Storage::Postgres(_) => default_data_dir(kind).join("logs"),
        });
        let mut options = Options::new(kind, bin_dir, storage);
        options.port = self.port;
        options.hop_delay_us = self.hop_delay_us;
        options.fault_plan = self.fault_plan;
        options.tx = self.tx.unwrap_or_default();
        options.log_dir = Some(log_dir);
        options.replicas = self.replicas;
        options.metrics = !self.no_metrics;
        options.echo_stderr = true;
        Ok(options)
    }
}

/// Starts the deployment, prints where it serves, and keeps it running until
/// Ctrl-C or SIGTERM, then stops every process it started.
pub async fn run(options: Options, prometheus_config: Option<PathBuf>) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};

    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    eprintln!("starting the {} ...", options.kind.label());
    let deployment = Deployment::start(&options).await?;
    for member in deployment.members() {
        let pid = member
            .pid
            .map_or("down".to_owned(), |pid| format!("pid {pid}"));
        eprintln!("  {:<20} {} ({pid})", member.name, member.url);
    }
    if let Err(error) = announce_scrape_targets(&deployment, prometheus_config.as_deref()) {
        deployment.stop().await;
        return Err(error);
    }
    eprintln!(
        "{} ready in {:?}; a process that exits is restarted; Ctrl-C stops it",
        options.kind.label(),
        deployment.startup
    );
    println!("{}", deployment.base_url);
    // The supervisors keep the processes running; `up` only waits to be told
    // to stop.
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate.recv() => {},
    }
    eprintln!("stopping the {} ...", options.kind.label());
    deployment.stop().await;
    Ok(())
}

/// Prints where each process serves its metrics and, if asked, writes a
/// Prometheus configuration that scrapes them all.
fn announce_scrape_targets(deployment: &Deployment, config: Option<&Path>) -> anyhow::Result<()> {
    let targets = crate::prometheus::targets(deployment);
    if !targets.is_empty() {
        eprintln!("metrics (Prometheus scrape targets):");
    }
    for target in &targets {
        eprintln!("  {} {}", target.process, target.url());
    }
    if let Some(path) = config {
        crate::prometheus::write_config(path, deployment)?;
        eprintln!(
            "wrote a Prometheus configuration: prometheus --config.file={}",
            path.display()
        );
    }
    Ok(())
}
