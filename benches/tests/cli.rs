//! The `shoplab` command line as a user meets it: `up` starts a deployment,
//! prints its base URL, restarts a process that dies, and leaves no process
//! behind when it is stopped or when it cannot start.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SHOPLAB: &str = env!("CARGO_BIN_EXE_shoplab");

/// Processes whose command line mentions `marker` (each test's own scratch
/// directory), found in /proc: what a deployment left running.
fn processes_mentioning(marker: &Path) -> Vec<String> {
    pids_mentioning(marker)
        .into_iter()
        .map(|(_, cmdline)| cmdline)
        .collect()
}

/// `(pid, command line)` of each process [`processes_mentioning`] finds.
fn pids_mentioning(marker: &Path) -> Vec<(u32, String)> {
    let marker = marker.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let raw = std::fs::read(entry.path().join("cmdline")).ok()?;
            Some((pid, String::from_utf8_lossy(&raw).replace('\0', " ")))
        })
        .filter(|(_, cmdline)| {
            // Not shoplab itself (its --data-dir names the marker too).
            let program = cmdline.split(' ').next().unwrap_or_default();
            cmdline.contains(&marker) && program != SHOPLAB
        })
        .collect()
}

/// The pid of the service whose database is `file` (e.g. `catalog.db`).
fn pid_using(marker: &Path, file: &str) -> Option<u32> {
    pids_mentioning(marker)
        .into_iter()
        .find(|(_, cmdline)| cmdline.contains(file))
        .map(|(pid, _)| pid)
}

/// Waits (briefly) for the processes a stopped deployment ran to be gone.
fn assert_nothing_left(marker: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = processes_mentioning(marker);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "still running: {left:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn up(kind: &str, port: u16, data_dir: &Path) -> Command {
    let mut command = Command::new(SHOPLAB);
    command.args(["up", kind, "--port", &port.to_string(), "--data-dir"]);
    command.arg(data_dir);
    command
}

/// A `shoplab up` that is killed if the test fails before stopping it (its
/// children follow it: they die with their parent).
struct Running(Option<Child>);

impl Running {
    /// Starts `command` (a `shoplab up`) with its output piped, and waits
    /// for the first line it prints: the base URL, once every process is up.
    fn start(command: &mut Command) -> (Self, String) {
        let mut running = Running(Some(
            command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("shoplab starts"),
        ));
        let stdout = running.child().stdout.take().expect("stdout is piped");
        let mut first_line = String::new();
        BufReader::new(stdout)
            .read_line(&mut first_line)
            .expect("shoplab prints the base URL");
        (running, first_line)
    }

    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("the child is there until finish")
    }

    fn finish(mut self) -> Output {
        let child = self.0.take().expect("finish is called once");
        child.wait_with_output().expect("shoplab runs to the end")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn up_prints_the_base_url_and_sigterm_stops_every_process() {
    let data = tempfile::tempdir().expect("a scratch directory");
    let (mut running, first_line) = Running::start(&mut up("micro", 0, data.path()));
    let base_url = first_line.trim();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url:?}");
    assert_eq!(
        processes_mentioning(data.path()).len(),
        5,
        "every process names the data dir: the services' databases, and every \
         process's hop log in its logs/"
    );

    let pid = i32::try_from(running.child().id()).expect("pids fit in i32");
    let pid = nix::unistd::Pid::from_raw(pid);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)
        .expect("shoplab can be signalled");
    let output = running.finish();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_nothing_left(data.path());
}

#[test]
fn up_restarts_a_killed_service_and_keeps_running() {
    let data = tempfile::tempdir().expect("a scratch directory");
    let (mut running, _) = Running::start(&mut up("micro", 0, data.path()));
    let first = pid_using(data.path(), "catalog.db").expect("the catalog runs");
    let first_pid = nix::unistd::Pid::from_raw(i32::try_from(first).expect("pids fit in i32"));
    nix::sys::signal::kill(first_pid, nix::sys::signal::Signal::SIGKILL)
        .expect("the catalog can be killed");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match pid_using(data.path(), "catalog.db") {
            Some(pid) if pid != first => break,
            _ => assert!(Instant::now() < deadline, "the catalog did not come back"),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        running
            .child()
            .try_wait()
            .expect("shoplab can be waited on")
            .is_none(),
        "shoplab up stopped when one process died"
    );

    let pid = i32::try_from(running.child().id()).expect("pids fit in i32");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("shoplab can be signalled");
    let output = running.finish();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let said = stderr
        .lines()
        .find(|line| line.contains("shoplab-catalog") && line.contains("restart 1"))
        .unwrap_or_else(|| panic!("no restart line in: {stderr}"));
    assert!(said.contains("SIGKILL"), "{said}");
    assert_nothing_left(data.path());
}

#[test]
fn a_port_in_use_is_one_line_and_leaves_no_service_running() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("loopback has free ports");
    let port = taken
        .local_addr()
        .expect("a bound socket has an address")
        .port();
    let data = tempfile::tempdir().expect("a scratch directory");
    // The services start on free ports; only the gateway wants the taken one,
    // so four processes are already running when the last one fails.
    let output = up("micro", port, data.path())
        .output()
        .expect("shoplab runs to the end");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("shoplab: "), "{stderr}");
    assert!(last.contains("Address already in use"), "{stderr}");
    assert_nothing_left(data.path());
}

#[test]
fn an_unreachable_database_is_one_line_and_a_nonzero_exit() {
    let output = Command::new(SHOPLAB)
        .args(["up", "monolith", "--port", "0", "--database-url"])
        .arg("postgres://postgres@127.0.0.1:1/shoplab")
        .output()
        .expect("shoplab runs to the end");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("cannot connect to postgres://postgres@127.0.0.1:1"),
        "{stderr}"
    );
}

#[test]
fn a_bad_kind_or_flag_is_refused_by_the_parser() {
    for args in [
        &["up", "mainframe"][..],
        &["up", "monolith", "--frobnicate"],
        &["dmeo"],
    ] {
        let output = Command::new(SHOPLAB)
            .args(args)
            .output()
            .expect("shoplab runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).starts_with("error: "),
            "{args:?}"
        );
    }
}

#[test]
fn up_prints_every_scrape_target_and_writes_a_prometheus_configuration_for_them() {
    let data = tempfile::tempdir().expect("a scratch directory");
    let config = data.path().join("prometheus.yml");
    let (mut running, _) = Running::start(
        up("micro", 0, data.path())
            .arg("--prometheus-config")
            .arg(&config),
    );

    // Written before the base URL is printed: one target per process, each
    // with its process label, each serving the text format.
    let written = std::fs::read_to_string(&config).expect("the configuration is written");
    assert!(written.contains("job_name: \"microservices\""), "{written}");
    assert!(written.contains("scrape_interval: 1s"), "{written}");
    let targets: Vec<&str> = written
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- targets: [\""))
        .filter_map(|rest| rest.strip_suffix("\"]"))
        .collect();
    assert_eq!(targets.len(), 5, "{written}");
    for process in ["users", "catalog", "payments", "orders", "gateway"] {
        assert!(
            written.contains(&format!("process: \"shoplab-{process}\"")),
            "{written}"
        );
    }
    for target in &targets {
        let text = reqwest::blocking::get(format!("http://{target}/metrics"))
            .and_then(|response| response.error_for_status())
            .and_then(|response| response.text())
            .unwrap_or_else(|error| panic!("{target}: {error}"));
        assert!(text.contains("# TYPE "), "{target}: {text}");
    }

    let pid = i32::try_from(running.child().id()).expect("pids fit in i32");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("shoplab can be signalled");
    let output = running.finish();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    for target in &targets {
        assert!(
            stderr.contains(&format!("http://{target}/metrics")),
            "every scrape target is printed: {stderr}"
        );
    }
    assert_nothing_left(data.path());
}
