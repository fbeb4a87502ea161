//! `compare --containers`: the monolith and the microservices again, in
//! containers (`deploy/compose/`, on the images of `scripts/images.sh`), in
//! the same run as the processes and under the same workloads at the same
//! rates: what containers add, deployment by deployment.
//!
//! - Each project's containers are pinned to the deployment's cores where
//!   the engine allows (`docker update --cpuset-cpus`).
//! - The load goes to the entry container's own address on its bridge
//!   network, not through the engine's port proxy: what is measured is the
//!   container networking the services' own calls go through.
//! - CPU and memory are read from `/proc` for each container's main process
//!   (the images hold nothing else).
//! - B, the plainest round trip, is measured again between two containers
//!   on one bridge network (`shoplab-floor` in both: a server, and a client
//!   with `--round-trips`), beside B on loopback: what container networking
//!   adds to every hop, as a ratio to B.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::containers::{
    address_on, compose_dir, docker, engine, main_pid, Project, Stack, CONTAINER_PORT,
};
use crate::progress::Step;

use super::figures::{WorkloadFigures, WorkloadRuns};
use super::runs::{closed_with_cpu, seed_and_warm, Measured, OpenLoop};
use super::Options;

/// One stack's figures in containers.
#[derive(Debug, Clone, Serialize)]
pub struct StackFigures {
    /// `monolith` or `microservices`: the process deployment it is set beside.
    pub deployment: String,
    pub containers: usize,
    pub rss_idle_bytes: u64,
    pub rss_load_bytes: u64,
    /// Per workload: the same runs as the processes' (no traced pass: the
    /// images keep no hop logs).
    pub workloads: BTreeMap<String, WorkloadRuns>,
}

/// B between containers, beside B on loopback.
#[derive(Debug, Clone, Serialize)]
pub struct BridgeHop {
    /// The median round trip of a small JSON POST from one container to
    /// another on one bridge network (reqwest's async client, concurrency
    /// 1, kept alive).
    pub b_bridge_ms: f64,
    /// The same from the host to a container (the way the load goes in).
    pub b_host_to_container_ms: f64,
    pub samples: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContainerFigures {
    pub stacks: Vec<StackFigures>,
    pub hop: BridgeHop,
}

/// A compose project under measure.
struct InContainers {
    label: String,
    base_url: String,
    /// Each service's main process, by service.
    pids: Vec<(String, u32)>,
}

impl Measured for InContainers {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn base_url(&self) -> &str {
        &self.base_url
    }

    fn cpu_times(&self) -> Vec<(String, Duration)> {
        self.pids
            .iter()
            .map(|(name, pid)| (name.clone(), crate::cpu::cpu_time(*pid).unwrap_or_default()))
            .collect()
    }
}

impl InContainers {
    fn rss_bytes(&self) -> u64 {
        self.pids
            .iter()
            .filter_map(|(_, pid)| crate::cpu::rss_bytes(*pid))
            .sum()
    }
}

/// Refuses early, in one line, when no engine answers: before the
/// processes' runs, not after them.
pub(crate) async fn check_engine() -> anyhow::Result<()> {
    engine()
        .await
        .context("compare --containers needs a Docker engine and the images (scripts/images.sh)")
}

/// Both stacks in containers, each workload at the rate the processes were
/// measured at; then B across a bridge.
pub(crate) async fn measure(
    options: &Options,
    http: &reqwest::Client,
    process_runs: &[WorkloadFigures],
) -> anyhow::Result<ContainerFigures> {
    let mut stacks = Vec::new();
    for stack in Stack::ALL {
        let step = Step::begin(format!("{} in containers: docker-compose up", stack.name()));
        let project = Project::up(stack, &compose_dir()).await?;
        step.done(&project.name);
        let measured = measure_stack(options, http, process_runs, stack, &project).await;
        project.down().await;
        stacks.push(measured?);
    }
    let hop = bridge_hop(options).await?;
    Ok(ContainerFigures { stacks, hop })
}

async fn measure_stack(
    options: &Options,
    http: &reqwest::Client,
    process_runs: &[WorkloadFigures],
    stack: Stack,
    project: &Project,
) -> anyhow::Result<StackFigures> {
    let mut pids = Vec::new();
    for service in stack.services() {
        let container = project.container(service).await?;
        if let Some(pinning) = &options.pinning {
            pin(&container, &pinning.deployment).await?;
        }
        pids.push((
            format!("{service} (container)"),
            main_pid(&container).await?,
        ));
    }
    let address = project
        .address_on(stack.entry(), stack.entry_network())
        .await?;
    let target = InContainers {
        label: format!("{} (containers)", stack.name()),
        base_url: format!("http://{address}:{CONTAINER_PORT}"),
        pids,
    };
    let rss_idle_bytes = target.rss_bytes();
    let data = seed_and_warm(options, http, &target).await?;
    let mut rss_load_bytes = 0;
    let mut workloads = BTreeMap::new();
    for workload in &options.workloads {
        let rate = process_runs
            .iter()
            .find(|figures| figures.workload == workload.name())
            .map(|figures| figures.rate_rps)
            .with_context(|| format!("no process run of {}", workload.name()))?;
        let (closed, cpu) = closed_with_cpu(options, http, &target, workload, &data).await?;
        rss_load_bytes = rss_load_bytes.max(target.rss_bytes());
        let open = OpenLoop {
            options,
            http,
            deployment: &target,
            workload,
            rate,
            data: &data,
        }
        .measure()
        .await?;
        workloads.insert(
            workload.name().to_owned(),
            WorkloadRuns {
                closed,
                open,
                cpu,
                traced: None,
                counted: None,
            },
        );
    }
    Ok(StackFigures {
        deployment: stack.name().into(),
        containers: stack.services().len(),
        rss_idle_bytes,
        rss_load_bytes,
        workloads,
    })
}

/// Confines a container to `cores`.
async fn pin(container: &str, cores: &[usize]) -> anyhow::Result<()> {
    docker(&["update", "--cpuset-cpus", &cpuset(cores), container])
        .await
        .map(drop)
}

/// `cores` as `--cpuset-cpus` takes them: `0,1`.
fn cpuset(cores: &[usize]) -> String {
    cores
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// B between two containers on a network of their own, and from the host
/// to one of them: `shoplab-floor` serving, and `shoplab-floor
/// --round-trips` as the client. Everything is removed afterwards.
async fn bridge_hop(options: &Options) -> anyhow::Result<BridgeHop> {
    let step = Step::begin("B between two containers on a bridge network");
    let name = format!(
        "shoplab-b-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    docker(&["network", "create", &name]).await?;
    let measured = bridge_round_trips(options, &name).await;
    let _ = docker(&["rm", "--force", &format!("{name}-server")]).await;
    let _ = docker(&["network", "rm", &name]).await;
    let hop = measured?;
    step.done(&format!(
        "{:.3} ms between containers, {:.3} ms from the host",
        hop.b_bridge_ms, hop.b_host_to_container_ms
    ));
    Ok(hop)
}

async fn bridge_round_trips(options: &Options, network: &str) -> anyhow::Result<BridgeHop> {
    let server = format!("{network}-server");
    let cpus = options
        .pinning
        .as_ref()
        .map(|pinning| cpuset(&pinning.deployment));
    let mut run = vec!["run", "--detach", "--name", &server, "--network", network];
    if let Some(cpus) = &cpus {
        run.extend(["--cpuset-cpus", cpus]);
    }
    run.extend(["shoplab-floor:latest", "--addr", "0.0.0.0:8080"]);
    docker(&run).await?;
    let address = address_on(&server, network).await?;
    let echo = format!("http://{address}:{CONTAINER_PORT}/echo");
    let samples = options.hop_samples.to_string();
    // The server answers once it listens; the client retries until then.
    let mut client = vec!["run", "--rm", "--network", network];
    if let Some(cpus) = &cpus {
        client.extend(["--cpuset-cpus", cpus]);
    }
    let url = format!("http://{server}:{CONTAINER_PORT}/echo");
    client.extend([
        "shoplab-floor:latest",
        "--round-trips",
        &url,
        "--samples",
        &samples,
    ]);
    let printed = docker(&client).await?;
    let b_bridge_ms: f64 = printed
        .trim()
        .parse()
        .with_context(|| format!("shoplab-floor --round-trips printed {printed:?}"))?;
    let b_host_to_container_ms = super::hop::b_async(&echo, options.hop_samples).await?;
    Ok(BridgeHop {
        b_bridge_ms,
        b_host_to_container_ms,
        samples: options.hop_samples,
    })
}
