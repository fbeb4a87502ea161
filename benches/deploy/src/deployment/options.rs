//! How to start a deployment: which one ([`Kind`]), on what databases
//! ([`Storage`]), with how many processes of each part ([`ReplicaCounts`]),
//! and everything else a start can be asked for ([`Options`]).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use shoplab_common::components::Component;
use shoplab_common::grouping::Grouping;

use crate::postgres;

/// Which deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// One process, one database.
    Monolith,
    /// Users, catalog, payments and orders services behind a gateway.
    Micro,
    /// The components grouped into processes as the grouping says, one
    /// `shoplab-group` each, every component on its own database, the
    /// gateway in front of more than one. [`Grouping::TOGETHER`] is the
    /// modular monolith.
    Group(Grouping, Calls),
}

/// How a group calls the components it hosts itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, clap::ValueEnum)]
pub enum Calls {
    /// Function calls.
    #[default]
    InProcess,
    /// Loopback HTTP to its own port (`--calls http`).
    Http,
}

impl Kind {
    /// The modular monolith: one process, four databases, the saga.
    pub const MODULAR: Kind = Kind::Group(Grouping::TOGETHER, Calls::InProcess);

    /// The modular monolith calling its own components over loopback HTTP.
    pub const MODULAR_HTTP: Kind = Kind::Group(Grouping::TOGETHER, Calls::Http);

    /// How tables and reports name it, in words: `monolith`,
    /// `microservices`, `modular`, `modular over HTTP`,
    /// `users+payments/catalog/orders`.
    pub fn label(self) -> String {
        match self {
            Kind::Monolith => "monolith".into(),
            Kind::Micro => "microservices".into(),
            Kind::Group(grouping, calls) => {
                let what = if grouping == Grouping::TOGETHER {
                    "modular".to_owned()
                } else {
                    grouping.to_string()
                };
                match calls {
                    Calls::InProcess => what,
                    Calls::Http => format!("{what} over HTTP"),
                }
            }
        }
    }

    /// How flags and JSON name it ([`FromStr`](std::str::FromStr) reads it
    /// back): `monolith`, `micro`, `modular`, `modular-http`,
    /// `group:users+payments/catalog/orders`, `group-http:...`.
    pub fn name(self) -> String {
        match self {
            Kind::Monolith => "monolith".into(),
            Kind::Micro => "micro".into(),
            Kind::MODULAR => "modular".into(),
            Kind::MODULAR_HTTP => "modular-http".into(),
            Kind::Group(grouping, Calls::InProcess) => format!("group:{grouping}"),
            Kind::Group(grouping, Calls::Http) => format!("group-http:{grouping}"),
        }
    }

    /// Its [`name`](Self::name) as a file or directory name: `group-users+payments_catalog_orders`.
    pub fn dir_name(self) -> String {
        self.name().replace(':', "-").replace('/', "_")
    }

    /// The name of the process that runs `component`: `shoplab-monolith`,
    /// `shoplab-catalog`, or the group's (`shoplab-group:users+payments`).
    pub fn process_of(self, component: Component) -> String {
        match self {
            Kind::Monolith => "shoplab-monolith".into(),
            Kind::Micro => format!("shoplab-{component}"),
            Kind::Group(grouping, _) => {
                group_process_name(&grouping.groups()[grouping.group_of(component)])
            }
        }
    }

    /// Whether each component has a database of its own (and an order is
    /// a saga): everything but the monolith.
    pub fn split_databases(self) -> bool {
        self != Kind::Monolith
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl std::str::FromStr for Kind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let group = |grouping: &str, calls| {
            grouping
                .parse::<Grouping>()
                .map(|grouping| Kind::Group(grouping, calls))
                .map_err(|error| format!("{text:?}: {error}"))
        };
        match text.trim() {
            "monolith" => Ok(Kind::Monolith),
            "micro" => Ok(Kind::Micro),
            "modular" => Ok(Kind::MODULAR),
            "modular-http" => Ok(Kind::MODULAR_HTTP),
            other => match other.split_once(':') {
                Some(("group", grouping)) => group(grouping, Calls::InProcess),
                Some(("group-http", grouping)) => group(grouping, Calls::Http),
                _ => Err(format!(
                    "{text:?} is not a deployment: monolith, micro, modular, modular-http, \
                     group:GROUPING or group-http:GROUPING (GROUPING as users+payments/catalog/orders)"
                )),
            },
        }
    }
}

impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
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
    pub(super) fn url_for(&self, kind: Kind, name: &str) -> anyhow::Result<String> {
        match (self, kind) {
            (Storage::Sqlite(dir), _) => Ok(format!(
                "sqlite://{}",
                dir.join(format!("{name}.db")).display()
            )),
            (Storage::Postgres(url), Kind::Monolith) => Ok(url.clone()),
            (Storage::Postgres(url), Kind::Micro | Kind::Group(..)) => {
                let base = postgres::database_name(url)?;
                postgres::with_database(url, &format!("{base}_{name}"))
            }
        }
    }

    /// Every database URL a deployment of `kind` uses.
    pub fn urls(&self, kind: Kind) -> anyhow::Result<Vec<String>> {
        match kind {
            Kind::Monolith => Ok(vec![self.url_for(kind, "monolith")?]),
            Kind::Micro | Kind::Group(..) => SERVICES
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
    pub(super) fn check(&self, kind: Kind) -> anyhow::Result<()> {
        let known: &[&str] = match kind {
            Kind::Monolith => &["monolith"],
            Kind::Micro => &SERVICES,
            Kind::Group(..) if self.all_single() => return Ok(()),
            Kind::Group(..) => {
                bail!("--replicas is for the monolith and micro: a group runs as one process")
            }
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
pub(super) fn replica_name(binary: &str, index: usize, count: usize) -> String {
    if count == 1 {
        binary.to_owned()
    } else {
        format!("{binary}.{}", index + 1)
    }
}

/// The binary a process named `name` runs: [`replica_name`] and
/// [`group_process_name`] undone.
pub fn binary_of(name: &str) -> &str {
    name.split(['.', ':']).next().unwrap_or(name)
}

/// The name of the process that runs one group: `shoplab-group:users+payments`.
pub fn group_process_name(group: &[Component]) -> String {
    format!(
        "{GROUP_BINARY}:{}",
        shoplab_common::grouping::group_name(group)
    )
}

/// The binary that runs a group of components.
pub const GROUP_BINARY: &str = "shoplab-group";

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
    /// Run every process under callgrind, counting its instructions
    /// (`callgrind.rs`). Valgrind runs a process 20 to 50 times slower, one
    /// thread at a time, so every time limit a process keeps is raised far
    /// beyond what a request takes there ([`SLOW_LIMIT_MS`]).
    pub callgrind: Option<crate::callgrind::Callgrind>,
    /// `--recovery-every-ms` for the process that runs the saga (the orders
    /// service, or the group hosting orders): a counting pass sets it far
    /// apart, so that no pass of the recovery loop falls into a batch.
    pub recovery_every_ms: Option<u64>,
    /// Components `shoplab grow` generated (`catalog01` …): in the
    /// microservices, a service each (`shoplab-catalogNN`), started beside
    /// the others and passed to the gateway (`--grown-urls`). Only the
    /// grown shop's binaries know them.
    pub grown: usize,
}

/// A request's deadline and a call's time limit for processes under
/// callgrind: ten minutes, so that nothing in a counting pass times out
/// and no circuit opens for slowness that is the instrument's.
pub const SLOW_LIMIT_MS: u64 = 600_000;

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
            callgrind: None,
            recovery_every_ms: None,
            grown: 0,
        }
    }

    /// What every process of the deployment gets in its environment.
    pub(super) fn envs(&self) -> Vec<(String, String)> {
        self.internal_token
            .iter()
            .map(|token| ("SHOPLAB_INTERNAL_TOKEN".to_owned(), token.clone()))
            .collect()
    }
}
