//! `shoplab`: the lab's command line. `compare` measures both deployments
//! side by side (the lab's main job); `isolation` fails one component of
//! each under load; `chaos` audits consistency under many faults;
//! `anomalies` counts the intermediate states of failing orders that
//! readers see; `load` drives any running deployment like wrk; `up`
//! starts one deployment and keeps it running; `demo` runs both on a short
//! scripted scenario.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use shoplab::anomalies;
use shoplab::chaos;
use shoplab::compare::{self, Backend};
use shoplab::deploy::{own_bin_dir, Deployment, Kind, Options, ReplicaCounts, Storage, Tx};
use shoplab::isolation::{self, Component, Fault};
use shoplab::load::workload::parse_workload;
use shoplab::load::{self, Mix, Mode, SeedSize};
use shoplab::pin::{self, Pinning};
use shoplab::rollout;
use shoplab::scale;
use shoplab_common::error::one_line;

/// shoplab: one online shop, built as a monolith and as microservices, run
/// side by side.
///
/// The deployments' binaries must be built first (`cargo build --workspace`,
/// with `--release` for target/release); shoplab finds them next to itself.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Where the deployments' binaries are (default: shoplab's own directory).
    #[arg(long, global = true)]
    bin_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Start a whole deployment and keep it running until Ctrl-C or SIGTERM.
    ///
    /// Every process is supervised: one that exits (a crash, a kill, an exit
    /// code) is started again at the same address, after 100 ms, then after
    /// a pause that doubles while it keeps failing (at most 3 s; back to
    /// 100 ms once it has stayed up for 10 s). Each restart is one line on
    /// stderr. The others run on meanwhile.
    Up {
        /// monolith (one process) or micro (four services behind a gateway).
        #[arg(value_enum)]
        kind: Kind,
        /// The public port: the monolith's, or the gateway's.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Directory for the SQLite files (default: ./data/monolith or ./data/micro).
        #[arg(long, conflicts_with = "database_url")]
        data_dir: Option<PathBuf>,
        /// Use PostgreSQL instead: postgres://USER@HOST/NAME. The monolith uses
        /// NAME; the services use NAME_users, NAME_catalog, NAME_payments and
        /// NAME_orders. Missing databases are created.
        #[arg(long)]
        database_url: Option<String>,
        /// Microseconds every internal HTTP hop waits before it is sent,
        /// standing for network distance (microservices only).
        #[arg(long, default_value_t = 0)]
        hop_delay_us: u64,
        /// A fault plan (TOML) passed as --fault-plan to every process of the
        /// deployment: which component operations fail, how and when.
        #[arg(long)]
        fault_plan: Option<PathBuf>,
        /// How the orders service places an order: saga, or naive (the
        /// steps with no compensation). Microservices only.
        #[arg(long, value_enum)]
        tx: Option<Tx>,
        /// Where every process writes its hop log, one JSON line per request
        /// served and per call made, with its X-Request-Id (default: logs/
        /// beside the SQLite files, or ./data/<monolith|micro>/logs).
        /// `shoplab trace` reads them.
        #[arg(long)]
        log_dir: Option<PathBuf>,
        /// How many processes run each part, behind a load balancer: `3`
        /// (three monoliths on one database behind the gateway, or three of
        /// each service) or `catalog=3,orders=2` (parts not named run one).
        /// A balancer routes around a replica that fails its health check.
        #[arg(long, default_value = "1", value_name = "N|PART=N,...")]
        replicas: ReplicaCounts,
        /// Serve no metrics. By default every process serves Prometheus
        /// text on a loopback port of its own (printed at start; see
        /// docs/METRICS.md).
        #[arg(long)]
        no_metrics: bool,
        /// Write a Prometheus scrape configuration for every process to
        /// FILE (YAML; then `prometheus --config.file=FILE`).
        #[arg(long, value_name = "FILE", conflicts_with = "no_metrics")]
        prometheus_config: Option<PathBuf>,
    },
    /// One request's path through a deployment started with `shoplab up`,
    /// drawn as a tree of hops: every request a process served, every call
    /// one process made to another and every component call, under the hop
    /// it happened in, with its start, its time, its own ("self") time and
    /// its status; then where the time went (in each process, on the wire).
    /// Reads the hop logs in --log-dir (default: ./data/micro/logs and
    /// ./data/monolith/logs).
    Trace {
        /// The request's X-Request-Id (sent by the caller, or read from the
        /// answer's header).
        request_id: String,
        /// The directory of hop logs (`shoplab up --log-dir`).
        #[arg(long, conflicts_with = "data_dir")]
        log_dir: Option<PathBuf>,
        /// The deployment's data directory (`shoplab up --data-dir`): its
        /// hop logs are in DIR/logs.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Measure both deployments side by side: latency at equal load, maximum
    /// throughput, CPU per request, start-up, memory, the cost of a hop (and
    /// build times with --with-build). Writes result.json and report.html.
    ///
    /// Each deployment runs on fresh databases, pinned to its own cores with
    /// the load generator on the others. The default run takes about three
    /// minutes; --quick about one.
    Compare(CompareArgs),
    /// Drive a running deployment with one workload, like wrk2 and wrk: an
    /// open loop at --rate requests per second (latency, free of coordinated
    /// omission) or, without --rate, a closed loop of --connections (maximum
    /// throughput).
    Load(LoadArgs),
    /// Measure build times alone: clean builds of each binary's own crates,
    /// and rebuilds after a one-line change in the shared domain, the orders
    /// component, the orders service and the monolith. Runs in a copy of the
    /// workspace with its own target directory (target/build-time); takes
    /// several minutes. Writes build.json.
    BuildTime {
        /// The results folder (default results/build-<timestamp>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The quick form CI runs: debug builds of the monolith and the
        /// orders service, and the one change to the orders service's code.
        #[arg(long)]
        quick: bool,
    },
    /// Start both deployments on fresh SQLite databases, run the same short
    /// scenario against each, and print the results side by side.
    Demo,
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
    Isolation(IsolationArgs),
    /// Consistency under faults: one ACID transaction vs a saga vs no saga.
    ///
    /// For each mode — acid (the monolith), saga and naive (the
    /// microservices, with and without saga state, compensations and
    /// recovery) — starts a fresh deployment under one fault plan (errors,
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
    /// violations`, then a table; writes chaos.json and the fault plan used.
    /// Violations are results: the exit code is non-zero only if the
    /// experiment could not run.
    Chaos(ChaosArgs),
    /// Count dirty reads: what a saga gives up (isolation, the I of ACID),
    /// seen from outside.
    ///
    /// An order reserves stock, then charges the wallet. The monolith does
    /// both in one database transaction; the microservices commit the
    /// reservation in the catalog service first and release it when the
    /// charge fails. For each deployment, started fresh: seed probe products
    /// of --stock units each and users with empty wallets; then, for
    /// --window seconds, --order-loops loops place orders of --quantity
    /// units on the probe products, every one bound to fail with 409
    /// insufficient_funds, while --readers loops read GET /products/{id}.
    /// A dirty read is a 200 whose stock is below --stock: stock held by an
    /// order that never happened.
    ///
    /// Prints `monolith: N dirty reads` and `micro: N dirty reads`, a table,
    /// and the countermeasures with their cost; writes anomalies.json. A run
    /// is invalid if an order gets any other answer, a read is not a 200,
    /// or a product does not end with --stock units; the command then
    /// exits 1. Needs --order-loops × --quantity ≤ --stock.
    Anomalies(AnomaliesArgs),
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
    Rollout(RolloutArgs),
    /// Scale out: throughput, latency and CPU per request as processes are
    /// added behind the load balancer.
    ///
    /// For the monolith (reads), the catalog service (reads) and the orders
    /// service (orders), with 1, 2 and 4 processes of it (--replicas), each
    /// on a fresh deployment: seed, warm up for a second, then a closed loop
    /// of --connections for --duration seconds. The monolith stands behind
    /// the gateway even as one process, so every count has the same hop.
    ///
    /// Prints a table and a verdict (the throughput and CPU ratios from the
    /// fewest processes to the most, and the machine's cores: on 2 cores,
    /// more processes cannot add throughput); writes scale.json,
    /// scale-throughput.svg and scale-cpu.svg.
    Scale(ScaleArgs),
}

/// What every experiment takes: its seed, where it keeps its data and
/// where it writes its results.
#[derive(clap::Args)]
struct ExperimentArgs {
    /// Seed of the data set, the request streams and anything else the run
    /// draws at random: the same seed, the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run on PostgreSQL: postgres://USER@HOST:PORT/ANY. The run creates its
    /// own databases under unique names and drops them afterwards (mind the
    /// connection budget: docs/OPERATIONS.md).
    #[arg(long)]
    database_url: Option<String>,
    /// The results folder (default results/[COMMAND-]<timestamp>/).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ScaleArgs {
    /// The process counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    replicas: Vec<usize>,
    /// Seconds of each measured closed loop.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Connections of the closed loop.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    #[command(flatten)]
    run: ExperimentArgs,
}

#[derive(clap::Args)]
struct RolloutArgs {
    /// The constant load, requests per second.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Seconds of load before the rollout starts.
    #[arg(long, default_value_t = 3.0)]
    before: f64,
    /// Seconds of load after the rollout's budget (4 s per process) ends.
    #[arg(long, default_value_t = 2.0)]
    after: f64,
    #[command(flatten)]
    run: ExperimentArgs,
}

#[derive(clap::Args)]
struct ChaosArgs {
    /// The modes to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "acid,saga,naive"
    )]
    modes: Vec<chaos::Mode>,
    /// Orders to place in each mode.
    #[arg(long, default_value_t = 2000)]
    orders: usize,
    /// Clients placing orders at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Users to seed (two in three get money).
    #[arg(long, default_value_t = 60)]
    users: usize,
    /// Products to seed.
    #[arg(long, default_value_t = 20)]
    products: usize,
    /// The fault plan for every process (default: the plan written to the
    /// results folder as fault-plan.toml; see docs/FAULTS.md).
    #[arg(long, value_name = "FILE")]
    fault_plan: Option<PathBuf>,
    /// Do not kill the orders process mid-run (the plan's faults still strike).
    #[arg(long)]
    no_kill: bool,
    /// Processes running the orders component (the orders service, or the
    /// monolith), behind the gateway's balancer.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=8))]
    orders_replicas: u16,
    /// Freeze (SIGSTOP) the first orders process for this many seconds, two
    /// thirds of the way through: past its leases (a request's 5 s deadline
    /// and a second more), so the others take its sagas and keys over while
    /// it still believes it holds them.
    #[arg(long, value_name = "SECONDS")]
    freeze: Option<f64>,
    /// The longest wait, in seconds, for nothing to be in flight after the
    /// orders (what is still pending then counts as a violation).
    #[arg(long, default_value_t = 20.0)]
    settle: f64,
    #[command(flatten)]
    run: ExperimentArgs,
}

#[derive(clap::Args)]
struct IsolationArgs {
    /// The component that fails.
    #[arg(long, value_enum, default_value_t = Component::Catalog)]
    component: Component,
    /// crash: the component is gone (a killed service; in the monolith, its
    /// operations fail at once as unavailable). hang: it answers nothing (a
    /// stopped service; in the monolith, its operations never return).
    #[arg(long, value_enum, default_value_t = Fault::Crash)]
    fault: Fault,
    /// The deployments to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "monolith,micro"
    )]
    deployments: Vec<Kind>,
    /// Requests per second sent to each of the four groups...
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// ...but POST /orders, which gets this many (default: --rate).
    #[arg(long)]
    order_rate: Option<f64>,
    /// Seconds into the fault from which its failures count as its settled
    /// cost (how the orders that failed once a circuit could have opened
    /// were answered).
    #[arg(long, default_value_t = 3.0)]
    settle: f64,
    /// Seconds before the fault.
    #[arg(long, default_value_t = 5.0)]
    before: f64,
    /// Seconds the fault lasts.
    #[arg(long, default_value_t = 5.0)]
    during: f64,
    /// Seconds after the fault.
    #[arg(long, default_value_t = 5.0)]
    after: f64,
    /// Milliseconds after which an unanswered request counts as failed.
    #[arg(long, default_value_t = 6000)]
    timeout_ms: u64,
    #[command(flatten)]
    run: ExperimentArgs,
}

/// Connections of a load run unless told otherwise.
const DEFAULT_CONNECTIONS: usize = 8;

#[derive(clap::Args)]
struct CompareArgs {
    /// Short runs (1 s each, one start-up sample): under a minute, for CI.
    #[arg(long)]
    quick: bool,
    /// Seconds each measured run lasts (default 5, or 1 with --quick).
    #[arg(long)]
    duration: Option<f64>,
    /// Do not pin the deployment and the load generator to separate cores.
    #[arg(long)]
    no_pin: bool,
    /// Microseconds added to every internal hop, comma-separated: the first
    /// for the main run, each further one runs the services again
    /// (e.g. 0,250,1000 shows how the gap grows with network distance).
    #[arg(long, value_delimiter = ',', default_value = "0")]
    hop_delay_us: Vec<u64>,
    /// Also measure build times (clean and incremental, in a copy of the
    /// workspace with its own target directory; takes several minutes).
    #[arg(long)]
    with_build: bool,
    /// Run the measured deployments without hop logs. By default every
    /// process logs one line per hop to <results>/logs/ (a small write per
    /// hop), and the report draws each open loop's slowest request as its
    /// tree of hops (`shoplab trace`).
    #[arg(long)]
    no_hop_logs: bool,
    /// Connections of the closed loop (the open loop keeps up to 64
    /// requests in flight).
    #[arg(long, default_value_t = DEFAULT_CONNECTIONS)]
    connections: usize,
    /// Workloads to run, comma-separated: read, browse, order, mix.
    #[arg(long, value_delimiter = ',', default_value = "read,browse,order,mix")]
    workloads: Vec<String>,
    /// The mix workload's shares.
    #[arg(long)]
    mix: Option<Mix>,
    #[command(flatten)]
    run: ExperimentArgs,
}

#[derive(clap::Args)]
struct AnomaliesArgs {
    /// Seconds the order loops and the readers run, per deployment.
    #[arg(long, default_value_t = anomalies::DEFAULT_WINDOW_S)]
    window: f64,
    /// Order loops at once (c), each as its own user with an empty wallet.
    #[arg(long, default_value_t = anomalies::DEFAULT_ORDER_LOOPS)]
    order_loops: usize,
    /// Units of one probe product each order asks for (q).
    #[arg(long, default_value_t = anomalies::DEFAULT_QUANTITY)]
    quantity: i64,
    /// Readers at once (R), each reading GET /products/{id} in a loop.
    #[arg(long, default_value_t = anomalies::DEFAULT_READERS)]
    readers: usize,
    /// Probe products the orders and the readers share.
    #[arg(long, default_value_t = anomalies::DEFAULT_PRODUCTS)]
    products: usize,
    /// Units each probe product is seeded with (S); a read showing fewer is
    /// dirty.
    #[arg(long, default_value_t = anomalies::DEFAULT_STOCK)]
    stock: i64,
    #[command(flatten)]
    run: ExperimentArgs,
}

#[derive(clap::Args)]
struct LoadArgs {
    /// The deployment's base URL (the monolith, or the gateway).
    #[arg(long)]
    base_url: String,
    /// read, browse, order or mix.
    #[arg(long, default_value = "read")]
    workload: String,
    /// The mix workload's shares, e.g. read=70,browse=10,order=15,deposit=5.
    #[arg(long)]
    mix: Option<Mix>,
    /// Open loop: requests per second, each due on schedule (latency counts
    /// from the schedule). Without --rate: a closed loop.
    #[arg(long)]
    rate: Option<f64>,
    /// Connections: in a closed loop, each sends as fast as answers come;
    /// in an open loop, the most requests in flight at once (a request due
    /// while all are busy waits, and the wait counts). Default 8.
    #[arg(long)]
    connections: Option<usize>,
    /// Seconds to run.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seed of the data set and the request stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Milliseconds after which a request counts as a `timeout` error.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// Seed nothing: reuse the products GET /products lists (read and
    /// browse only).
    #[arg(long)]
    no_seed: bool,
    /// Users to seed.
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Products to seed.
    #[arg(long, default_value_t = 100)]
    products: usize,
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
    /// Skip measuring the generator's own ceiling (which starts shoplab-floor).
    #[arg(long)]
    no_ceiling: bool,
}

fn main() {
    let cli = Cli::parse();
    // `compare` pins itself (the load generator) before the runtime starts,
    // so that every thread it starts inherits the mask and the runtime sizes
    // itself to it.
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    // Planned before the harness pins itself, while it still sees every core.
    let pinning = Pinning::plan();
    if let Command::Compare(args) = &cli.command {
        if let Some(pinning) = pinning.as_ref().filter(|_| !args.no_pin) {
            if let Err(error) = pin::pin_current(&pinning.generator) {
                eprintln!("shoplab: cannot pin the load generator: {error}");
                std::process::exit(1);
            }
            runtime.worker_threads(pinning.generator.len());
        }
    }
    let runtime = runtime
        .enable_all()
        .build()
        .expect("a tokio runtime builds on any supported OS");
    if let Err(error) = runtime.block_on(run(cli, pinning)) {
        eprintln!("shoplab: {}", one_line(&format!("{error:#}")));
        std::process::exit(1);
    }
}

async fn run(cli: Cli, pinning: Option<Pinning>) -> anyhow::Result<()> {
    let bin_dir = match cli.bin_dir {
        Some(dir) => dir,
        None => own_bin_dir()?,
    };
    match cli.command {
        Command::Up {
            kind,
            port,
            data_dir,
            database_url,
            hop_delay_us,
            fault_plan,
            tx,
            log_dir,
            replicas,
            no_metrics,
            prometheus_config,
        } => {
            if kind == Kind::Monolith && tx.is_some() {
                bail!("--tx is for `up micro`: the monolith places an order in one transaction");
            }
            let storage = match database_url {
                Some(url) if is_postgres(&url) => Storage::Postgres(url),
                Some(url) => bail!(
                    "--database-url takes postgres://...; for SQLite use --data-dir (got {url})"
                ),
                None => Storage::Sqlite(
                    data_dir.unwrap_or_else(|| PathBuf::from("data").join(kind_dir(kind))),
                ),
            };
            let log_dir = log_dir.unwrap_or_else(|| match &storage {
                Storage::Sqlite(dir) => dir.join("logs"),
                Storage::Postgres(_) => PathBuf::from("data").join(kind_dir(kind)).join("logs"),
            });
            let mut options = Options::new(kind, bin_dir, storage);
            options.port = port;
            options.hop_delay_us = hop_delay_us;
            options.fault_plan = fault_plan;
            options.tx = tx.unwrap_or_default();
            options.log_dir = Some(log_dir);
            options.replicas = replicas;
            options.metrics = !no_metrics;
            options.echo_stderr = true;
            up(options, prometheus_config).await
        }
        Command::Compare(args) => compare::run(compare_options(args, bin_dir, pinning)?).await,
        Command::Load(args) => load::standalone::run(load_options(args)?, &bin_dir).await,
        Command::BuildTime { out, quick } => build_time(out, quick).await,
        Command::Demo => shoplab::demo::run(bin_dir).await,
        Command::Isolation(args) => isolation::run(isolation_options(args, bin_dir)?).await,
        Command::Chaos(args) => chaos::run(chaos_options(args, bin_dir)?).await,
        Command::Anomalies(args) => anomalies::run(anomalies_options(args, bin_dir)?).await,
        Command::Rollout(args) => rollout::run(rollout_options(args, bin_dir)?).await,
        Command::Scale(args) => scale::run(scale_options(args, bin_dir)?).await,
        Command::Trace {
            request_id,
            log_dir,
            data_dir,
        } => {
            let dirs = match log_dir.or_else(|| data_dir.map(|dir| dir.join("logs"))) {
                Some(dir) => vec![dir],
                None => [Kind::Micro, Kind::Monolith]
                    .map(|kind| PathBuf::from("data").join(kind_dir(kind)).join("logs"))
                    .into_iter()
                    .filter(|dir| dir.is_dir())
                    .collect(),
            };
            shoplab::trace::run(&request_id, &dirs)
        }
    }
}

/// The folder under ./data a deployment of `kind` uses by default.
fn kind_dir(kind: Kind) -> &'static str {
    match kind {
        Kind::Monolith => "monolith",
        Kind::Micro => "micro",
    }
}

fn scale_options(args: ScaleArgs, bin_dir: PathBuf) -> anyhow::Result<scale::Options> {
    let max = shoplab::deploy::MAX_REPLICAS;
    if let Some(bad) = args
        .replicas
        .iter()
        .find(|count| !(1..=max).contains(*count))
    {
        bail!("--replicas takes counts from 1 to {max} (got {bad})");
    }
    if args.connections == 0 {
        bail!("--connections must be at least 1");
    }
    let mut replicas = args.replicas;
    replicas.sort_unstable();
    replicas.dedup();
    Ok(scale::Options {
        bin_dir,
        backend: backend(args.run.database_url)?,
        replicas,
        duration: seconds("--duration", args.duration)?,
        connections: args.connections,
        seed: args.run.seed,
        out: args.run.out,
    })
}

fn rollout_options(args: RolloutArgs, bin_dir: PathBuf) -> anyhow::Result<rollout::Options> {
    if !(args.rate > 0.0 && args.rate.is_finite() && args.rate <= 100_000.0) {
        bail!(
            "--rate must be above 0 and at most 100000 (got {})",
            args.rate
        );
    }
    Ok(rollout::Options {
        bin_dir,
        backend: backend(args.run.database_url)?,
        rate: args.rate,
        before: seconds("--before", args.before)?,
        after: seconds("--after", args.after)?,
        seed: args.run.seed,
        out: args.run.out,
    })
}

fn chaos_options(args: ChaosArgs, bin_dir: PathBuf) -> anyhow::Result<chaos::Options> {
    if args.orders == 0 || args.concurrency == 0 || args.users == 0 || args.products == 0 {
        bail!("--orders, --concurrency, --users and --products must be at least 1");
    }
    if let Some(plan) = &args.fault_plan {
        // Checked here, so that a mistake is one line before anything starts.
        shoplab_common::faults::FaultPlan::load(plan).map_err(anyhow::Error::msg)?;
    }
    let mut modes = args.modes;
    modes.sort();
    modes.dedup();
    Ok(chaos::Options {
        bin_dir,
        backend: backend(args.run.database_url)?,
        out: args.run.out,
        modes,
        orders: args.orders,
        concurrency: args.concurrency,
        users: args.users,
        products: args.products,
        fault_plan: args.fault_plan,
        kill: !args.no_kill,
        orders_replicas: usize::from(args.orders_replicas),
        freeze: args
            .freeze
            .map(|freeze| seconds("--freeze", freeze))
            .transpose()?,
        settle: seconds("--settle", args.settle)?,
        seed: args.run.seed,
    })
}

fn isolation_options(args: IsolationArgs, bin_dir: PathBuf) -> anyhow::Result<isolation::Options> {
    for (flag, rate) in [
        ("--rate", Some(args.rate)),
        ("--order-rate", args.order_rate),
    ] {
        if let Some(rate) =
            rate.filter(|rate| !(*rate > 0.0 && rate.is_finite() && *rate <= 100_000.0))
        {
            bail!("{flag} must be above 0 and at most 100000 (got {rate})");
        }
    }
    let mut deployments = args.deployments;
    deployments.dedup();
    if deployments.is_empty() {
        bail!("--deployments names no deployment");
    }
    Ok(isolation::Options {
        bin_dir,
        backend: backend(args.run.database_url)?,
        out: args.run.out,
        deployments,
        component: args.component,
        fault: args.fault,
        rate: args.rate,
        order_rate: args.order_rate,
        settle: seconds("--settle", args.settle)?,
        before: seconds("--before", args.before)?,
        during: seconds("--during", args.during)?,
        after: seconds("--after", args.after)?,
        timeout: Duration::from_millis(args.timeout_ms.max(1)),
        seed: args.run.seed,
    })
}

/// SQLite (the default), or fresh databases on the PostgreSQL server named.
fn backend(database_url: Option<String>) -> anyhow::Result<Backend> {
    match database_url {
        None => Ok(Backend::Sqlite),
        Some(url) if is_postgres(&url) => Ok(Backend::Postgres(url)),
        Some(url) => {
            bail!("--database-url takes postgres://... (SQLite is the default; got {url})")
        }
    }
}

async fn build_time(out: Option<PathBuf>, quick: bool) -> anyhow::Result<()> {
    let out = compare::results_dir(out, "build-")?;
    let source = compare::source_root();
    let scope = shoplab::build_time::Scope { quick };
    let figures =
        tokio::task::spawn_blocking(move || shoplab::build_time::measure(&source, scope)).await??;
    figures.print();
    let path = out.join("build.json");
    std::fs::write(&path, serde_json::to_string_pretty(&figures)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("written: {}", path.display());
    Ok(())
}

fn anomalies_options(args: AnomaliesArgs, bin_dir: PathBuf) -> anyhow::Result<anomalies::Options> {
    let parameters = anomalies::Parameters {
        window_s: args.window,
        order_loops: args.order_loops,
        quantity: args.quantity,
        readers: args.readers,
        products: args.products,
        stock: args.stock,
        seed: args.run.seed,
    };
    parameters.check()?;
    Ok(anomalies::Options {
        bin_dir,
        backend: backend(args.run.database_url)?,
        out: args.run.out,
        parameters,
    })
}

fn compare_options(
    args: CompareArgs,
    bin_dir: PathBuf,
    pinning: Option<Pinning>,
) -> anyhow::Result<compare::Options> {
    let backend = backend(args.run.database_url)?;
    let duration = args.duration.unwrap_or(if args.quick { 1.0 } else { 5.0 });
    let workloads = args
        .workloads
        .iter()
        .map(|name| parse_workload(name.trim(), args.mix.clone()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if workloads.is_empty() {
        bail!("--workloads names no workload");
    }
    if args.connections == 0 {
        bail!("--connections must be at least 1");
    }
    Ok(compare::Options {
        bin_dir,
        backend,
        out: args.run.out,
        quick: args.quick,
        duration: seconds("--duration", duration)?,
        warm_up: Duration::from_secs_f64(if args.quick { 0.5 } else { 2.0 }),
        connections: args.connections,
        seed: args.run.seed,
        pinning: pinning.filter(|_| !args.no_pin),
        hop_delays_us: if args.hop_delay_us.is_empty() {
            vec![0]
        } else {
            args.hop_delay_us
        },
        with_build: args.with_build,
        workloads,
        startups: if args.quick { 1 } else { 5 },
        hop_samples: if args.quick { 300 } else { 2000 },
        hop_logs: !args.no_hop_logs,
    })
}

fn load_options(args: LoadArgs) -> anyhow::Result<load::standalone::Options> {
    let connections = args.connections.unwrap_or(DEFAULT_CONNECTIONS);
    if connections == 0 {
        bail!("--connections must be at least 1");
    }
    let mode = match args.rate {
        Some(rate) if rate > 0.0 && rate.is_finite() => Mode::Open { rate, connections },
        Some(rate) => bail!("--rate must be above 0 (got {rate})"),
        None => Mode::Closed { connections },
    };
    if !args.base_url.starts_with("http://") && !args.base_url.starts_with("https://") {
        bail!("--base-url must start with http:// (got {})", args.base_url);
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    Ok(load::standalone::Options {
        run: load::Run {
            base_url: args.base_url,
            workload: parse_workload(&args.workload, args.mix)?,
            mode,
            duration: seconds("--duration", args.duration)?,
            seed: args.seed,
            timeout: Duration::from_millis(args.timeout_ms.max(1)),
            request_id_prefix: format!("load-{}", &token[..8]),
        },
        no_seed: args.no_seed,
        size: SeedSize {
            users: args.users,
            products: args.products.max(1),
        },
        json: args.json,
        ceiling: !args.no_ceiling,
    })
}

/// Prints where each process serves its metrics and, if asked, writes a
/// Prometheus configuration that scrapes them all.
fn announce_scrape_targets(
    deployment: &Deployment,
    config: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let targets = shoplab::prometheus::targets(deployment);
    if !targets.is_empty() {
        eprintln!("metrics (Prometheus scrape targets):");
    }
    for target in &targets {
        eprintln!("  {} {}", target.process, target.url());
    }
    if let Some(path) = config {
        shoplab::prometheus::write_config(path, deployment)?;
        eprintln!(
            "wrote a Prometheus configuration: prometheus --config.file={}",
            path.display()
        );
    }
    Ok(())
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A positive, finite number of seconds.
fn seconds(flag: &str, value: f64) -> anyhow::Result<Duration> {
    if !(value > 0.0 && value.is_finite() && value <= 86_400.0) {
        bail!("{flag} must be a number of seconds above 0 (got {value})");
    }
    Ok(Duration::from_secs_f64(value))
}

async fn up(options: Options, prometheus_config: Option<PathBuf>) -> anyhow::Result<()> {
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
