//! `compare`'s counting pass (`crate::counting`), run once the timed
//! deployments are gone: each deployment of the run again, each workload's
//! batch counted in instructions and system calls, the figures set into
//! each workload's runs; and the terminal's table of where an order's
//! instructions go, layer by layer.

use std::path::Path;

use super::figures::CompareResult;
use super::start::deploy_options;
use super::Options;
use crate::counting::layers::Layer;
use crate::counting::{self, Counted, Plan};
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
    let plan = Plan {
        requests,
        warm_up: (requests / 4).max(10),
        seed: options.seed,
        dir: out.join("counted"),
        seed_size: super::runs::seed_size(),
    };
    // One core, whatever the machine has: every process then sizes its
    // thread pools alike (one worker), run after run and machine to machine.
    let core = options
        .pinning
        .as_ref()
        .and_then(|pinning| pinning.deployment.first().copied())
        .or_else(|| crate::pin::usable_cores().first().copied());
    for &kind in &options.deployments {
        let mut instructions = deploy_options(options, databases, kind, 0, None)?;
        let mut kernel = deploy_options(options, databases, kind, 0, None)?;
        instructions.cores = core.map(|core| vec![core]);
        kernel.cores = core.map(|core| vec![core]);
        let counted = counting::count(&plan, instructions, kernel, &options.workloads).await?;
        for figures in &mut result.workloads {
            if let (Some(runs), Some(counted)) = (
                figures.runs.get_mut(&kind.label()),
                counted.get(&figures.workload),
            ) {
                runs.counted = Some(counted.clone());
            }
        }
    }
    Ok(())
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
    for figures in &first.workloads {
        if of(first, &figures.workload, "monolith").is_none() {
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
    let mono = of(result, workload, "monolith")?;
    let micro = of(result, workload, "microservices")?;
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
