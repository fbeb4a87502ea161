//! One process of a deployment, kept running. When it exits (a crash, a
//! SIGKILL, an exit code) it is started again with the same binary and
//! arguments, except that `--addr` is the concrete address it got the first
//! time: its peers were given that address once, at start-up, and must find
//! it again (the servers set `SO_REUSEADDR`, so the port can be bound again
//! at once). So is `--metrics-addr`: Prometheus was given it once too. A process that keeps failing is restarted after a growing pause
//! (100 ms, doubling, at most 3 s; back to 100 ms once it has stayed up for
//! 10 s), and a process in a crash loop never stops the others.
//!
//! The fault-isolation experiment (`isolation/`) also needs a process kept
//! *down* for a while: [`Supervised::hold_down`] kills it and restarts
//! nothing until [`Supervised::release`].
//!
//! Each process is owned by a task of its own, its supervisor; the deployment
//! sends it commands and reads the current pid and the restart count from
//! state they share. This is what `systemd` or Kubernetes do for a real
//! service, in a few dozen lines.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context};
use tokio::sync::{mpsc, oneshot};

use crate::process::Process;

/// The first pause before a restart.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest pause between restarts of a process in a crash loop.
const MAX_BACKOFF: Duration = Duration::from_secs(3);
/// A process that stayed up this long is healthy again: its next failure
/// is restarted after the first, short pause.
const STABLE_AFTER: Duration = Duration::from_secs(10);

/// How to start the process again.
#[derive(Debug, Clone)]
pub struct Launch {
    pub bin_dir: PathBuf,
    /// The process's name: its binary's, or a replica's (`shoplab-catalog.2`).
    pub name: String,
    pub binary: String,
    /// The arguments of the first start (its `--addr` may say port 0).
    pub args: Vec<String>,
    /// The cores it is pinned to, if any (see `pin.rs`).
    pub cores: Option<Vec<usize>>,
    /// Its environment beyond the harness's own (the internal token).
    pub envs: Vec<(String, String)>,
    /// Whether its stderr lines are passed on, under its name
    /// ([`Process::echo_stderr`]).
    pub echo: bool,
    /// Whether it runs under callgrind (a counting pass), and where its
    /// counts go.
    pub callgrind: Option<crate::callgrind::Callgrind>,
}

/// What the deployment may read at any time.
#[derive(Debug, Default)]
struct Shared {
    /// The running process's pid; `None` while it is down.
    pid: Option<u32>,
    /// How many times it was started again after its first start.
    restarts: u32,
}

/// What the deployment can ask of a supervisor.
enum Command {
    HoldDown(oneshot::Sender<()>),
    Release(oneshot::Sender<anyhow::Result<()>>),
    Replace(oneshot::Sender<anyhow::Result<()>>),
    Stop(oneshot::Sender<()>),
}

/// A process under supervision.
pub struct Supervised {
    /// The binary's name (`shoplab-catalog`).
    pub name: String,
    /// Its address, the same for its whole life.
    pub url: String,
    /// Its `/metrics` endpoint's address, if it has one: the same for its
    /// whole life too.
    pub metrics_url: Option<String>,
    /// From its first spawn to its own `/health` answering 200.
    pub startup: Duration,
    shared: Arc<Mutex<Shared>>,
    commands: mpsc::UnboundedSender<Command>,
}

impl Supervised {
    /// Takes over `first` (already running, from `launch`) and keeps it
    /// running until [`stop`](Self::stop). While `shutting_down` is set,
    /// nothing is restarted.
    pub fn start(first: Process, mut launch: Launch, shutting_down: Arc<AtomicBool>) -> Self {
        launch.args = at_address(&launch.args, "--addr", &first.url);
        if let Some(metrics_url) = &first.metrics_url {
            launch.args = at_address(&launch.args, "--metrics-addr", metrics_url);
        }
        let shared = Arc::new(Mutex::new(Shared {
            pid: first.pid(),
            restarts: 0,
        }));
        let (commands, received) = mpsc::unbounded_channel();
        let supervised = Supervised {
            name: first.name.clone(),
            url: first.url.clone(),
            metrics_url: first.metrics_url.clone(),
            startup: first.startup,
            shared: Arc::clone(&shared),
            commands,
        };
        let supervisor = Supervisor {
            launch,
            shared,
            shutting_down,
            running: Some(first),
            retry_at: None,
            backoff: Backoff::default(),
        };
        tokio::spawn(supervisor.run(received));
        supervised
    }

    /// The current process's pid (it changes with every restart); `None`
    /// while it is down.
    pub fn pid(&self) -> Option<u32> {
        self.lock().pid
    }

    /// How many times the process was started again after its first start
    /// (after an exit, or by [`release`](Self::release)).
    pub fn restarts(&self) -> u32 {
        self.lock().restarts
    }

    /// SIGKILLs the process and starts nothing until
    /// [`release`](Self::release). Returns once it is gone.
    pub async fn hold_down(&self) -> anyhow::Result<()> {
        let (done, reply) = oneshot::channel();
        self.send(Command::HoldDown(done))?;
        reply.await.map_err(|_| self.gone())
    }

    /// Starts the process again now, at its address (it is not yet known to
    /// pass `/health` when this returns).
    pub async fn release(&self) -> anyhow::Result<()> {
        let (done, reply) = oneshot::channel();
        self.send(Command::Release(done))?;
        reply.await.map_err(|_| self.gone())?
    }

    /// Deploys the process anew: stops it gracefully (SIGTERM: it drains,
    /// finishes what it has and exits; SIGKILL only if it does not) and
    /// starts the binary on disk again at its address. Returns once the new
    /// process runs (it is not yet known to pass `/health`).
    pub async fn replace(&self) -> anyhow::Result<()> {
        let (done, reply) = oneshot::channel();
        self.send(Command::Replace(done))?;
        reply.await.map_err(|_| self.gone())?
    }

    /// Stops the process (SIGTERM, then SIGKILL) and its supervisor.
    pub async fn stop(self) {
        let (done, reply) = oneshot::channel();
        if self.send(Command::Stop(done)).is_ok() {
            let _ = reply.await;
        }
    }

    fn send(&self, command: Command) -> anyhow::Result<()> {
        self.commands.send(command).map_err(|_| self.gone())
    }

    fn gone(&self) -> anyhow::Error {
        anyhow!("the supervisor of {} has ended", self.name)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        // The state is two plain numbers, valid even if a holder panicked.
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `args` with the value after `flag` (`--addr`, `--metrics-addr`)
/// replaced by `url`'s address, so a process first started on port 0 comes
/// back on the port it got.
fn at_address(args: &[String], flag: &str, url: &str) -> Vec<String> {
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut pinned = args.to_vec();
    if let Some(flag) = pinned.iter().position(|arg| arg == flag) {
        if let Some(value) = pinned.get_mut(flag + 1) {
            *value = address.to_owned();
        }
    }
    pinned
}

/// The pause before the next restart: doubling with each failure in a row,
/// reset once a process has stayed up for [`STABLE_AFTER`].
#[derive(Debug, Default)]
struct Backoff {
    quick_failures: u32,
}

impl Backoff {
    /// The pause after a process that lived `lived` has failed.
    fn after_failure(&mut self, lived: Duration) -> Duration {
        if lived >= STABLE_AFTER {
            self.quick_failures = 0;
        }
        let pause = FIRST_BACKOFF
            .saturating_mul(1u32 << self.quick_failures.min(16))
            .min(MAX_BACKOFF);
        self.quick_failures = self.quick_failures.saturating_add(1);
        pause
    }
}

/// What woke the supervisor.
enum Event {
    Command(Option<Command>),
    Exited(std::io::Result<ExitStatus>),
    RestartDue,
}

/// The task that owns the process.
struct Supervisor {
    launch: Launch,
    shared: Arc<Mutex<Shared>>,
    shutting_down: Arc<AtomicBool>,
    /// The process, while it runs.
    running: Option<Process>,
    /// When to start it again, if it is down and not held.
    retry_at: Option<tokio::time::Instant>,
    backoff: Backoff,
}

impl Supervisor {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            let event = tokio::select! {
                command = commands.recv() => Event::Command(command),
                status = exit_of(&mut self.running) => Event::Exited(status),
                () = due(self.retry_at) => Event::RestartDue,
            };
            match event {
                Event::Exited(status) => self.exited(status).await,
                Event::RestartDue => {
                    self.retry_at = None;
                    if !self.shutting_down.load(Ordering::SeqCst) {
                        let _ = self.restart().await;
                    }
                }
                Event::Command(Some(Command::HoldDown(done))) => {
                    self.hold_down().await;
                    let _ = done.send(());
                }
                Event::Command(Some(Command::Release(done))) => {
                    let started = match self.running {
                        Some(_) => Ok(()),
                        None => self.restart().await,
                    };
                    if started.is_ok() {
                        eprintln!(
                            "shoplab: {} released, running again (pid {})",
                            self.launch.name,
                            self.lock().pid.map_or("?".into(), |pid| pid.to_string())
                        );
                    }
                    let _ = done.send(started);
                }
                Event::Command(Some(Command::Replace(done))) => {
                    if let Some(process) = self.running.take() {
                        process.stop().await;
                        self.set_pid(None);
                    }
                    let _ = done.send(self.restart().await);
                }
                Event::Command(Some(Command::Stop(done))) => {
                    if let Some(process) = self.running.take() {
                        process.stop().await;
                    }
                    self.set_pid(None);
                    let _ = done.send(());
                    return;
                }
                // The deployment was dropped without `stop`: the process goes
                // with it (killed on drop).
                Event::Command(None) => return,
            }
        }
    }

    /// The process exited on its own: say why, and plan its restart.
    async fn exited(&mut self, status: std::io::Result<ExitStatus>) {
        let Some(process) = self.running.take() else {
            return;
        };
        // The child's own pid is gone once it has been waited for.
        let pid = self.lock().pid.take();
        if self.shutting_down.load(Ordering::SeqCst) {
            return;
        }
        // Give the stderr reader a moment to collect its last words.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let lived = process.spawned_at.elapsed();
        let pause = self.backoff.after_failure(lived);
        self.retry_at = Some(tokio::time::Instant::now() + pause);
        let how = match status {
            Ok(status) => status.to_string(),
            Err(error) => format!("cannot tell how: {error}"),
        };
        let said = process
            .last_words()
            .map(|line| format!(", last said: {}", shorten(&line)))
            .unwrap_or_default();
        eprintln!(
            "shoplab: {} (pid {}) exited ({how}) after {:.1} s{said}; restart {} in {} ms",
            self.launch.name,
            pid.map_or("?".into(), |pid| pid.to_string()),
            lived.as_secs_f64(),
            self.lock().restarts + 1,
            pause.as_millis(),
        );
    }

    /// Starts the process again at its address. A start that fails counts
    /// as a failure of the process: the next try comes after the back-off.
    async fn restart(&mut self) -> anyhow::Result<()> {
        // Spawned from the thread running this task, which lives as long as
        // the runtime does (a worker, not a blocking-pool thread that may
        // retire), so the child's PR_SET_PDEATHSIG (process.rs) fires only
        // when `shoplab` itself goes.
        let launch = &self.launch;
        let spawned = Process::spawn_on(
            &launch.bin_dir,
            &launch.binary,
            &launch.args,
            launch.cores.as_deref(),
            &launch.envs,
            launch.callgrind.as_ref(),
        )
        .await
        .with_context(|| format!("cannot restart {}", launch.name));
        match spawned {
            Ok(process) => {
                if launch.echo {
                    process.echo_stderr(&launch.name);
                }
                let mut shared = self.lock();
                shared.pid = process.pid();
                shared.restarts += 1;
                drop(shared);
                self.running = Some(process);
                Ok(())
            }
            Err(error) => {
                let pause = self.backoff.after_failure(Duration::ZERO);
                self.retry_at = Some(tokio::time::Instant::now() + pause);
                eprintln!(
                    "shoplab: {}; next try in {} ms",
                    shoplab_common::error::one_line(&format!("{error:#}")),
                    pause.as_millis()
                );
                Err(error)
            }
        }
    }

    /// SIGKILL, and no restart until released.
    async fn hold_down(&mut self) {
        self.retry_at = None;
        if let Some(process) = self.running.take() {
            let pid = process.pid();
            process.kill().await;
            eprintln!(
                "shoplab: {} (pid {}) killed (SIGKILL) and held down",
                self.launch.name,
                pid.map_or("?".into(), |pid| pid.to_string())
            );
        }
        self.set_pid(None);
    }

    fn set_pid(&self, pid: Option<u32>) {
        self.lock().pid = pid;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Resolves when the running process exits; never, while none runs.
async fn exit_of(running: &mut Option<Process>) -> std::io::Result<ExitStatus> {
    match running {
        Some(process) => process.wait().await,
        None => std::future::pending().await,
    }
}

/// Resolves at `at`; never, if there is nothing to wait for.
async fn due(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A line of a process's stderr, cut to a length a log line can carry.
fn shorten(line: &str) -> String {
    const LONGEST: usize = 160;
    match line.char_indices().nth(LONGEST) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_keeps_the_address_the_process_got_on_port_zero() {
        let args: Vec<String> = ["--addr", "127.0.0.1:0", "--database-url", "sqlite://x.db"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            at_address(&args, "--addr", "http://127.0.0.1:41234"),
            [
                "--addr",
                "127.0.0.1:41234",
                "--database-url",
                "sqlite://x.db"
            ]
        );
    }

    #[test]
    fn a_restart_keeps_the_metrics_address_too() {
        let args: Vec<String> = ["--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"]
            .map(String::from)
            .to_vec();
        let pinned = at_address(&args, "--addr", "http://127.0.0.1:41234");
        assert_eq!(
            at_address(&pinned, "--metrics-addr", "http://127.0.0.1:41235"),
            [
                "--addr",
                "127.0.0.1:41234",
                "--metrics-addr",
                "127.0.0.1:41235"
            ]
        );
    }

    #[test]
    fn the_backoff_doubles_up_to_three_seconds_and_resets_after_a_stable_run() {
        let mut backoff = Backoff::default();
        let quick = Duration::from_millis(50);
        let pauses: Vec<u128> = (0..7)
            .map(|_| backoff.after_failure(quick).as_millis())
            .collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1600, 3000, 3000]);
        assert_eq!(backoff.after_failure(STABLE_AFTER).as_millis(), 100);
        assert_eq!(backoff.after_failure(quick).as_millis(), 200);
    }
}
