//! `report.html`'s stacked bars: per workload, a bar per deployment (in the
//! result's order), stacked by its parts: the CPU each process spent, or the
//! instructions each layer of the stack ran.

use std::collections::BTreeMap;

use plotters::prelude::*;

use super::figures::{CompareResult, WorkloadRuns};
use crate::counting::layers::Layer;
use crate::report::plot::{categories_frame, draw, legend, MONOLITH, PROCESS_COLOURS};

/// CPU per request: per workload, a bar per deployment (in the result's
/// order), each stacked by process.
pub(super) fn cpu_plot(result: &CompareResult) -> String {
    let mut processes: Vec<String> = Vec::new();
    for workload in &result.workloads {
        for runs in workload.runs.values() {
            for name in runs.cpu.by_process_us.keys() {
                if !processes.contains(name) {
                    processes.push(name.clone());
                }
            }
        }
    }
    let title = format!(
        "CPU µs per request by process ({} from left to right)",
        result.order.join(", ")
    );
    stacked_plot(result, &title, &processes, |runs| {
        Some(runs.cpu.by_process_us.clone())
    })
}

/// Instructions per request by layer of the stack, from the counting pass:
/// per workload, a bar per deployment, each stacked by layer (thousands).
pub(super) fn layers_plot(result: &CompareResult) -> String {
    let layers: Vec<String> = Layer::ALL
        .iter()
        .map(|layer| layer.key().to_owned())
        .collect();
    let title = format!(
        "thousand instructions per request by layer ({} from left to right)",
        result.order.join(", ")
    );
    stacked_plot(result, &title, &layers, |runs| {
        runs.counted.as_ref().map(|counted| {
            counted
                .by_layer
                .iter()
                .map(|(layer, count)| (layer.clone(), count / 1000.0))
                .collect()
        })
    })
}

/// Per workload, a bar per deployment (in the result's order), each
/// stacked by `parts` (in the order of `keys`), as `part` gives them.
fn stacked_plot(
    result: &CompareResult,
    title: &str,
    keys: &[String],
    part: impl Fn(&WorkloadRuns) -> Option<BTreeMap<String, f64>>,
) -> String {
    let count = result.workloads.len();
    let high = result
        .workloads
        .iter()
        .flat_map(|workload| workload.runs.values())
        .filter_map(&part)
        .map(|parts| parts.values().map(|value| value.max(0.0)).sum::<f64>())
        .fold(0f64, f64::max);
    if count == 0 || high <= 0.0 {
        return String::new();
    }
    let names: Vec<String> = result
        .workloads
        .iter()
        .map(|workload| workload.workload.clone())
        .collect();
    draw(720, 340, |root| {
        let mut chart = categories_frame(&root, title, &names, high)?;
        for (slot, key) in keys.iter().enumerate() {
            let colour = if key == "shoplab-monolith" {
                MONOLITH
            } else {
                STACK_COLOURS[slot % STACK_COLOURS.len()]
            };
            let mut bars = Vec::new();
            for (group, workload) in result.workloads.iter().enumerate() {
                let width = 0.76 / result.order.len().max(1) as f64;
                for (side, deployment) in result.order.iter().enumerate() {
                    let Some(parts) = workload.runs.get(deployment).and_then(&part) else {
                        continue;
                    };
                    let Some(own) = parts.get(key).map(|value| value.max(0.0)) else {
                        continue;
                    };
                    // Stack in the order of `keys`.
                    let below: f64 = keys[..slot]
                        .iter()
                        .filter_map(|other| parts.get(other))
                        .map(|value| value.max(0.0))
                        .sum();
                    let left = group as f64 - 0.38 + side as f64 * width;
                    bars.push(Rectangle::new(
                        [(left, below), (left + width * 0.9, below + own)],
                        colour.filled(),
                    ));
                }
            }
            chart
                .draw_series(bars)?
                .label(key.replace("shoplab-", ""))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// The stacks' colours: the processes', then three more for the layers.
const STACK_COLOURS: [RGBColor; 9] = [
    PROCESS_COLOURS[0],
    PROCESS_COLOURS[1],
    PROCESS_COLOURS[2],
    PROCESS_COLOURS[3],
    PROCESS_COLOURS[4],
    PROCESS_COLOURS[5],
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
