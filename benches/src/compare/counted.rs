//! `compare`'s counting pass (`crate::counting`), run once the timed
//! deployments are gone: each deployment of the run again, each workload's
//! batch counted in instructions and system calls, the figures set into
//! each workload's runs; and the terminal's table of where an order's
//! instructions go, layer by layer.

use std::path::Path;

use super::claims::{MICRO, MONOLITH};
use super::figures::{CompareResult, MeteredCount, Verdict};
use super::start::deploy_options;
use super::Options;
use crate::counting::hop::{self, Floors};
use crate::counting::layers::Layer;
use crate::counting::{self, Counted, Plan};
use crate::deployment::Kind;
use crate::progress::Step;
use crate::report::text::{Align, Columns};
use crate::scratch::Databases;
use crate::stats::Spread;

/// Counts every deployment of the run on every workload, `requests` per
/// batch, and records the figures in `result`.
pub(crate) async fn measure(
    options: &Options,
    databases: &mut Databases,
    out: &Path,
    requests: usize,
    result: &mut CompareResult,
) -> anyhow::Result<()> {
    let plan = plan(options, out, requests);
    let core = core(options);
    for &kind in &options.deployments {
        let fresh = || deploy_counted(options, databases, kind);
        let counted = counting::count(&plan, fresh, &options.workloads).await?;
        for figures in &mut result.workloads {
            if let (Some(runs), Some(counted)) = (
                figures.runs.get_mut(&kind.label()),
                counted.get(&figures.workload),
            ) {
                runs.counted = Some(counted.clone());
            }
        }
    }
    let step = Step::begin("the hop, counted: B, the bare relay, the gateway, a component call");
    let floors = Floors {
        bin_dir: options.bin_dir.clone(),
        databases: [
            databases.fresh_floor().await?,
            databases.fresh_floor().await?,
        ],
        core,
        products: super::FLOOR_PRODUCTS,
    };
    let read = of(result, "read", MICRO).map(|micro| (micro, GATEWAY));
    let order = of(result, "order", MICRO)
        .zip(of(result, "order", &Kind::MODULAR.label()))
        .map(|(micro, modular)| (micro, modular, GATEWAY));
    let counts = hop::count(&plan, &floors, read, order).await?;
    step.done(&format!(
        "B {:.0} k instructions, {:.1} system calls; the gateway's hop {}",
        counts.b.instructions / 1000.0,
        counts.b.syscalls,
        counts
            .gateway_hop
            .map_or("not counted (no read)".to_owned(), |hop| format!(
                "{:.2}x B's instructions",
                hop.instructions / counts.b.instructions.max(1.0)
            ))
    ));
    result.hop.counted = Some(counts);

    // Metrics on: the same batches, instructions only.
    for kind in [Kind::Monolith, Kind::Micro] {
        let mut metered = deploy_counted(options, databases, kind)?;
        metered.metrics = true;
        let with =
            counting::instructions_only(&plan, metered, &options.workloads, "metrics-on").await?;
        for (workload, with) in with {
            if let Some(without) =
                of(result, &workload, &kind.label()).map(|counted| counted.instructions)
            {
                result.metrics_on_counted.push(MeteredCount {
                    deployment: kind.label(),
                    workload,
                    without,
                    with,
                    cost: with / without.max(1.0) - 1.0,
                });
            }
        }
    }
    Ok(())
}

const GATEWAY: &str = "shoplab-gateway";

/// The counting pass's plan for a run of `options`: `requests` per batch, a
/// quarter as many to warm up, the run's seed and data set, its dumps under
/// `out/counted/`.
pub(crate) fn plan(options: &Options, out: &Path, requests: usize) -> Plan {
    Plan {
        requests,
        warm_up: (requests / 4).max(10),
        seed: options.seed,
        dir: out.join("counted"),
        seed_size: super::runs::seed_size(),
    }
}

/// How a counting pass starts `kind`: as the timed runs do, on fresh
/// databases, but every process on the one core of [`core`].
pub(crate) fn deploy_counted(
    options: &Options,
    databases: &mut Databases,
    kind: Kind,
) -> anyhow::Result<crate::deployment::Options> {
    let mut deploy = deploy_options(options, databases, kind, 0, None)?;
    deploy.cores = core(options).map(|core| vec![core]);
    Ok(deploy)
}

/// The one core every counted process is pinned to, whatever the machine
/// has (the deployment's first): every process then sizes its thread pools
/// alike (one worker), run after run and machine to machine.
pub(crate) fn core(options: &Options) -> Option<usize> {
    options
        .pinning
        .as_ref()
        .and_then(|pinning| pinning.deployment.first().copied())
        .or_else(|| crate::pin::usable_cores().first().copied())
}

/// The counted figures of `workload` on `deployment` in `result`.
pub fn of<'a>(result: &'a CompareResult, workload: &str, deployment: &str) -> Option<&'a Counted> {
    result
        .workloads
        .iter()
        .find(|figures| figures.workload == workload)?
        .runs
        .get(deployment)?
        .counted
        .as_ref()
}

/// Where the instructions of one request go, by layer: a column per
/// deployment, for each workload counted; then, for the microservices,
/// where their extra instructions over the monolith's go, in one sentence.
pub fn print_layers(results: &[CompareResult]) {
    let Some(first) = results.first() else {
        return;
    };
    if let Some(why) = &first.counting_skipped {
        println!("\ncounting pass skipped: {why}");
        return;
    }
    print_hops(results);
    for figures in &first.workloads {
        if of(first, &figures.workload, MONOLITH).is_none() {
            continue;
        }
        let mut columns = vec![(28, Align::Left)];
        columns.extend(
            first
                .order
                .iter()
                .map(|label| (label.len().max(14) + 16, Align::Right)),
        );
        let table = Columns {
            columns: &columns,
            gap: "",
        };
        let mut head = vec![format!("{}: instructions by layer", figures.workload)];
        head.extend(first.order.iter().cloned());
        println!("\n{}", table.line(&head));
        for layer in Layer::ALL.iter().map(|layer| Some(*layer)).chain([None]) {
            let mut cells = vec![layer.map_or("all", Layer::title).to_owned()];
            for deployment in &first.order {
                let spread = Spread::over(results, |result| {
                    of(result, &figures.workload, deployment).map_or(0.0, |counted| match layer {
                        Some(layer) => counted.by_layer.get(layer.key()).copied().unwrap_or(0.0),
                        None => counted.instructions,
                    })
                });
                cells.push(show_thousands(spread));
            }
            println!("{}", table.line(&cells));
        }
        if let Some(sentence) = extra_by_layer(first, &figures.workload) {
            println!("{sentence}");
        }
    }
}

/// One hop's count, read from a run's counted hops.
type OneHop = fn(&hop::HopCounts) -> Option<hop::HopCount>;

/// The hop in counts: B, then each hop with its ratio to B's instructions
/// and its system calls beside B's.
fn print_hops(results: &[CompareResult]) {
    let hops: Vec<&hop::HopCounts> = results
        .iter()
        .filter_map(|result| result.hop.counted.as_ref())
        .collect();
    if hops.len() != results.len() || hops.is_empty() {
        return;
    }
    let over = |figure: OneHop| {
        let counts: Vec<hop::HopCount> = hops.iter().filter_map(|hop| figure(hop)).collect();
        (counts.len() == hops.len()).then(|| {
            let instructions = Spread::of(
                &counts
                    .iter()
                    .map(|count| count.instructions)
                    .collect::<Vec<_>>(),
            );
            let syscalls = Spread::of(
                &counts
                    .iter()
                    .map(|count| count.syscalls)
                    .collect::<Vec<_>>(),
            );
            let over_b = Spread::of(
                &hops
                    .iter()
                    .zip(&counts)
                    .map(|(hop, count)| count.instructions / hop.b.instructions.max(1.0))
                    .collect::<Vec<_>>(),
            );
            (instructions, syscalls, over_b)
        })
    };
    let Some((b, b_syscalls, _)) = over(|hop| Some(hop.b)) else {
        return;
    };
    println!(
        "\nthe hop, counted: B {} instructions, {} system calls",
        show_thousands(b),
        b_syscalls.show(2, "")
    );
    let hops_named: [(&str, OneHop); 3] = [
        ("bare relay's hop", |hop| Some(hop.relay_hop)),
        ("gateway's hop", |hop| hop.gateway_hop),
        ("internal hop (per component call)", |hop| hop.internal_hop),
    ];
    for (name, figure) in hops_named {
        if let Some((instructions, syscalls, over_b)) = over(figure) {
            println!(
                "  {name}: {} instructions = {} B, {} system calls",
                show_thousands(instructions),
                over_b.show_ratio(),
                syscalls.show(2, "")
            );
        }
    }
}

/// Instructions in thousands, over runs: `83.1 k (83.0–83.2)`.
fn show_thousands(spread: Spread) -> String {
    let thousands = Spread {
        median: spread.median / 1000.0,
        min: spread.min / 1000.0,
        max: spread.max / 1000.0,
        runs: spread.runs,
    };
    thousands.show(1, "k")
}

/// "Of the microservices' extra N instructions per order, X% is HTTP, ...":
/// each layer's share of the difference, the largest first.
pub fn extra_by_layer(result: &CompareResult, workload: &str) -> Option<String> {
    let mono = of(result, workload, MONOLITH)?;
    let micro = of(result, workload, MICRO)?;
    let extra = micro.instructions - mono.instructions;
    if extra <= 0.0 {
        return None;
    }
    let mut shares: Vec<(Layer, f64)> = Layer::ALL
        .iter()
        .map(|layer| {
            let key = layer.key();
            let of = |counted: &Counted| counted.by_layer.get(key).copied().unwrap_or(0.0);
            (*layer, (of(micro) - of(mono)) / extra)
        })
        .collect();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1));
    let listed: Vec<String> = shares
        .iter()
        .map(|(layer, share)| format!("{:.0}% {}", share * 100.0, layer.title()))
        .collect();
    Some(format!(
        "of the microservices' extra {:.0} k instructions per {workload} ({:.2}x the monolith's): {}",
        extra / 1000.0,
        micro.instructions / mono.instructions.max(1.0),
        listed.join(", ")
    ))
}

/// "The split costs machine resources (CPU)", judged on counts: every
/// counted workload runs more instructions and more system calls per
/// request in the microservices, with CPU time beside them. `None` without
/// counts.
pub fn split_cost_verdict(result: &CompareResult) -> Option<Verdict> {
    let counted: Vec<(&str, &Counted, &Counted)> = result
        .workloads
        .iter()
        .filter_map(|figures| {
            let name = figures.workload.as_str();
            Some((name, of(result, name, MONOLITH)?, of(result, name, MICRO)?))
        })
        .collect();
    if counted.is_empty() {
        return None;
    }
    let listed: Vec<String> = counted
        .iter()
        .map(|(name, mono, micro)| {
            format!(
                "{name} {:.0}k vs {:.0}k instructions ({:.2}x), {:.1} vs {:.1} system calls ({:.2}x), \
                 {:.0} vs {:.0} µs CPU one at a time",
                mono.instructions / 1000.0,
                micro.instructions / 1000.0,
                micro.instructions / mono.instructions.max(1.0),
                mono.syscalls,
                micro.syscalls,
                micro.syscalls / mono.syscalls.max(f64::EPSILON),
                mono.cpu_us,
                micro.cpu_us
            )
        })
        .collect();
    let all_more = counted.iter().all(|(_, mono, micro)| {
        micro.instructions > mono.instructions && micro.syscalls > mono.syscalls
    });
    Some(Verdict {
        claim: "the split costs machine resources (CPU)".into(),
        figures: format!(
            "per request, monolith vs all services: {}",
            listed.join("; ")
        ),
        verdict: if all_more {
            "holds: every workload runs more instructions and more system calls per request split into services".into()
        } else {
            "mixed: not every workload counts more in the services".into()
        },
    })
}

/// The hop targets in counts: a hop adds at most 1.25x B's instructions,
/// and at most B's system calls plus 2. `None` without counted hops.
pub fn hop_verdicts(result: &CompareResult) -> Option<Vec<Verdict>> {
    let counted = result.hop.counted.as_ref()?;
    let b = counted.b;
    let judge = |what: &str, hop: Option<hop::HopCount>, timed: String| -> Verdict {
        let Some(hop) = hop else {
            return Verdict {
                claim: format!(
                    "target: {what} adds at most 1.25x B's instructions and B's system calls + 2"
                ),
                figures:
                    "not counted: no read (gateway) or no order on the modular monolith (internal)"
                        .into(),
                verdict: "not measured".into(),
            };
        };
        let over_b = hop.instructions / b.instructions.max(1.0);
        let relay = hop.instructions / counted.relay_hop.instructions.max(1.0);
        let syscalls_met = hop.syscalls <= b.syscalls + 2.0;
        Verdict {
            claim: format!("target: {what} adds at most 1.25x B's instructions and B's system calls + 2"),
            figures: format!(
                "{:.0}k instructions, {:.1} system calls; B {:.0}k, {:.1}; a bare relay's hop {:.0}k, {:.1}; timed: {timed}",
                hop.instructions / 1000.0,
                hop.syscalls,
                b.instructions / 1000.0,
                b.syscalls,
                counted.relay_hop.instructions / 1000.0,
                counted.relay_hop.syscalls
            ),
            verdict: match (over_b <= 1.25, syscalls_met) {
                (true, true) => format!("met: {over_b:.2}x B's instructions, {:+.1} system calls", hop.syscalls - b.syscalls),
                (instructions_met, _) => format!(
                    "missed{}: {over_b:.2}x B's instructions ({relay:.2}x the bare relay's), {:+.1} system calls over B",
                    if instructions_met { " on system calls" } else { "" },
                    hop.syscalls - b.syscalls
                ),
            },
        }
    };
    let timed = &result.hop;
    Some(vec![
        judge(
            "the gateway's hop",
            counted.gateway_hop,
            format!(
                "{:.3} ms = {:.2}x B",
                timed.gateway_hop_ms, timed.gateway_hop_over_b
            ),
        ),
        judge(
            "the internal hop (a component call between services)",
            counted.internal_hop,
            timed
                .internal_hop_over_b
                .map_or("not measured".into(), |over_b| format!("{over_b:.2}x B")),
        ),
    ])
}

/// The metrics target in counts: instructions per request with metrics on
/// against off. `None` without counts.
pub fn metrics_verdict(result: &CompareResult) -> Option<Verdict> {
    let worst = result
        .metrics_on_counted
        .iter()
        .max_by(|one, other| one.cost.total_cmp(&other.cost))?;
    let costs: Vec<String> = result
        .metrics_on_counted
        .iter()
        .map(|run| {
            format!(
                "{} {} {:+.1}%",
                run.workload,
                run.deployment,
                run.cost * 100.0
            )
        })
        .collect();
    Some(Verdict {
        claim: "target: metrics cost at most 5% of a request's instructions".into(),
        figures: format!(
            "instructions per request, metrics on against off: {}",
            costs.join(", ")
        ),
        verdict: if worst.cost <= 0.05 {
            format!("met: at most {:+.1}%", worst.cost * 100.0)
        } else {
            format!(
                "missed: {:+.1}% ({} on the {})",
                worst.cost * 100.0,
                worst.workload,
                worst.deployment
            )
        },
    })
}
