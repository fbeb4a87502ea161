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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
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
    /// Give every process a `/metrics` endpoint of its own
    /// (`--metrics-addr 127.0.0.1:0`; each [`Member`] says where). Off by
    /// default: the lab's measurements run without metrics.
    pub metrics: bool,
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
            metrics: false,
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
                    binary: process.name.clone(),
                    args,
                    cores: options.cores.clone(),
                    envs: options.envs(),
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
    match kind {
        Kind::Monolith => {
            let args = vec![
                "--addr".into(),
                public_addr(options.port),
                "--database-url".into(),
                storage.url_for(kind, "monolith")?,
            ];
            let monolith = start(options, "shoplab-monolith", args).await;
            push(processes, monolith)
        }
        Kind::Micro => {
            let service = |name: &str, peers: &[(&str, &str)]| -> anyhow::Result<Vec<String>> {
                let mut args = vec![
                    "--addr".to_owned(),
                    public_addr(0),
                    "--database-url".to_owned(),
                    storage.url_for(kind, name)?,
                ];
                for (peer, url) in peers {
                    args.push(format!("--{peer}-url"));
                    args.push((*url).to_owned());
                }
                Ok(args)
            };
            let (users_args, catalog_args) = (service("users", &[])?, service("catalog", &[])?);
            let (users, catalog) = tokio::join!(
                start(options, "shoplab-users", users_args),
                start(options, "shoplab-catalog", catalog_args),
            );
            let (users, catalog) = (push(processes, users)?, push(processes, catalog)?);
            let payments = start(
                options,
                "shoplab-payments",
                with_hop_delay(options, service("payments", &[("users", &users)])?),
            )
            .await;
            let payments = push(processes, payments)?;
            let mut orders_args = with_hop_delay(
                options,
                service(
                    "orders",
                    &[
                        ("users", &users),
                        ("catalog", &catalog),
                        ("payments", &payments),
                    ],
                )?,
            );
            if options.tx == Tx::Naive {
                orders_args.extend(["--tx".to_owned(), "naive".to_owned()]);
            }
            let orders = start(options, "shoplab-orders", orders_args).await;
            let orders = push(processes, orders)?;
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
            let gateway = start(options, "shoplab-gateway", gateway_args).await;
            push(processes, gateway)
        }
    }
}

/// Starts one process of the deployment, pinned as `options` say, with the
/// fault plan, hop log and metrics endpoint if asked for, and waits until
/// its own `/health` answers 200. Returns it with the arguments it was
/// started with.
async fn start(
    options: &Options,
    binary: &str,
    mut args: Vec<String>,
) -> anyhow::Result<(Process, Vec<String>)> {
    // Passed only when asked for, so binaries without the flag still start.
    if let Some(plan) = &options.fault_plan {
        args.push("--fault-plan".into());
        args.push(plan.display().to_string());
    }
    if let Some(dir) = &options.log_dir {
        args.push("--log-file".into());
        args.push(dir.join(format!("{binary}.log")).display().to_string());
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
    match wait_for_health(&process.url, binary).await {
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
