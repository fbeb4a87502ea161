//! Starting a whole deployment as child processes: the monolith (one process)
//! or the microservices (four services and the gateway), on SQLite files in a
//! directory or on PostgreSQL. Used by `shoplab up`, `shoplab demo`,
//! `shoplab isolation` and the contract suite alike.
//!
//! Once started, every process is supervised (`supervisor.rs`): one that
//! exits is started again at the same address, so a deployment stays whole
//! however its processes fail, as it would under systemd or Kubernetes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::postgres;
use crate::process::Process;
use crate::supervisor::{Launch, Supervised};

/// Which deployment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One process, one database.
    Monolith,
    /// Users, catalog, payments and orders services behind a gateway.
    Micro,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Monolith => "monolith",
            Kind::Micro => "microservices",
        }
    }
}

/// Where a deployment keeps its data.
#[derive(Debug, Clone)]
pub enum Storage {
    /// An SQLite file per database, in this directory (created if missing).
    Sqlite(PathBuf),
    /// `postgres://HOST/NAME`: the monolith uses NAME; the services use
    /// NAME_users, NAME_catalog, NAME_payments, NAME_orders.
    Postgres(String),
}

impl Storage {
    /// The database URL for `name` (`monolith`, or a service's name).
    fn url_for(&self, kind: Kind, name: &str) -> anyhow::Result<String> {
        match (self, kind) {
            (Storage::Sqlite(dir), _) => Ok(format!(
                "sqlite://{}",
                dir.join(format!("{name}.db")).display()
            )),
            (Storage::Postgres(url), Kind::Monolith) => Ok(url.clone()),
            (Storage::Postgres(url), Kind::Micro) => {
                let base = postgres::database_name(url)?;
                postgres::with_database(url, &format!("{base}_{name}"))
            }
        }
    }

    /// Every database URL a deployment of `kind` uses.
    pub fn urls(&self, kind: Kind) -> anyhow::Result<Vec<String>> {
        match kind {
            Kind::Monolith => Ok(vec![self.url_for(kind, "monolith")?]),
            Kind::Micro => SERVICES
                .iter()
                .map(|service| self.url_for(kind, service))
                .collect(),
        }
    }
}

const SERVICES: [&str; 4] = ["users", "catalog", "payments", "orders"];

/// How many processes run each part of a deployment: `3` (every part:
/// the monolith, or each service) or `catalog=3,orders=2` (the parts not
/// named run one). Several processes of a part stand behind a load
/// balancer: the gateway (in front of monoliths, in its `--monolith-url`
/// mode), and each service's client to its peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaCounts {
    every: usize,
    parts: Vec<(String, usize)>,
}

/// The most processes of one part: the machine has few cores, and each
/// process keeps a database pool of its own.
pub const MAX_REPLICAS: usize = 8;

impl Default for ReplicaCounts {
    fn default() -> Self {
        Self::every(1)
    }
}

impl ReplicaCounts {
    /// `count` processes of every part.
    pub fn every(count: usize) -> Self {
        Self {
            every: count,
            parts: Vec::new(),
        }
    }

    /// `count` processes of `part` (`monolith`, or a service's name), one
    /// of every other.
    pub fn of_part(part: &str, count: usize) -> Self {
        Self {
            every: 1,
            parts: vec![(part.to_owned(), count)],
        }
    }

    /// How many processes run `part`.
    pub fn of(&self, part: &str) -> usize {
        self.parts
            .iter()
            .find(|(name, _)| name == part)
            .map_or(self.every, |(_, count)| *count)
    }

    /// Whether every part runs as one process.
    pub fn all_single(&self) -> bool {
        self.every == 1 && self.parts.iter().all(|(_, count)| *count == 1)
    }

    /// Refuses parts that `kind` does not have.
    fn check(&self, kind: Kind) -> anyhow::Result<()> {
        let known: &[&str] = match kind {
            Kind::Monolith => &["monolith"],
            Kind::Micro => &SERVICES,
        };
        if let Some((part, _)) = self
            .parts
            .iter()
            .find(|(part, _)| !known.contains(&part.as_str()))
        {
            bail!(
                "--replicas names {part}, which the {} does not have (it has: {})",
                kind.label(),
                known.join(", ")
            );
        }
        Ok(())
    }
}

impl std::str::FromStr for ReplicaCounts {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let count = |value: &str| -> Result<usize, String> {
            match value.trim().parse::<usize>() {
                Ok(count) if (1..=MAX_REPLICAS).contains(&count) => Ok(count),
                _ => Err(format!(
                    "{value:?} is not a number of processes from 1 to {MAX_REPLICAS}"
                )),
            }
        };
        if !text.contains('=') {
            return Ok(Self::every(count(text)?));
        }
        let mut parts = Vec::new();
        for pair in text.split(',') {
            let Some((part, value)) = pair.split_once('=') else {
                return Err(format!("{pair:?} is not PART=COUNT (e.g. catalog=3)"));
            };
            parts.push((part.trim().to_owned(), count(value)?));
        }
        Ok(Self { every: 1, parts })
    }
}

/// The name of the `index`th of `count` processes of `binary`: the binary's
/// own name when it is the only one, `shoplab-catalog.2` otherwise.
fn replica_name(binary: &str, index: usize, count: usize) -> String {
    if count == 1 {
        binary.to_owned()
    } else {
        format!("{binary}.{}", index + 1)
    }
}

/// The binary a process named `name` runs: [`replica_name`] undone.
fn binary_of(name: &str) -> &str {
    name.split_once('.').map_or(name, |(binary, _)| binary)
}

/// How long a process behind a load balancer keeps serving after SIGTERM
/// while its `/health` says it is draining: a little over two of the
/// balancer's health checks (every 250 ms by default), so that it has
/// stopped sending here before the process stops accepting.
pub const DRAIN_NOTICE: Duration = Duration::from_millis(600);

/// How the microservices' orders service places an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Tx {
    /// A saga: each step recorded, compensated when a later one fails.
    #[default]
    Saga,
    /// The steps one after the other, with no record and no compensation:
    /// what a naive split of the monolith's transaction gives.
    Naive,
}

/// How to start a deployment.
#[derive(Debug, Clone)]
pub struct Options {
    pub kind: Kind,
    /// Where the binaries are (normally next to `shoplab` itself).
    pub bin_dir: PathBuf,
    pub storage: Storage,
    /// The public port (the monolith's or the gateway's); 0 picks a free one.
    pub port: u16,
    /// Run every process on these cores only (see `pin.rs`).
    pub cores: Option<Vec<usize>>,
    /// A delay every internal HTTP hop adds, in microseconds, standing for
    /// network distance (microservices only; 0 adds nothing).
    pub hop_delay_us: u64,
    /// A fault plan (TOML) given to every process as `--fault-plan`.
    pub fault_plan: Option<PathBuf>,
    /// How the orders service places an order (microservices only; `Naive`
    /// is passed as `--tx naive`, the default passes nothing).
    pub tx: Tx,
    /// A directory for the processes' hop logs: each process writes
    /// `DIR/<binary>.log` (`--log-file`), which `shoplab trace` reads.
    pub log_dir: Option<PathBuf>,
    /// The deployment's internal token, handed to every process in its
    /// environment (`SHOPLAB_INTERNAL_TOKEN`, so it shows in no command
    /// line): the services then answer `/internal/...` only to each other.
    /// [`Options::new`] makes a fresh random one; `None` leaves them open.
    pub internal_token: Option<String>,
    /// How many processes run each part ([`ReplicaCounts`]).
    pub replicas: ReplicaCounts,
    /// Put the gateway in front of the monolith even when it runs as one
    /// process, so that one and several are reached the same way
    /// (`shoplab scale` compares them).
    pub balance_one_monolith: bool,
    /// Give every process a `/metrics` endpoint of its own
    /// (`--metrics-addr 127.0.0.1:0`; each [`Member`] says where). Off by
    /// default: the lab's measurements run without metrics.
    pub metrics: bool,
    /// Pass every process's stderr on to ours, each line under the
    /// process's name (`shoplab up`); otherwise only its last lines are
    /// kept, to say why it exited.
    pub echo_stderr: bool,
}

impl Options {
    /// A deployment on a free port, unpinned, with no added hop delay.
    pub fn new(kind: Kind, bin_dir: PathBuf, storage: Storage) -> Self {
        Options {
            kind,
            bin_dir,
            storage,
            port: 0,
            cores: None,
            hop_delay_us: 0,
            fault_plan: None,
            tx: Tx::Saga,
            log_dir: None,
            internal_token: Some(uuid::Uuid::new_v4().simple().to_string()),
            replicas: ReplicaCounts::default(),
            balance_one_monolith: false,
            metrics: false,
            echo_stderr: false,
        }
    }

    /// What every process of the deployment gets in its environment.
    fn envs(&self) -> Vec<(String, String)> {
        self.internal_token
            .iter()
            .map(|token| ("SHOPLAB_INTERNAL_TOKEN".to_owned(), token.clone()))
            .collect()
    }
}

/// One process of a running deployment, as the harness sees it.
#[derive(Debug, Clone)]
pub struct Member {
    /// The binary's name (`shoplab-orders`).
    pub name: String,
    /// The current process's pid (a restart changes it); `None` while down.
    pub pid: Option<u32>,
    /// Its address, kept across restarts.
    pub url: String,
    /// Its `/metrics` endpoint (`http://ADDR`, with [`Options::metrics`]),
    /// kept across restarts.
    pub metrics_url: Option<String>,
    /// From its first spawn to its own `/health` answering 200.
    pub startup: Duration,
    /// How many times it was started again (see `supervisor.rs`).
    pub restarts: u32,
}

/// A running deployment.
pub struct Deployment {
    pub kind: Kind,
    /// API.md's base URL: the monolith, or the gateway.
    pub base_url: String,
    /// From the first process start to the first passing `/health`.
    pub startup: Duration,
    /// When the first process was spawned: a fault plan's windows count
    /// from (about) then.
    pub spawned_at: Instant,
    /// The token its services require on `/internal/...` (the harness's own
    /// internal reads, such as chaos's look at sagas in flight, send it).
    pub internal_token: Option<String>,
    processes: Vec<Supervised>,
    /// Set by `stop`: from then on nothing is restarted.
    shutting_down: Arc<AtomicBool>,
}

impl Deployment {
    pub async fn start(options: &Options) -> anyhow::Result<Self> {
        if options.kind == Kind::Monolith && options.tx != Tx::Saga {
            bail!("the monolith places an order in one transaction: --tx is for the microservices");
        }
        options.replicas.check(options.kind)?;
        let started = Instant::now();
        if let Storage::Postgres(_) = &options.storage {
            for url in options.storage.urls(options.kind)? {
                tokio::task::spawn_blocking(move || postgres::ensure_database(&url)).await??;
            }
        }
        let spawned_at = Instant::now();
        let mut launched = Vec::new();
        let base_url = match launch(options, &mut launched).await {
            Ok(url) => url,
            Err(error) => {
                stop_all(launched).await;
                return Err(error);
            }
        };
        // Up: from now on each process is restarted if it exits.
        let shutting_down = Arc::new(AtomicBool::new(false));
        let processes = launched
            .into_iter()
            .map(|(process, args)| {
                let launch = Launch {
                    bin_dir: options.bin_dir.clone(),
                    name: process.name.clone(),
                    binary: binary_of(&process.name).to_owned(),
                    args,
                    cores: options.cores.clone(),
                    envs: options.envs(),
                    echo: options.echo_stderr,
                };
                Supervised::start(process, launch, Arc::clone(&shutting_down))
            })
            .collect();
        let mut deployment = Deployment {
            kind: options.kind,
            base_url,
            startup: Duration::ZERO,
            spawned_at,
            internal_token: options.internal_token.clone(),
            processes,
            shutting_down,
        };
        if let Err(error) = deployment.wait_healthy().await {
            deployment.stop().await;
            return Err(error);
        }
        deployment.startup = started.elapsed();
        Ok(deployment)
    }

    async fn wait_healthy(&self) -> anyhow::Result<()> {
        wait_for_health(&self.base_url, self.kind.label()).await
    }

    /// `(name, pid)` of every process that is up now.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.processes
            .iter()
            .filter_map(|process| Some((process.name.clone(), process.pid()?)))
            .collect()
    }

    /// Every process: name, current pid, URL, start-up time, restarts.
    pub fn members(&self) -> Vec<Member> {
        self.processes
            .iter()
            .map(|process| Member {
                name: process.name.clone(),
                pid: process.pid(),
                url: process.url.clone(),
                metrics_url: process.metrics_url.clone(),
                startup: process.startup,
                restarts: process.restarts(),
            })
            .collect()
    }

    /// `(name, restarts)` of every process: how many times each was
    /// started again after its first start.
    pub fn restarts(&self) -> Vec<(String, u32)> {
        self.processes
            .iter()
            .map(|process| (process.name.clone(), process.restarts()))
            .collect()
    }

    /// The URL of the process started from `binary`.
    pub fn url_of(&self, binary: &str) -> Option<&str> {
        self.processes
            .iter()
            .find(|process| process.name == binary)
            .map(|process| process.url.as_str())
    }

    /// CPU time used so far by each process, by binary name (of the
    /// current process: a restart starts it from zero again).
    pub fn cpu_times(&self) -> Vec<(String, Duration)> {
        self.processes
            .iter()
            .map(|process| {
                let used = process.pid().and_then(crate::cpu::cpu_time);
                (process.name.clone(), used.unwrap_or_default())
            })
            .collect()
    }

    /// Resident memory of each process, by binary name.
    pub fn rss_by_process(&self) -> Vec<(String, u64)> {
        self.processes
            .iter()
            .map(|process| {
                let resident = process.pid().and_then(crate::cpu::rss_bytes);
                (process.name.clone(), resident.unwrap_or_default())
            })
            .collect()
    }

    /// Resident memory of all the deployment's processes together, in bytes.
    pub fn rss_bytes(&self) -> u64 {
        self.rss_by_process().iter().map(|(_, bytes)| bytes).sum()
    }

    pub fn process_count(&self) -> usize {
        self.processes.len()
    }

    /// Sends `signal` to the process started from `binary` (e.g.
    /// `shoplab-catalog`), as it runs now: SIGKILL crashes it (and its
    /// supervisor starts it again), SIGSTOP makes it hang with its port still
    /// open, SIGCONT lets it go on.
    pub fn signal(&self, binary: &str, signal: Signal) -> anyhow::Result<()> {
        let pid = self
            .member(binary)?
            .pid()
            .and_then(|pid| i32::try_from(pid).ok())
            .with_context(|| format!("{binary} is down"))?;
        kill(Pid::from_raw(pid), signal).with_context(|| format!("cannot signal {binary}"))?;
        Ok(())
    }

    /// Pauses (`false`: SIGUSR2) or resumes (`true`: SIGUSR1) the hop log
    /// of every process (`common/src/http/hop_log/mod.rs`). A process that
    /// is down at the moment starts again logging.
    pub fn hop_logs(&self, on: bool) {
        let signal = if on { Signal::SIGUSR1 } else { Signal::SIGUSR2 };
        for (_, pid) in self.pids() {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(pid), signal);
            }
        }
    }

    /// SIGKILLs `binary` and keeps it down (no restart) until
    /// [`release`](Self::release): a crash that lasts.
    pub async fn hold_down(&self, binary: &str) -> anyhow::Result<()> {
        self.member(binary)?.hold_down().await
    }

    /// Starts a held-down `binary` again, at its address, and waits until
    /// its own `/health` answers 200.
    pub async fn release(&self, binary: &str) -> anyhow::Result<()> {
        let process = self.member(binary)?;
        process.release().await?;
        wait_for_health(&process.url, binary).await
    }

    /// Deploys the process named `name` anew, as a rolling update does:
    /// stops it gracefully (it drains first if a balancer stands in front
    /// of it), starts the binary on disk again at its address, and waits
    /// until its own `/health` answers 200.
    pub async fn replace(&self, name: &str) -> anyhow::Result<()> {
        let process = self.member(name)?;
        process.replace().await?;
        wait_for_health(&process.url, name).await
    }

    /// The names of the processes started from `binary`, in order
    /// (`shoplab-catalog`, or `shoplab-catalog.1`, `shoplab-catalog.2`...).
    pub fn replicas_of(&self, binary: &str) -> Vec<String> {
        self.processes
            .iter()
            .filter(|process| {
                process.name == binary
                    || process
                        .name
                        .strip_prefix(binary)
                        .is_some_and(|rest| rest.starts_with('.'))
            })
            .map(|process| process.name.clone())
            .collect()
    }

    fn member(&self, binary: &str) -> anyhow::Result<&Supervised> {
        self.processes
            .iter()
            .find(|process| process.name == binary)
            .with_context(|| format!("no {binary} in this deployment"))
    }

    /// Stops every process (the gateway first, so no request reaches a
    /// half-stopped deployment), restarting none of them on the way.
    pub async fn stop(mut self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.processes.reverse();
        for process in self.processes {
            process.stop().await;
        }
    }
}

/// Stops processes that are not supervised yet (a start that failed part-way).
async fn stop_all(mut processes: Vec<(Process, Vec<String>)>) {
    processes.reverse();
    for (process, _) in processes {
        process.stop().await;
    }
}

/// The public address a deployment listens on.
fn public_addr(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// A started process and the arguments it was started with.
type Launched = Vec<(Process, Vec<String>)>;

/// Starts the processes in dependency order, pushing each into `processes` as
/// it comes up (so that a failure part-way can stop what already runs).
async fn launch(options: &Options, processes: &mut Launched) -> anyhow::Result<String> {
    let storage = &options.storage;
    let kind = options.kind;
    let own_database = |name: &str| -> anyhow::Result<Vec<String>> {
        Ok(vec![
            "--addr".to_owned(),
            public_addr(0),
            "--database-url".to_owned(),
            storage.url_for(kind, name)?,
        ])
    };
    match kind {
        Kind::Monolith => {
            let count = options.replicas.of("monolith");
            let mut args = own_database("monolith")?;
            if count == 1 && !options.balance_one_monolith {
                args[1] = public_addr(options.port);
                return start_part(options, "shoplab-monolith", 1, args, processes).await;
            }
            let monoliths = start_part(options, "shoplab-monolith", count, args, processes).await?;
            let gateway_args = vec![
                "--addr".to_owned(),
                public_addr(options.port),
                "--monolith-url".to_owned(),
                monoliths,
            ];
            start_part(options, "shoplab-gateway", 1, gateway_args, processes).await
        }
        Kind::Micro => {
            let service = |name: &str, peers: &[(&str, &str)]| -> anyhow::Result<Vec<String>> {
                let mut args = own_database(name)?;
                for (peer, url) in peers {
                    args.push(format!("--{peer}-url"));
                    args.push((*url).to_owned());
                }
                Ok(args)
            };
            let (users_args, catalog_args) = (service("users", &[])?, service("catalog", &[])?);
            let (mut users_started, mut catalog_started) = (Vec::new(), Vec::new());
            let (users, catalog) = tokio::join!(
                start_service(options, "users", users_args, &mut users_started),
                start_service(options, "catalog", catalog_args, &mut catalog_started),
            );
            processes.append(&mut users_started);
            processes.append(&mut catalog_started);
            let (users, catalog) = (users?, catalog?);
            let payments_args = with_hop_delay(options, service("payments", &[("users", &users)])?);
            let payments = start_service(options, "payments", payments_args, processes).await?;
            let peers = [
                ("users", users.as_str()),
                ("catalog", catalog.as_str()),
                ("payments", payments.as_str()),
            ];
            let mut orders_args = with_hop_delay(options, service("orders", &peers)?);
            if options.tx == Tx::Naive {
                orders_args.extend(["--tx".to_owned(), "naive".to_owned()]);
            }
            let orders = start_service(options, "orders", orders_args, processes).await?;
            let gateway_args = vec![
                "--addr".to_owned(),
                public_addr(options.port),
                "--users-url".to_owned(),
                users,
                "--catalog-url".to_owned(),
                catalog,
                "--payments-url".to_owned(),
                payments,
                "--orders-url".to_owned(),
                orders,
            ];
            let gateway_args = with_hop_delay(options, gateway_args);
            start_part(options, "shoplab-gateway", 1, gateway_args, processes).await
        }
    }
}

/// Starts the processes of the service `service` (`options.replicas` says
/// how many).
async fn start_service(
    options: &Options,
    service: &str,
    args: Vec<String>,
    processes: &mut Launched,
) -> anyhow::Result<String> {
    let count = options.replicas.of(service);
    let binary = format!("shoplab-{service}");
    start_part(options, &binary, count, args, processes).await
}

/// Starts `count` processes of `binary`: the first alone (it migrates the
/// database, which the others share), the rest together. Several get a
/// drain notice, since a balancer stands in front of them. Returns their
/// URLs, comma-separated, as the balancers take them.
async fn start_part(
    options: &Options,
    binary: &str,
    count: usize,
    mut args: Vec<String>,
    processes: &mut Launched,
) -> anyhow::Result<String> {
    if count > 1 {
        args.push("--drain-notice-ms".to_owned());
        args.push(DRAIN_NOTICE.as_millis().to_string());
    }
    let first = start(
        options,
        binary,
        &replica_name(binary, 0, count),
        args.clone(),
    )
    .await;
    let mut urls = vec![push(processes, first)?];
    let others = (1..count).map(|index| {
        let name = replica_name(binary, index, count);
        let args = args.clone();
        async move { start(options, binary, &name, args).await }
    });
    for started in futures_util::future::join_all(others).await {
        urls.push(push(processes, started)?);
    }
    Ok(urls.join(","))
}

/// Starts one process of the deployment, pinned as `options` say, with the
/// fault plan, hop log and metrics endpoint if asked for, and waits until
/// its own `/health` answers 200. `name` is `binary`, or a replica's name
/// (`shoplab-catalog.2`). Returns it with the arguments it was started with.
async fn start(
    options: &Options,
    binary: &str,
    name: &str,
    mut args: Vec<String>,
) -> anyhow::Result<(Process, Vec<String>)> {
    // Passed only when asked for, so binaries without the flag still start.
    if let Some(plan) = &options.fault_plan {
        args.push("--fault-plan".into());
        args.push(plan.display().to_string());
    }
    if let Some(dir) = &options.log_dir {
        args.push("--log-file".into());
        args.push(dir.join(format!("{name}.log")).display().to_string());
    }
    if options.metrics {
        // A free port on loopback: the process prints which.
        args.push("--metrics-addr".into());
        args.push("127.0.0.1:0".into());
    }
    let mut process = Process::spawn_on(
        &options.bin_dir,
        binary,
        &args,
        options.cores.as_deref(),
        &options.envs(),
    )
    .await?;
    process.name = name.to_owned();
    if options.echo_stderr {
        process.echo_stderr(name);
    }
    match wait_for_health(&process.url, name).await {
        Ok(()) => {
            process.startup = process.spawned_at.elapsed();
            Ok((process, args))
        }
        Err(error) => {
            process.stop().await;
            Err(error)
        }
    }
}

/// How long a process or a deployment may take to pass `/health`.
const HEALTHY_WITHIN: Duration = Duration::from_secs(30);

/// Polls `base_url/health` until it answers 200. The polls are 2 ms apart,
/// fine enough for start-up times of a few milliseconds.
async fn wait_for_health(base_url: &str, name: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + HEALTHY_WITHIN;
    let url = format!("{base_url}/health");
    loop {
        if let Ok(response) = client.get(&url).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("{name} did not pass {url} within {HEALTHY_WITHIN:?}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// `args` plus `--hop-delay-us` when a delay is asked for.
fn with_hop_delay(options: &Options, mut args: Vec<String>) -> Vec<String> {
    if options.hop_delay_us > 0 {
        args.push("--hop-delay-us".into());
        args.push(options.hop_delay_us.to_string());
    }
    args
}

/// Keeps a started process (or passes on why it did not start); returns its URL.
fn push(
    processes: &mut Launched,
    started: anyhow::Result<(Process, Vec<String>)>,
) -> anyhow::Result<String> {
    let (process, args) = started?;
    let url = process.url.clone();
    processes.push((process, args));
    Ok(url)
}

/// The directory of the running executable: where cargo puts every binary of
/// the workspace, `shoplab` and the deployments' alike.
pub fn own_bin_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find shoplab's own executable")?;
    exe.parent()
        .map(Path::to_path_buf)
        .context("shoplab's executable has no directory")
}
