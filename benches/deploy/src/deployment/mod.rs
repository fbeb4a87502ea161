//! Starting a whole deployment as child processes: the monolith (one process)
//! or the microservices (four services and the gateway), on SQLite files in a
//! directory or on PostgreSQL. Used by `shoplab up` and `shoplab demo`, by
//! every experiment (`compare`, `isolation`, `chaos`, `anomalies`,
//! `rollout`, `scale`), and by the harness's tests and the contract suite
//! alike.
//!
//! Once started, every process is supervised (`supervisor.rs`): one that
//! exits is started again at the same address, so a deployment stays whole
//! however its processes fail, as it would under systemd or Kubernetes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::postgres;
use crate::process::Process;
use crate::supervisor::{Launch, Supervised};

mod launch;
mod options;

use launch::launch;
pub use launch::own_bin_dir;
pub use launch::{free_port, wait_for_health};
pub use options::{
    binary_of, group_process_name, Calls, Kind, Options, ReplicaCounts, Storage, Tx, DRAIN_NOTICE,
    GROUP_BINARY, MAX_REPLICAS,
};

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
                    callgrind: options.callgrind.clone(),
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
        wait_for_health(&self.base_url, &self.kind.label()).await
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
    /// of every process (`common/http/src/hop_log/mod.rs`). A process that
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
