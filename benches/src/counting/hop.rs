//! The hop in counted terms: B, the bare relay's hop, the gateway's hop and
//! the internal hop, each in instructions and system calls per request, so
//! that "is the gateway's miss the stack's or ours" is a count rather than
//! an argument.
//!
//! - **B**, one HTTP round trip of a small JSON body on the lab's stack:
//!   the floor serving `POST /echo` (under callgrind, one core) plus a
//!   client sending it (`shoplab-floor --round-trips`, reqwest's async
//!   client, under callgrind too). The client's share is the difference
//!   between two runs of it, of `2n` and of `n` round trips, so its own
//!   start and exit cancel out.
//! - **the bare relay's hop**: the floor's `/relay` (an actix-web handler
//!   and a reqwest client, nothing else) relaying a product read to a
//!   second floor: the relaying floor's own count per request.
//! - **the gateway's hop**: the gateway's own count per product read, from
//!   the read workload's counts (the catalog's share is the same with or
//!   without it).
//! - **the internal hop**: per component call, what an order costs the
//!   microservices beyond the modular monolith (the same saga, its calls
//!   function calls) and beyond the gateway: `(micro - modular - gateway) /
//!   calls`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use super::send::{Batch, Outgoing};
use super::{instructions_of, kernel_of, Counted, Plan};
use crate::callgrind::{self, Callgrind, Profile};
use crate::process::Process;
use crate::syscalls::KernelCounts;

/// One hop's cost, per request.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HopCount {
    pub instructions: f64,
    pub syscalls: f64,
}

/// `hop.counted` in `result.json`.
#[derive(Debug, Clone, Serialize)]
pub struct HopCounts {
    pub b: HopCount,
    pub relay_hop: HopCount,
    pub gateway_hop: Option<HopCount>,
    /// `None` without the order workload or the modular monolith.
    pub internal_hop: Option<HopCount>,
    /// The component calls one order makes, that the internal hop divides by.
    pub calls_per_order: f64,
}

/// The component calls of one order: the user checked, the stock reserved,
/// the payment charged, the reservation confirmed.
pub const CALLS_PER_ORDER: f64 = 4.0;

/// What the floor needs to run: its binary's directory, a database for
/// each of the two floors, and the one core everything is pinned to.
pub struct Floors {
    pub bin_dir: PathBuf,
    pub databases: [String; 2],
    pub core: Option<usize>,
    pub products: usize,
}

/// Counts B and the bare relay's hop on two floors; the gateway's hop and
/// the internal hop from the workloads' counts (`read` and `order` on
/// `microservices` and `modular`, where counted).
pub async fn count(
    plan: &Plan,
    floors: &Floors,
    read: Option<(&Counted, &str)>,
    order: Option<(&Counted, &Counted, &str)>,
) -> anyhow::Result<HopCounts> {
    let dir = plan.dir.join("hop");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
    let cores = floors.core.map(|core| vec![core]);
    let http = crate::load::http_client()?;
    // The relay's target: a second floor, at full speed.
    let target = start_floor(floors, 1, cores.as_deref(), None).await?;
    let port = target
        .url
        .rsplit(':')
        .next()
        .and_then(|port| port.parse::<u16>().ok())
        .context("the second floor's address has no port")?;
    let echo = Outgoing {
        method: reqwest::Method::POST,
        path: "/echo".into(),
        body: Some(crate::compare::hop::small_body()),
        expected: 200,
    };
    let relay = Outgoing {
        method: reqwest::Method::GET,
        path: format!("/relay/{port}/products/1"),
        body: None,
        expected: 200,
    };
    let outcome = async {
        let callgrind = Callgrind { dir: dir.clone() };
        let (floor, pids) = floor_and_pids(floors, cores.as_deref(), Some(&callgrind)).await?;
        let counted = async {
            let echo_batch = Batch::repeating(&http, &floor.url, "echo", echo.clone());
            let relay_batch = Batch::repeating(&http, &floor.url, "relay", relay.clone());
            let echo = instructions_of(plan, &pids, &echo_batch, &dir).await?;
            let relay = instructions_of(plan, &pids, &relay_batch, &dir).await?;
            let client = client_instructions(plan, floors, &floor.url, &callgrind).await?;
            anyhow::Ok((per_request(plan, &echo), per_request(plan, &relay), client))
        }
        .await;
        floor.stop().await;
        let (echo_instructions, relay_instructions, client_instructions) = counted?;

        let (floor, pids) = floor_and_pids(floors, cores.as_deref(), None).await?;
        let counted = async {
            let echo_batch = Batch::repeating(&http, &floor.url, "echo", echo.clone());
            let relay_batch = Batch::repeating(&http, &floor.url, "relay", relay.clone());
            let echo = kernel_of(plan, &pids, &echo_batch, &dir).await?;
            let relay = kernel_of(plan, &pids, &relay_batch, &dir).await?;
            let client = client_syscalls(plan, floors, &floor.url, &dir).await?;
            anyhow::Ok((
                syscalls(plan, echo.iter().map(|process| &process.counts)),
                syscalls(plan, relay.iter().map(|process| &process.counts)),
                client,
            ))
        }
        .await;
        floor.stop().await;
        let (echo_syscalls, relay_syscalls, client_syscalls) = counted?;
        anyhow::Ok(HopCounts {
            b: HopCount {
                instructions: echo_instructions + client_instructions,
                syscalls: echo_syscalls + client_syscalls,
            },
            relay_hop: HopCount {
                instructions: relay_instructions,
                syscalls: relay_syscalls,
            },
            gateway_hop: read.and_then(|(micro, gateway)| process_count(micro, gateway)),
            internal_hop: order.and_then(|(micro, modular, gateway)| {
                let through_gateway = process_count(micro, gateway)?;
                Some(HopCount {
                    instructions: (micro.instructions
                        - modular.instructions
                        - through_gateway.instructions)
                        / CALLS_PER_ORDER,
                    syscalls: (micro.syscalls - modular.syscalls - through_gateway.syscalls)
                        / CALLS_PER_ORDER,
                })
            }),
            calls_per_order: CALLS_PER_ORDER,
        })
    }
    .await;
    target.stop().await;
    outcome
}

/// The measured floor (the first), under callgrind if given, and its pid
/// by name, as the batches take it.
async fn floor_and_pids(
    floors: &Floors,
    cores: Option<&[usize]>,
    callgrind: Option<&Callgrind>,
) -> anyhow::Result<(Process, Vec<(String, u32)>)> {
    let floor = start_floor(floors, 0, cores, callgrind).await?;
    match floor.pid() {
        Some(pid) => Ok((floor, vec![("shoplab-floor".to_owned(), pid)])),
        None => {
            floor.stop().await;
            anyhow::bail!("the floor exited as it started")
        }
    }
}

/// One process's count per request in `counted`.
fn process_count(counted: &Counted, process: &str) -> Option<HopCount> {
    counted.by_process.get(process).map(|count| HopCount {
        instructions: count.instructions,
        syscalls: count.syscalls,
    })
}

/// Starts floor number `index` (its own database), pinned, under callgrind
/// if given.
async fn start_floor(
    floors: &Floors,
    index: usize,
    cores: Option<&[usize]>,
    callgrind: Option<&Callgrind>,
) -> anyhow::Result<Process> {
    // The floor keeps no time limits: nothing to lift under callgrind.
    let args = [
        "--database-url".to_owned(),
        floors.databases[index].clone(),
        "--products".into(),
        floors.products.to_string(),
    ];
    Process::spawn_on(
        &floors.bin_dir,
        "shoplab-floor",
        &args,
        cores,
        &[],
        callgrind,
    )
    .await
    .context("cannot start the floor")
}

/// Instructions per request of one batch on one process, less its idle window.
fn per_request(plan: &Plan, profiles: &[super::ProcessProfile]) -> f64 {
    super::instructions(profiles) / plan.requests.max(1) as f64
}

fn syscalls<'a>(plan: &Plan, counts: impl Iterator<Item = &'a KernelCounts>) -> f64 {
    counts.map(|counts| counts.syscalls as f64).sum::<f64>() / plan.requests.max(1) as f64
}

/// The client's side of B in instructions: `shoplab-floor --round-trips`
/// under callgrind, its one dump at exit.
async fn client_instructions(
    plan: &Plan,
    floors: &Floors,
    url: &str,
    callgrind: &Callgrind,
) -> anyhow::Result<f64> {
    per_round_trip(plan, |samples| async move {
        let out = callgrind.dir.join(format!("client-{samples}.out"));
        let line = callgrind::command_writing(&out, &floors.bin_dir.join("shoplab-floor"));
        run_client(&line, floors, url, samples).await?;
        Ok(Profile::read(&out)?.instructions as f64)
    })
    .await
}

/// The client's side of B in system calls: the same runs under `perf stat`.
async fn client_syscalls(
    plan: &Plan,
    floors: &Floors,
    url: &str,
    dir: &Path,
) -> anyhow::Result<f64> {
    per_round_trip(plan, |samples| async move {
        let out = dir.join(format!("client-{samples}.stat.csv"));
        let line = vec![
            "perf".to_owned(),
            "stat".into(),
            "-x,".into(),
            "-o".into(),
            out.display().to_string(),
            "-e".into(),
            "raw_syscalls:sys_enter".into(),
            "--".into(),
            floors.bin_dir.join("shoplab-floor").display().to_string(),
        ];
        run_client(&line, floors, url, samples).await?;
        let text = std::fs::read_to_string(&out)
            .with_context(|| format!("cannot read {}", out.display()))?;
        Ok(crate::syscalls::total_from_stat(&text)? as f64)
    })
    .await
}

/// What one round trip of the client costs: `total`, a whole client run's
/// count for so many round trips, taken for `2n` and for `n`; the
/// difference over `n`, so that the client's start and exit cancel out.
async fn per_round_trip<F, Fut>(plan: &Plan, mut total: F) -> anyhow::Result<f64>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<f64>>,
{
    let twice = total(2 * plan.requests).await?;
    let once = total(plan.requests).await?;
    Ok((twice - once) / plan.requests.max(1) as f64)
}

/// Runs `line` (a command whose last word is the floor's binary) as the
/// round-trip client of the floor at `url`, `samples` times, pinned.
async fn run_client(
    line: &[String],
    floors: &Floors,
    url: &str,
    samples: usize,
) -> anyhow::Result<()> {
    let (program, rest) = line.split_first().context("an empty command")?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(rest)
        .arg("--round-trips")
        .arg(format!("{url}/echo"))
        .arg("--samples")
        .arg(samples.to_string())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(core) = floors.core {
        // SAFETY: sched_setaffinity is a plain system call, safe between
        // fork and exec; it touches only the child.
        #[allow(unsafe_code)]
        unsafe {
            command.pre_exec(move || {
                crate::pin::pin_current(&[core]).map_err(std::io::Error::from)?;
                Ok(())
            });
        }
    }
    let output = command
        .output()
        .await
        .context("cannot run the round-trip client")?;
    anyhow::ensure!(
        output.status.success(),
        "the round-trip client failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}
