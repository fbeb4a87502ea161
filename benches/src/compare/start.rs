//! Starting what a comparison measures (each deployment, the floor) and
//! reading what it needs of them: hop logs, CPU time, start-up, memory and
//! sizes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::deployment::{Deployment, Kind, Options as DeployOptions};
use crate::load::Report;
use crate::process::Process;
use crate::scratch::{Backend, Databases};
use crate::trace;

use super::figures::{DeploymentFigures, ProcessFigures, SlowestTrace};
use super::{Options, FLOOR_PRODUCTS};
use crate::stats::median;

/// Where a measured deployment of `kind` writes its hop logs.
pub fn hop_log_dir(out: &Path, kind: Kind) -> PathBuf {
    out.join("logs").join(kind.dir_name())
}

/// The slowest request of `report`, as its hops (`None` when its logs do
/// not hold it: a request that never reached the deployment).
pub(crate) fn slowest_trace(report: &Report, logs: &Path) -> Option<SlowestTrace> {
    let slowest = report.all.slowest.first()?;
    let hops = trace::hops(&slowest.request_id, &[logs.to_owned()]).ok()?;
    (!hops.is_empty()).then(|| SlowestTrace {
        request_id: slowest.request_id.clone(),
        latency_ms: slowest.latency_ms,
        log_dir: logs.display().to_string(),
        hops,
    })
}

/// Starts `kind` on fresh storage, pinned as the options say, with hop logs
/// in `logs` if given.
pub(crate) async fn start(
    options: &Options,
    databases: &mut Databases,
    kind: Kind,
    hop_delay_us: u64,
    logs: Option<PathBuf>,
) -> anyhow::Result<Deployment> {
    let deploy = deploy_options(options, databases, kind, hop_delay_us, logs)?;
    Deployment::start(&deploy)
        .await
        .with_context(|| format!("cannot start the {}", kind.label()))
}

/// How [`start`] starts `kind`.
pub(crate) fn deploy_options(
    options: &Options,
    databases: &mut Databases,
    kind: Kind,
    hop_delay_us: u64,
    logs: Option<PathBuf>,
) -> anyhow::Result<DeployOptions> {
    let mut deploy = DeployOptions::new(kind, options.bin_dir.clone(), databases.fresh(kind)?);
    deploy.cores = options
        .pinning
        .as_ref()
        .map(|pinning| pinning.deployment.clone());
    deploy.hop_delay_us = hop_delay_us;
    deploy.log_dir = logs;
    Ok(deploy)
}

pub(crate) async fn start_floor(
    options: &Options,
    databases: &mut Databases,
) -> anyhow::Result<Process> {
    let url = databases.fresh_floor().await?;
    let args = [
        "--database-url".to_owned(),
        url,
        "--products".into(),
        FLOOR_PRODUCTS.to_string(),
    ];
    let cores = options
        .pinning
        .as_ref()
        .map(|pinning| pinning.deployment.as_slice());
    Process::spawn_on(&options.bin_dir, "shoplab-floor", &args, cores, &[], None).await
}

/// CPU time this process (the load generator) has used so far.
pub(crate) fn own_cpu() -> Duration {
    crate::cpu::cpu_time(std::process::id()).unwrap_or_default()
}

/// CPU time of the PostgreSQL server's processes, when the run uses it.
pub(crate) fn database_server_cpu(options: &Options) -> Option<Duration> {
    match options.backend {
        Backend::Sqlite => None,
        Backend::Postgres(_) => Some(crate::cpu::cpu_time_of_all("postgres")),
    }
}

pub(crate) fn lookup(pairs: &[(String, u64)], name: &str) -> u64 {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map_or(0, |(_, value)| *value)
}

/// The size of the container images of `binaries` together
/// (`<binary>:latest`, as `scripts/images.sh` tags them), or `None` if no
/// Docker engine answers or one of them is missing.
pub(crate) async fn images_size(binaries: &BTreeSet<&str>) -> Option<u64> {
    let mut total = 0;
    for binary in binaries {
        total += crate::containers::image_size(&format!("{binary}:latest")).await?;
    }
    Some(total)
}

/// The size of the binary the process named `name` runs
/// (`shoplab-group:users+payments` runs `shoplab-group`).
pub(crate) fn binary_size(bin_dir: &Path, name: &str) -> u64 {
    std::fs::metadata(bin_dir.join(crate::deployment::binary_of(name)))
        .map_or(0, |metadata| metadata.len())
}

/// A running deployment's start-up, memory and sizes: `idle` and `load`
/// its processes' resident memory by name (idle, and the most seen under
/// load), `startups` its whole starts' times in ms.
pub(crate) async fn deployment_figures(
    options: &Options,
    deployment: &Deployment,
    idle: &[(String, u64)],
    load: &BTreeMap<String, u64>,
    startups: Vec<f64>,
) -> DeploymentFigures {
    let processes: Vec<ProcessFigures> = deployment
        .members()
        .into_iter()
        .map(|member| ProcessFigures {
            rss_idle_bytes: lookup(idle, &member.name),
            rss_load_bytes: load.get(&member.name).copied().unwrap_or_default(),
            binary_bytes: binary_size(&options.bin_dir, &member.name),
            startup_ms: member.startup.as_secs_f64() * 1000.0,
            name: member.name,
        })
        .collect();
    let binaries: BTreeSet<&str> = processes
        .iter()
        .map(|process| crate::deployment::binary_of(&process.name))
        .collect();
    let image_bytes = images_size(&binaries).await;
    DeploymentFigures {
        image_bytes,
        rss_idle_bytes: processes.iter().map(|process| process.rss_idle_bytes).sum(),
        rss_load_bytes: processes.iter().map(|process| process.rss_load_bytes).sum(),
        // Each binary once: three groups run one `shoplab-group`.
        binary_bytes: processes
            .iter()
            .map(|process| {
                (
                    crate::deployment::binary_of(&process.name),
                    process.binary_bytes,
                )
            })
            .collect::<BTreeMap<_, _>>()
            .values()
            .sum(),
        startup_median_ms: median(&startups),
        startup_ms: startups,
        processes,
    }
}
