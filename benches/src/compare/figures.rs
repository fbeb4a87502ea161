//! Everything one `shoplab compare` run measured, as written to
//! `result.json`: the raw figures, and beside them the conditions they were
//! measured under (machine, build profile, pinning, seed, commit), so a
//! figure is never read without its context.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::experiment::Stamp;
use crate::load::Report;
use crate::pin::Pinning;

#[derive(Debug, Clone, Serialize)]
pub struct CompareResult {
    #[serde(flatten)]
    pub stamp: Stamp,
    /// `release` or `debug`: the profile the measured binaries were built with.
    pub build_profile: &'static str,
    /// `None`: not pinned (`--no-pin`, or one core).
    pub pinning: Option<Pinning>,
    pub seed: u64,
    /// `sqlite` or `postgres`.
    pub storage: String,
    pub quick: bool,
    /// Each measured run's length.
    pub duration_s: f64,
    /// Closed-loop connections.
    pub connections: usize,
    /// The generator against the floor's `/hello`: its own ceiling.
    pub generator_ceiling: Report,
    /// The floor's bare product read, closed loop, same connections.
    pub floor_read: Report,
    /// The deployments' labels (the keys below), in the order asked for:
    /// the order of every table's columns.
    pub order: Vec<String>,
    pub deployments: BTreeMap<String, DeploymentFigures>,
    pub workloads: Vec<WorkloadFigures>,
    pub hop: HopFigures,
    /// The microservices again with a delay on every internal hop.
    pub hop_delays: Vec<DelayFigures>,
    /// Both deployments again with metrics on: each workload's maximum
    /// throughput beside the main run's (metrics off).
    pub metrics_on: Vec<MeteredRun>,
    pub build: Option<crate::build_time::BuildFigures>,
    /// `--containers`: the monolith and the microservices in containers.
    pub containers: Option<super::containers::ContainerFigures>,
    /// The monolith and the microservices counted again with metrics on:
    /// instructions per request with and without, per workload (empty
    /// without a counting pass).
    pub metrics_on_counted: Vec<MeteredCount>,
    /// Why there was no counting pass, when the tools it needs are missing
    /// (`None` when it ran, or was not asked for).
    pub counting_skipped: Option<String>,
    pub verdicts: Vec<Verdict>,
}

/// Start-up, memory and size of one deployment.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentFigures {
    pub processes: Vec<ProcessFigures>,
    /// First spawn to a passing `/health` of the whole deployment (its base
    /// URL), each start on fresh databases; the median is the figure.
    pub startup_ms: Vec<f64>,
    pub startup_median_ms: f64,
    pub rss_idle_bytes: u64,
    /// The largest total seen at the end of a closed-loop run.
    pub rss_load_bytes: u64,
    pub binary_bytes: u64,
    /// The container images of the same binaries (`<binary>:latest`, as
    /// `scripts/images.sh` tags them), each once; `None` where no Docker
    /// engine answers or an image is missing.
    pub image_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcessFigures {
    pub name: String,
    /// Spawn to this process's own `/health` passing (first start).
    pub startup_ms: f64,
    pub rss_idle_bytes: u64,
    pub rss_load_bytes: u64,
    pub binary_bytes: u64,
}

/// One workload on both deployments.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadFigures {
    pub workload: String,
    /// The open-loop rate, the same for both: a quarter of the slower
    /// deployment's maximum throughput.
    pub rate_rps: f64,
    pub runs: BTreeMap<String, WorkloadRuns>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadRuns {
    /// Closed loop: maximum throughput.
    pub closed: Report,
    /// Open loop at `rate_rps`: latency at equal load.
    pub open: Report,
    /// CPU over the closed-loop run.
    pub cpu: CpuFigures,
    /// The traced pass after the open loop (unless `--no-hop-logs`).
    pub traced: Option<TracedPass>,
    /// The counting pass's figures (`None`: `--no-count`, or skipped).
    pub counted: Option<crate::counting::Counted>,
}

/// The same open loop again, briefly, with every hop logged.
#[derive(Debug, Clone, Serialize)]
pub struct TracedPass {
    pub duration_s: f64,
    /// Its median: set beside the open loop's, what logging every hop cost.
    pub p50_ms: f64,
    /// Its slowest request, hop by hop (`None` if the logs did not hold it).
    pub slowest: Option<SlowestTrace>,
}

impl CompareResult {
    /// Every traced pass: (workload, deployment, the equal-load run's p50
    /// in ms, the pass).
    pub fn traced_passes(&self) -> impl Iterator<Item = (&str, &str, f64, &TracedPass)> {
        self.workloads.iter().flat_map(|workload| {
            workload.runs.iter().filter_map(move |(deployment, runs)| {
                runs.traced.as_ref().map(|pass| {
                    (
                        workload.workload.as_str(),
                        deployment.as_str(),
                        runs.open.all.latency_ms.p50,
                        pass,
                    )
                })
            })
        })
    }
}

/// One request drawn from the hop logs, as `shoplab trace` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SlowestTrace {
    pub request_id: String,
    pub latency_ms: f64,
    /// Where its hop logs are (`shoplab trace ID --log-dir DIR`).
    pub log_dir: String,
    pub hops: Vec<crate::trace::Hop>,
}

/// What a request cost in CPU time.
#[derive(Debug, Clone, Serialize)]
pub struct CpuFigures {
    pub requests: u64,
    /// All the deployment's processes together, µs of CPU per request.
    pub us_per_request: f64,
    /// Per process (`shoplab-orders`, ...).
    pub by_process_us: BTreeMap<String, f64>,
    /// The PostgreSQL server's processes, reported apart; `None` on SQLite.
    pub database_server_us: Option<f64>,
    /// How busy the load generator (this process) kept its own cores over
    /// the run, 0.0..=1.0: well below 1, it was not what limited the run.
    pub generator_busy: f64,
}

/// The cost of one hop, in the same run.
#[derive(Debug, Clone, Serialize)]
pub struct HopFigures {
    /// B: median round trip of a small JSON POST to the floor's `/echo`,
    /// concurrency 1, kept-alive, sent from the deployment's cores: with
    /// reqwest's blocking client (for comparison: the services' component
    /// calls used it before they were async) and its async client (the one
    /// the gateway and the services' component calls use).
    pub b_blocking_ms: f64,
    pub b_async_ms: f64,
    /// Median of `GET /products/{id}` through the gateway, through the
    /// floor's bare relay, and straight to the catalog service, interleaved.
    pub via_gateway_ms: f64,
    pub via_relay_ms: f64,
    pub direct_to_catalog_ms: f64,
    /// The difference: what the gateway adds.
    pub gateway_hop_ms: f64,
    /// `gateway_hop_ms / b_async_ms` (the target is at most 1.25).
    pub gateway_hop_over_b: f64,
    /// What the bare relay adds (`via_relay_ms - direct_to_catalog_ms`): an
    /// actix-web server and a reqwest client in one more process, with
    /// nothing of the gateway's own (no ids, deadline, guard, metrics, log).
    /// The least a gateway on this stack can add.
    pub relay_hop_ms: f64,
    /// `relay_hop_ms / b_async_ms`.
    pub relay_hop_over_b: f64,
    pub samples: usize,
    /// The internal hop: the median, over the component calls the services
    /// made for orders sent one at a time, of the caller's time for the call
    /// less the callee's time serving it, both from the hop logs. `None`:
    /// not measured (no workload with component calls, or no hop logs).
    pub internal_hop_ms: Option<f64>,
    /// `internal_hop_ms / b_async_ms` (the target is at most 1.25).
    pub internal_hop_over_b: Option<f64>,
    /// How many component calls the median is of.
    pub internal_hop_calls: usize,
    /// B and the three hops in instructions and system calls, from the
    /// counting pass (`None` without one).
    pub counted: Option<crate::counting::hop::HopCounts>,
}

/// One workload's closed loop on one deployment with metrics on, beside
/// the same loop with them off (the main run's deployment), the two run
/// one right after the other.
#[derive(Debug, Clone, Serialize)]
pub struct MeteredRun {
    pub deployment: String,
    pub workload: String,
    pub without_rps: f64,
    pub with_rps: f64,
    /// `1 - with / without`: the share of the maximum throughput that
    /// metrics cost (the target is at most 0.05).
    pub cost: f64,
}

/// One workload's instructions per request on one deployment with metrics
/// on, beside the counting pass's (metrics off): an exact cost, where the
/// throughput's difference is lost in noise.
#[derive(Debug, Clone, Serialize)]
pub struct MeteredCount {
    pub deployment: String,
    pub workload: String,
    pub without: f64,
    pub with: f64,
    /// `with / without - 1` (the target is at most 0.05).
    pub cost: f64,
}

/// The microservices with `delay_us` added to every internal hop.
#[derive(Debug, Clone, Serialize)]
pub struct DelayFigures {
    pub delay_us: u64,
    /// Workload name → open-loop p50 and p99 (ms) at the same rate as
    /// without delay, and closed-loop throughput.
    pub workloads: BTreeMap<String, DelayedRun>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DelayedRun {
    pub rate_rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_throughput_rps: f64,
    /// The monolith's p50 at the same rate (it has no hops to delay).
    pub monolith_p50_ms: f64,
}

/// One claim of DESIGN.md's table, as this run measured it.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub claim: String,
    pub figures: String,
    pub verdict: String,
}
