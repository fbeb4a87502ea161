//! One child process of a deployment: started from a binary next to
//! `shoplab`, ready once it prints `... listening on http://ADDR` (and, with
//! `--metrics-addr`, `... metrics on http://ADDR` just before), and stopped
//! without leaving anything behind.
//!
//! Each child is told by the kernel to die with the thread that started it
//! (`PR_SET_PDEATHSIG`), so even a `shoplab` killed with SIGKILL, or a test
//! that panics, leaves no process running.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::callgrind::Callgrind;

/// How long a process may take to print its address.
const READY_WITHIN: Duration = Duration::from_secs(30);
/// How long a process may take to stop after SIGTERM before it is killed:
/// a moment longer than a server takes to drain (`deployment/options.rs`,
/// `DRAIN_NOTICE`) and then finish what it was serving
/// (`common/http/src/server.rs`, `SHUTDOWN_WITHIN`).
const STOP_WITHIN: Duration = Duration::from_secs(12);

/// How much of a child's stderr is kept (its last words, for the reason it
/// exited): a deployment that runs for days must not grow without bound.
const STDERR_KEPT: usize = 64 * 1024;

/// Drops the oldest lines of `text` once it is past twice [`STDERR_KEPT`],
/// keeping the last [`STDERR_KEPT`] bytes or so, from a line's start.
fn keep_tail(text: &mut String) {
    if text.len() <= 2 * STDERR_KEPT {
        return;
    }
    let mut cut = text.len() - STDERR_KEPT;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    let start = text[cut..]
        .find('\n')
        .map_or(cut, |newline| cut + newline + 1);
    text.drain(..start);
}

/// A running child process serving HTTP.
pub struct Process {
    pub name: String,
    pub url: String,
    /// Where its `/metrics` endpoint is, if it was given `--metrics-addr`.
    pub metrics_url: Option<String>,
    /// When it was spawned.
    pub spawned_at: std::time::Instant,
    /// From spawn to a passing `/health`, once the launcher has seen it pass.
    pub startup: Duration,
    child: Child,
    stderr: Arc<Mutex<String>>,
    /// Set by [`Process::echo_stderr`]: the name its stderr lines are
    /// passed on under.
    echo: Arc<Mutex<Option<String>>>,
}

impl Process {
    /// Starts `bin_dir/binary` with `args` and waits for its address.
    pub async fn spawn(bin_dir: &Path, binary: &str, args: &[String]) -> anyhow::Result<Self> {
        Self::spawn_on(bin_dir, binary, args, None, &[], None).await
    }

    /// [`Process::spawn`], restricted to `cores` if given (see `pin.rs`):
    /// the mask is set in the child before it runs a line of its own, so
    /// its thread pools size themselves to it. `envs` are set in the child's
    /// environment (for what must not show in its command line). Under
    /// `callgrind`, the binary runs under valgrind, counting its
    /// instructions (`callgrind.rs`); its pid is still the process's own.
    pub async fn spawn_on(
        bin_dir: &Path,
        binary: &str,
        args: &[String],
        cores: Option<&[usize]>,
        envs: &[(String, String)],
        callgrind: Option<&Callgrind>,
    ) -> anyhow::Result<Self> {
        let path = bin_dir.join(binary);
        if !path.is_file() {
            bail!(
                "{binary} is not in {}: build the workspace first (`cargo build --workspace`, \
                 with --release for target/release)",
                bin_dir.display()
            );
        }
        let spawned_at = std::time::Instant::now();
        let mut command = match callgrind {
            Some(callgrind) => {
                let mut line = callgrind.command(binary, &path).into_iter();
                let mut command = Command::new(line.next().unwrap_or_default());
                // The same environment in every run, whoever runs it from
                // where: its size moves the stack, and with it a count.
                command.args(line).env_clear().env("PATH", "/usr/bin:/bin");
                command
            }
            None => Command::new(&path),
        };
        command
            .args(args)
            .envs(envs.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let cores = cores.map(<[usize]>::to_vec);
        // SAFETY: prctl and sched_setaffinity are plain system calls, safe
        // between fork and exec; they touch only the child.
        #[allow(unsafe_code)]
        unsafe {
            command.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
                if let Some(cores) = &cores {
                    crate::pin::pin_current(cores).map_err(std::io::Error::from)?;
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", path.display()))?;

        let stderr = Arc::new(Mutex::new(String::new()));
        let echo: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        if let Some(pipe) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            let echo = Arc::clone(&echo);
            tokio::spawn(async move {
                let mut lines = BufReader::new(pipe).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Ok(echo) = echo.lock() {
                        if let Some(name) = echo.as_deref() {
                            eprintln!("{name}: {line}");
                        }
                    }
                    if let Ok(mut text) = sink.lock() {
                        text.push_str(&line);
                        text.push('\n');
                        keep_tail(&mut text);
                    }
                }
            });
        }
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("no stdout pipe"))?;
        let mut lines = BufReader::new(stdout).lines();
        let mut metrics_url = None;
        let url = tokio::time::timeout(READY_WITHIN, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some((_, url)) = line.split_once(" metrics on ") {
                    metrics_url = Some(url.trim().to_owned());
                }
                if let Some((_, url)) = line.split_once(" listening on ") {
                    return Some(url.trim().to_owned());
                }
            }
            None
        })
        .await;
        let mut process = Process {
            name: binary.to_owned(),
            url: String::new(),
            metrics_url,
            spawned_at,
            startup: Duration::ZERO,
            child,
            stderr,
            echo,
        };
        match url {
            Ok(Some(url)) => {
                // Keep draining stdout so a chatty child never blocks on a full pipe.
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                process.url = url;
                Ok(process)
            }
            Ok(None) => {
                let status = process.child.wait().await.ok();
                Err(process.failure(status))
            }
            Err(_) => bail!("{binary} did not say where it listens within {READY_WITHIN:?}"),
        }
    }

    /// Why the process ended, in one line: its own last words on stderr.
    fn failure(&self, status: Option<ExitStatus>) -> anyhow::Error {
        // Give the stderr reader a moment to collect the last line.
        std::thread::sleep(Duration::from_millis(50));
        let last = self.last_words();
        let last = last.as_deref().unwrap_or("(nothing on stderr)");
        match status {
            Some(status) => anyhow!("{} exited ({status}): {last}", self.name),
            None => anyhow!("{} failed: {last}", self.name),
        }
    }

    /// The line of its stderr that says why it ended: a command-line
    /// parser's `error: ...` if there is one (it is followed by usage
    /// hints), else the last line.
    pub fn last_words(&self) -> Option<String> {
        let said = self.stderr_text();
        said.lines()
            .find(|line| line.starts_with("error:"))
            .or_else(|| said.lines().last())
            .map(str::to_owned)
    }

    /// From now on, passes every line the process writes to stderr on to
    /// ours, as `name: line` (what `shoplab up` shows of its processes: a
    /// balancer marking a replica down, a process draining).
    pub fn echo_stderr(&self, name: &str) {
        if let Ok(mut echo) = self.echo.lock() {
            *echo = Some(name.to_owned());
        }
    }

    pub fn stderr_text(&self) -> String {
        self.stderr
            .lock()
            .map(|text| text.clone())
            .unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Resident memory in bytes, from /proc (Linux).
    pub fn rss_bytes(&self) -> Option<u64> {
        crate::cpu::rss_bytes(self.pid()?)
    }

    /// User + system CPU time used so far, from /proc (Linux).
    pub fn cpu_time(&self) -> Option<Duration> {
        crate::cpu::cpu_time(self.pid()?)
    }

    /// Waits until the process exits, and says how (an exit code or a
    /// signal). Cancel-safe: the supervisor waits on it beside its commands.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// SIGKILL, and wait until it is gone: no chance to clean up, as in a
    /// crash.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// SIGTERM, then SIGKILL if it has not stopped within [`STOP_WITHIN`].
    pub async fn stop(mut self) {
        if let Some(pid) = self.pid() {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
            if tokio::time::timeout(STOP_WITHIN, self.child.wait())
                .await
                .is_ok()
            {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_stderr_keeps_only_its_last_lines() {
        let mut text = String::new();
        for n in 0..100_000 {
            text.push_str(&format!("line {n} é\n"));
            keep_tail(&mut text);
        }
        assert!(text.len() <= 2 * STDERR_KEPT, "{}", text.len());
        assert!(text.ends_with("line 99999 é\n"));
        assert!(text.starts_with("line "), "cut at a line's start");
    }
}
