//! The report's last word: one line per claim of DESIGN.md's table that the
//! run measured, and per target of the harness, with the figures and a
//! verdict computed from them (never written in advance). Where this run or
//! this machine cannot show an effect, the line says so.

use super::figures::{CompareResult, Verdict, WorkloadFigures};
use crate::deployment::Kind;

pub(crate) const MONOLITH: &str = "monolith";
pub(crate) const MICRO: &str = "microservices";

pub fn verdicts(result: &CompareResult) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let workload = |name: &str| {
        result
            .workloads
            .iter()
            .find(|figures| figures.workload == name)
    };
    debug_assert_eq!(Kind::Monolith.label(), MONOLITH);
    debug_assert_eq!(Kind::Micro.label(), MICRO);

    // In-process calls are faster than network calls.
    if let Some(latency) = workload("order")
        .or_else(|| workload("read"))
        .and_then(p50s)
    {
        let (name, rate, mono, micro) = latency;
        let ratio = micro / mono;
        verdicts.push(Verdict {
            claim: "in-process calls are faster than network calls".into(),
            figures: format!(
                "{name}: p50 {mono:.3} ms (monolith) vs {micro:.3} ms (microservices) at {rate:.0} req/s, {ratio:.2}x"
            ),
            verdict: if ratio > 1.05 {
                format!("holds: the same {name} takes {ratio:.1}x as long when its components call each other over HTTP")
            } else {
                "not shown by this run: the latencies are within 5% of each other".into()
            },
        });
    }

    // The split costs machine resources: judged on counts where there are
    // any (they repeat), on CPU time otherwise.
    if let Some(verdict) = super::counted::split_cost_verdict(result) {
        verdicts.push(verdict);
    } else {
        timed_split_cost(result, &mut verdicts);
    }
    if let (Some(mono), Some(micro)) = (
        result.deployments.get(MONOLITH),
        result.deployments.get(MICRO),
    ) {
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        verdicts.push(Verdict {
            claim: "the split costs machine resources (memory)".into(),
            figures: format!(
                "resident memory under load: {:.1} MiB (1 process) vs {:.1} MiB ({} processes); idle {:.1} vs {:.1} MiB",
                mib(mono.rss_load_bytes),
                mib(micro.rss_load_bytes),
                micro.processes.len(),
                mib(mono.rss_idle_bytes),
                mib(micro.rss_idle_bytes)
            ),
            verdict: if micro.rss_load_bytes > mono.rss_load_bytes {
                format!(
                    "holds: the services hold {:.1}x the monolith's memory",
                    micro.rss_load_bytes as f64 / mono.rss_load_bytes.max(1) as f64
                )
            } else {
                "does not hold on this run".into()
            },
        });
        let (mono_start, micro_start) = (mono.startup_median_ms, micro.startup_median_ms);
        verdicts.push(Verdict {
            claim: "a big monolith starts slowly".into(),
            figures: format!(
                "spawn to a passing /health, median of {}: {mono_start:.1} ms (monolith) vs {micro_start:.1} ms (all services and the gateway)",
                mono.startup_ms.len()
            ),
            verdict: if mono_start > micro_start {
                "holds: the monolith takes longer to start than the whole split deployment".into()
            } else {
                format!(
                    "not at this size: the monolith starts in {:.0}% of the split deployment's time; \
                     a shop this small has nothing slow to start, and one service alone is what a split deployment restarts",
                    mono_start / micro_start.max(f64::EPSILON) * 100.0
                )
            },
        });
    }

    if let Some(build) = &result.build {
        let clean = |package: &str| {
            build
                .clean
                .iter()
                .find(|figures| figures.package == package)
                .map(|figures| figures.seconds)
        };
        let service_change = build
            .incremental
            .iter()
            .find(|rebuild| rebuild.change.contains("orders service"));
        let monolith_change = build
            .incremental
            .iter()
            .find(|rebuild| rebuild.change.contains("monolith"));
        if let (Some(mono), Some(orders), Some(service), Some(monolith)) = (
            clean("shoplab-monolith"),
            clean("shoplab-orders"),
            service_change,
            monolith_change,
        ) {
            verdicts.push(Verdict {
                claim: "services build independently; one change rebuilds the monolith".into(),
                figures: format!(
                    "clean build of own crates: monolith {mono:.1} s vs orders service {orders:.1} s; \
                     a line in the orders service: {:.1} s, rebuilt {:?}; a line in the monolith: {:.1} s, rebuilt {:?}",
                    service.seconds, service.recompiled, monolith.seconds, monolith.recompiled
                ),
                verdict: if !service.recompiled.iter().any(|name| name.contains("monolith"))
                    && service.recompiled.len() <= 2
                {
                    "holds for service code: a change to one service rebuilds that service only; a change to common rebuilds every binary (see the table)".into()
                } else {
                    "does not hold: a change to the orders service rebuilt more than that service".into()
                },
            });
        }
    }

    // The harness's own targets.
    let hop = &result.hop;
    let counted_hops = super::counted::hop_verdicts(result);
    if counted_hops.is_none() {
        verdicts.push(Verdict {
            claim: "target: the gateway hop costs at most 1.25x B".into(),
            figures: format!(
                "gateway hop {:.3} ms (via gateway {:.3} − direct {:.3}), B {:.3} ms (async client; blocking client {:.3} ms); a bare relay on the same stack adds {:.3} ms = {:.2}x B",
                hop.gateway_hop_ms, hop.via_gateway_ms, hop.direct_to_catalog_ms, hop.b_async_ms, hop.b_blocking_ms,
                hop.relay_hop_ms, hop.relay_hop_over_b
            ),
            verdict: if hop.gateway_hop_over_b <= 1.25 {
                format!("met: {:.2}x B", hop.gateway_hop_over_b)
            } else if hop.relay_hop_over_b > 1.25 {
                format!(
                    "missed: {:.2}x B, and out of reach on this stack: a bare relay (one actix-web server, one reqwest client, nothing else) already adds {:.2}x B",
                    hop.gateway_hop_over_b, hop.relay_hop_over_b
                )
            } else {
                format!("missed: {:.2}x B", hop.gateway_hop_over_b)
            },
        });
    }
    let own = hop.gateway_hop_ms / hop.relay_hop_ms;
    verdicts.push(Verdict {
        claim: "the gateway is lean: its hop costs at most 1.25x a bare relay's on the same stack"
            .into(),
        figures: format!(
            "gateway hop {:.3} ms, bare relay hop {:.3} ms (via relay {:.3} − direct {:.3}): the gateway's own work (ids, deadline, routing, guard, metrics, log) {:.3} ms",
            hop.gateway_hop_ms,
            hop.relay_hop_ms,
            hop.via_relay_ms,
            hop.direct_to_catalog_ms,
            hop.gateway_hop_ms - hop.relay_hop_ms
        ),
        verdict: if own.is_finite() && own <= 1.25 {
            format!("holds: {own:.2}x the relay")
        } else {
            format!("does not hold: {own:.2}x the relay")
        },
    });
    match counted_hops {
        Some(counted) => verdicts.extend(counted),
        None => {
            verdicts.push(Verdict {
                claim: "target: the internal hop (a component call between services) costs at most 1.25x B"
                    .into(),
                figures: match hop.internal_hop_ms {
                    Some(internal) => format!(
                        "internal hop {internal:.3} ms (the median of {} component calls: the caller's time less the callee's), B {:.3} ms; a bare relay's hop, the same HTTP work (one server side, one client side), {:.3} ms = {:.2}x B",
                        hop.internal_hop_calls, hop.b_async_ms, hop.relay_hop_ms, hop.relay_hop_over_b
                    ),
                    None => "not measured: no workload with component calls, or no hop logs".into(),
                },
                verdict: match (hop.internal_hop_over_b, hop.internal_hop_ms) {
                    (Some(over_b), _) if over_b <= 1.25 => format!("met: {over_b:.2}x B"),
                    (Some(over_b), Some(internal)) => format!(
                        "missed: {over_b:.2}x B ({:.2}x the bare relay's hop)",
                        internal / hop.relay_hop_ms
                    ),
                    _ => "not measured".into(),
                },
            });
        }
    }
    if let Some(verdict) = super::counted::metrics_verdict(result) {
        verdicts.push(verdict);
    } else if let Some(worst) = result
        .metrics_on
        .iter()
        .max_by(|one, other| one.cost.total_cmp(&other.cost))
    {
        let costs: Vec<String> = result
            .metrics_on
            .iter()
            .map(|run| {
                format!(
                    "{} {} {:.1}%",
                    run.workload,
                    run.deployment,
                    run.cost * 100.0
                )
            })
            .collect();
        verdicts.push(Verdict {
            claim: "target: metrics cost at most 5% of the maximum throughput".into(),
            figures: format!("max throughput lost with metrics on: {}", costs.join(", ")),
            verdict: if worst.cost <= 0.05 {
                format!("met: at most {:.1}%", worst.cost * 100.0)
            } else {
                format!(
                    "missed: {:.1}% ({} on the {})",
                    worst.cost * 100.0,
                    worst.workload,
                    worst.deployment
                )
            },
        });
    }
    if let Some(read) = workload("read").and_then(|figures| figures.runs.get(MONOLITH)) {
        let share =
            read.closed.all.throughput_rps / result.floor_read.all.throughput_rps.max(f64::EPSILON);
        verdicts.push(Verdict {
            claim: "target: the monolith's product read reaches 80% of the floor's throughput"
                .into(),
            figures: format!(
                "{:.0} req/s vs the floor's {:.0} req/s at {} connections",
                read.closed.all.throughput_rps,
                result.floor_read.all.throughput_rps,
                result.connections
            ),
            verdict: if share >= 0.8 {
                format!("met: {:.0}%", share * 100.0)
            } else {
                format!("missed: {:.0}%", share * 100.0)
            },
        });
    }
    let busiest = result
        .workloads
        .iter()
        .flat_map(|figures| {
            figures.runs.iter().map(move |(deployment, runs)| {
                (
                    runs.cpu.generator_busy,
                    format!("{}, {deployment}", figures.workload),
                )
            })
        })
        .fold((0.0, String::new()), |busiest, run| {
            if run.0 > busiest.0 {
                run
            } else {
                busiest
            }
        });
    let ceiling = result.generator_ceiling.all.throughput_rps;
    let fastest = result
        .workloads
        .iter()
        .flat_map(|figures| figures.runs.values())
        .map(|runs| runs.closed.all.throughput_rps)
        .fold(result.floor_read.all.throughput_rps, f64::max);
    verdicts.push(Verdict {
        claim: "the load generator is not the bottleneck".into(),
        figures: format!(
            "the generator kept its cores at most {:.0}% busy (in {}); it reached {ceiling:.0} req/s against a trivial endpoint, \
             the fastest measured run {fastest:.0} req/s",
            busiest.0 * 100.0,
            busiest.1
        ),
        verdict: if busiest.0 < 0.9 {
            "holds: in every closed-loop run the generator had CPU to spare, so the deployment set the pace".into()
        } else {
            format!(
                "not sure: the generator was {:.0}% busy in its busiest run, which may be partly its own limit",
                busiest.0 * 100.0
            )
        },
    });
    if result.pinning.is_none() {
        verdicts.push(Verdict {
            claim: "pinning".into(),
            figures: "the deployment and the generator shared every core".into(),
            verdict: "figures include their fight for the cores (--no-pin, or one core)".into(),
        });
    }
    verdicts.push(Verdict {
        claim: "not measured by compare".into(),
        figures:
            "fault isolation, consistency under faults, dirty reads, scale-out, independent deploys"
                .into(),
        verdict: "fault isolation is measured by `shoplab isolation`, consistency under \
                  faults by `shoplab chaos`, dirty reads by `shoplab anomalies`, scale-out \
                  by `shoplab scale` and independent deploys by `shoplab rollout`"
            .into(),
    });
    verdicts
}

/// "The split costs machine resources (CPU)" on CPU time, where nothing was
/// counted.
fn timed_split_cost(result: &CompareResult, verdicts: &mut Vec<Verdict>) {
    let costs: Vec<(String, f64, f64)> = result
        .workloads
        .iter()
        .filter_map(|figures| {
            let mono = figures.runs.get(MONOLITH)?.cpu.us_per_request;
            let micro = figures.runs.get(MICRO)?.cpu.us_per_request;
            Some((figures.workload.clone(), mono, micro))
        })
        .collect();
    if !costs.is_empty() {
        let listed: Vec<String> = costs
            .iter()
            .map(|(name, mono, micro)| {
                format!("{name} {mono:.0} vs {micro:.0} µs ({:.1}x)", micro / mono)
            })
            .collect();
        let all_more = costs.iter().all(|(_, mono, micro)| micro > mono);
        verdicts.push(Verdict {
            claim: "the split costs machine resources (CPU)".into(),
            figures: format!(
                "CPU per request, monolith vs all services: {}",
                listed.join(", ")
            ),
            verdict: if all_more {
                "holds: every workload costs more CPU per request split into services".into()
            } else {
                "mixed: not every workload costs more CPU in the services on this run".into()
            },
        });
    }
}

/// `(workload, rate, monolith p50, microservices p50)` at equal load.
fn p50s(figures: &WorkloadFigures) -> Option<(String, f64, f64, f64)> {
    let mono = figures.runs.get(MONOLITH)?.open.all.latency_ms.p50;
    let micro = figures.runs.get(MICRO)?.open.all.latency_ms.p50;
    Some((figures.workload.clone(), figures.rate_rps, mono, micro))
}
