//! `shoplab partitions`: every grouping of the four components into
//! processes, measured the same way, ranked, and the split's cost taken
//! apart piece by piece.
//!
//! The order of a run:
//! 1. the microservices first: each workload's closed loop (its maximum
//!    sets the one open-loop rate every deployment is measured at: a
//!    quarter of it), the open loops, and a traced pass, whose hop logs
//!    give the calls per request between each pair of components;
//! 2. the monolith and the modular monolith over HTTP, the other two
//!    reference points of the decomposition;
//! 3. the fifteen groupings (`shoplab-group` processes; the first, all
//!    together, is the modular monolith), each started fresh, seeded,
//!    warmed, its closed and open loops run, and stopped;
//! 4. after each deployment, unless `--no-count`, the same deployment again
//!    under callgrind: its instructions per request on each workload, as
//!    `compare`'s counting pass counts them (`crate::counting`).
//!
//! Each deployment is pinned to the same cores, the load generator to the
//! others, as in `shoplab compare`, whose runs these are.

mod args;
pub mod figures;
mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use shoplab_common::components::{Component, Op};
use shoplab_common::grouping::Grouping;
use shoplab_http::hop_log;

use crate::compare::runs::{closed_with_cpu, equal_load_rate, run_of, seed_and_warm, OpenLoop};
use crate::compare::start::start;
use crate::compare::OPEN_LOOP_CONNECTIONS;
use crate::counting;
use crate::deployment::{Calls, Deployment, Kind};
use crate::experiment::{build_profile, until_interrupted, Experiment, Stamp};
use crate::load::{self, DataSet, Mode, Run};
use crate::progress::Step;
use crate::scratch::Databases;
use crate::trace::hops_where;
use figures::{
    pair_name, pairs, rank, Decomposition, Figures, Measured, PairCalls, PartitionsResult,
};

pub use args::Args;

/// What `shoplab partitions` was asked to do: the runs as `shoplab
/// compare` makes them (duration, connections, pinning, workloads).
#[derive(Debug, Clone)]
pub struct Options {
    pub runs: crate::compare::Options,
}

/// The requests of the traced pass that counts the calls between
/// components (at the open loop's rate, so a few hundred).
const TRACED_PASS: Duration = Duration::from_secs(1);

/// The workload the ranking orders by, when it was run: the mix, what a
/// shop serves.
const RANKED_BY: &str = "mix";

impl Experiment for Options {
    type Result = PartitionsResult;
    const PREFIX: &'static str = "partitions-";
    const FILE: &'static str = "partitions.json";

    fn out(&self) -> Option<PathBuf> {
        self.runs.out.clone()
    }

    async fn measure(
        &self,
        out: &Path,
        stamp: Stamp,
        _earlier: &[PartitionsResult],
    ) -> anyhow::Result<PartitionsResult> {
        let mut databases = Databases::new(&self.runs.backend, "part");
        let measured = until_interrupted(measure(self, out, &mut databases)).await;
        databases.drop_all().await;
        let (deployments, rates, pairs) = measured?;
        let runs = &self.runs;
        let by = if runs
            .workloads
            .iter()
            .any(|workload| workload.name() == RANKED_BY)
        {
            RANKED_BY.to_owned()
        } else {
            runs.workloads
                .first()
                .map(|workload| workload.name().to_owned())
                .unwrap_or_default()
        };
        let ranking = rank(&deployments, &pairs, &by);
        let decomposition = decompose(&deployments);
        let mut result = PartitionsResult {
            stamp,
            build_profile: build_profile(&runs.bin_dir),
            pinning: runs.pinning.clone(),
            storage: runs.backend.name().into(),
            quick: runs.quick,
            seed: runs.seed,
            duration_s: runs.duration.as_secs_f64(),
            connections: runs.connections,
            rates,
            deployments,
            pairs,
            ranking,
            decomposition,
            verdicts: Vec::new(),
        };
        result.verdicts = report::verdicts(&result, &by);
        Ok(result)
    }

    fn files(&self, result: &PartitionsResult) -> Vec<(&'static str, String)> {
        vec![("report.html", report::html(result))]
    }

    fn render(&self, results: &[PartitionsResult]) {
        results.iter().for_each(report::print);
    }

    /// A run where a deployment failed requests does not rank anything.
    fn check(&self, results: &[PartitionsResult]) -> anyhow::Result<()> {
        let failed: Vec<String> = results
            .iter()
            .flat_map(|result| &result.deployments)
            .flat_map(|measured| {
                measured
                    .workloads
                    .iter()
                    .filter(|(_, figures)| figures.errors > 0)
                    .map(move |(workload, figures)| {
                        format!(
                            "{} {workload}: {} errors",
                            measured.deployment, figures.errors
                        )
                    })
            })
            .collect();
        anyhow::ensure!(
            failed.is_empty(),
            "requests failed, so the figures do not compare: {}",
            failed.join(", ")
        );
        Ok(())
    }
}

/// The deployments in the order they run: the microservices (whose
/// maximum sets the rate), the other references, then the fifteen.
fn deployments() -> Vec<Kind> {
    let mut kinds = vec![Kind::Micro, Kind::Monolith, Kind::MODULAR_HTTP];
    kinds.extend(
        Grouping::all()
            .into_iter()
            .map(|grouping| Kind::Group(grouping, Calls::InProcess)),
    );
    kinds
}

type Measurements = (Vec<Measured>, BTreeMap<String, f64>, Vec<PairCalls>);

async fn measure(
    options: &Options,
    out: &Path,
    databases: &mut Databases,
) -> anyhow::Result<Measurements> {
    let runs = &options.runs;
    let http = load::http_client()?;
    let kinds = deployments();
    let mut rates: BTreeMap<String, f64> = BTreeMap::new();
    let mut pairs = Vec::new();
    let mut measured = Vec::new();
    let counting = match runs.count_requests {
        Some(requests) => match counting::available().await {
            Ok(()) => Some(requests),
            Err(why) => {
                eprintln!("shoplab partitions: instructions are not counted: {why:#}");
                None
            }
        },
        None => None,
    };
    for (at, &kind) in kinds.iter().enumerate() {
        eprintln!("[{}/{}] {}", at + 1, kinds.len(), kind.label());
        let logs = (kind == Kind::Micro).then(|| out.join("logs").join(kind.dir_name()));
        let deployment = start(runs, databases, kind, 0, logs.clone()).await?;
        let outcome = async {
            deployment.hop_logs(false);
            let data = seed_and_warm(runs, &http, &deployment).await?;
            let mut workloads = BTreeMap::new();
            for workload in &runs.workloads {
                let (closed, cpu) =
                    closed_with_cpu(runs, &http, &deployment, workload, &data).await?;
                let rate = *rates
                    .entry(workload.name().to_owned())
                    .or_insert_with(|| equal_load_rate(closed.all.throughput_rps));
                let open_loop = OpenLoop {
                    options: runs,
                    http: &http,
                    deployment: &deployment,
                    workload,
                    rate,
                    data: &data,
                };
                let open = open_loop.measure().await?;
                if let Some(logs) = &logs {
                    let calls =
                        traced_calls(runs, &http, &deployment, workload, rate, &data, logs).await?;
                    for (pair, per_request) in calls {
                        merge(&mut pairs, pair, workload.name(), per_request);
                    }
                }
                workloads.insert(
                    workload.name().to_owned(),
                    Figures {
                        cpu_us: cpu.us_per_request,
                        p50_ms: open.all.latency_ms.p50,
                        max_rps: closed.all.throughput_rps,
                        errors: closed.all.errors + open.all.errors,
                        instructions: None,
                    },
                );
            }
            anyhow::Ok(Measured {
                deployment: kind.name(),
                grouping: match kind {
                    Kind::Group(grouping, Calls::InProcess) => Some(grouping.to_string()),
                    _ => None,
                },
                processes: deployment.process_count(),
                workloads,
            })
        }
        .await;
        deployment.stop().await;
        let mut outcome = outcome?;
        if let Some(requests) = counting {
            // Instructions only: a count per grouping, beside its CPU time.
            let plan = crate::compare::counted::plan(runs, out, requests);
            let counted = crate::compare::counted::deploy_counted(runs, databases, kind)?;
            let instructions =
                counting::instructions_only(&plan, counted, &runs.workloads, "partitions").await?;
            for (workload, figures) in &mut outcome.workloads {
                figures.instructions = instructions.get(workload).copied();
            }
        }
        measured.push(outcome);
    }
    Ok((measured, rates, pairs))
}

/// Adds one pair's calls per request on one workload.
fn merge(pairs: &mut Vec<PairCalls>, pair: String, workload: &str, per_request: f64) {
    match pairs.iter_mut().find(|known| known.pair == pair) {
        Some(known) => {
            known.per_request.insert(workload.to_owned(), per_request);
        }
        None => pairs.push(PairCalls {
            pair,
            per_request: BTreeMap::from([(workload.to_owned(), per_request)]),
        }),
    }
}

/// A short open loop on the microservices with their hop logs on, then the
/// component calls it made, read from the logs: each `function` hop is a
/// call from the component whose service logged it to the component of the
/// operation it names. Returns every pair's calls per request (0 for a pair
/// that made none).
async fn traced_calls(
    runs: &crate::compare::Options,
    http: &reqwest::Client,
    deployment: &Deployment,
    workload: &load::Workload,
    rate: f64,
    data: &DataSet,
    logs: &Path,
) -> anyhow::Result<Vec<(String, f64)>> {
    let step = Step::begin(format!(
        "{}: {}, traced pass (the calls between components)",
        deployment.kind.label(),
        workload.name()
    ));
    let run = Run {
        duration: TRACED_PASS,
        ..run_of(
            runs,
            &deployment.base_url,
            workload.clone(),
            Mode::Open {
                rate,
                connections: OPEN_LOOP_CONNECTIONS,
            },
        )
    };
    deployment.hop_logs(true);
    let report = load::drive(http, &run, data, |share| step.set(share)).await;
    deployment.hop_logs(false);
    let report = report?;
    // Every line logged is on disk within this.
    tokio::time::sleep(2 * hop_log::FLUSH_EVERY).await;
    let prefix = run.request_id_prefix.clone();
    let hops = hops_where(
        &[logs.to_path_buf()],
        |line| line.contains(&prefix),
        |id| id.starts_with(&prefix),
    )?;
    let requests = report.all.requests.max(1) as f64;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for hop in hops.iter().filter(|hop| hop.hop == "function") {
        let caller = Component::ALL
            .into_iter()
            .find(|component| hop.process == format!("shoplab-{component}"));
        let callee = Op::parse(&hop.route).ok().map(Op::component);
        if let (Some(caller), Some(callee)) = (caller, callee) {
            if caller != callee {
                *counts.entry(pair_name(caller, callee)).or_default() += 1;
            }
        }
    }
    let calls: Vec<(String, f64)> = pairs()
        .into_iter()
        .map(|(a, b)| {
            let name = pair_name(a, b);
            let count = counts.get(&name).copied().unwrap_or(0);
            (name, count as f64 / requests)
        })
        .collect();
    step.done(&format!(
        "{:.0} requests, {:.2} component calls each",
        requests,
        calls.iter().map(|(_, per)| per).sum::<f64>()
    ));
    Ok(calls)
}

/// The decomposition of each workload, from the four reference points.
fn decompose(deployments: &[Measured]) -> BTreeMap<String, Decomposition> {
    let find = |name: &str| {
        deployments
            .iter()
            .find(|measured| measured.deployment == name)
    };
    let (Some(monolith), Some(modular), Some(http), Some(micro)) = (
        find("monolith"),
        find("modular"),
        find("modular-http"),
        find("micro"),
    ) else {
        return BTreeMap::new();
    };
    monolith
        .workloads
        .iter()
        .filter_map(|(workload, &mono)| {
            Some((
                workload.clone(),
                Decomposition::of(
                    mono,
                    *modular.workloads.get(workload)?,
                    *http.workloads.get(workload)?,
                    *micro.workloads.get(workload)?,
                ),
            ))
        })
        .collect()
}
