//! The terminal's side-by-side table: a column per deployment (monolith,
//! the groupings asked for, microservices), then each one's ratio to the
//! monolith, then the verdicts.

use super::figures::{
    CompareResult, DelayedRun, DeploymentFigures, MeteredRun, Verdict, WorkloadRuns,
};
use crate::report::text::{conditions, Align, Columns};
use crate::stats::Spread;

const LABEL: usize = 44;
const CELL: usize = 16;

/// The rows both the terminal table and the HTML report show.
pub fn rows(result: &CompareResult) -> Vec<Row> {
    rows_over(std::slice::from_ref(result))
}

/// The rows over several runs of the same comparison: each cell the median
/// with its spread (`0.071 ms (0.069–0.075)`), each ratio taken in each run
/// and shown the same way; one run's rows are as [`rows`] gives them.
pub fn rows_over(results: &[CompareResult]) -> Vec<Row> {
    let per_run: Vec<Vec<Line>> = results.iter().map(lines).collect();
    let (Some(first), Some(result)) = (per_run.first(), results.first()) else {
        return Vec::new();
    };
    let base = base(result);
    first
        .iter()
        .map(|line| {
            let same: Vec<&Line> = per_run
                .iter()
                .filter_map(|lines| lines.iter().find(|other| other.label == line.label))
                .collect();
            Row::of(&same, base)
        })
        .collect()
}

/// One line's figures in one run, before they are shown: one per
/// deployment, in the result's order.
struct Line {
    label: String,
    /// `None`: not measured in this run (shown as "–").
    values: Vec<Option<f64>>,
    /// `None`: a count.
    unit: Option<&'static str>,
}

impl Line {
    fn numbers(label: &str, values: Vec<f64>, unit: &'static str) -> Line {
        Self::maybe(label, values.into_iter().map(Some).collect(), unit)
    }

    /// Figures some deployments may lack.
    fn maybe(label: &str, values: Vec<Option<f64>>, unit: &'static str) -> Line {
        Line {
            label: label.to_owned(),
            values,
            unit: Some(unit),
        }
    }

    fn counts(label: &str, counts: Vec<usize>) -> Line {
        Line {
            label: label.to_owned(),
            values: counts.into_iter().map(|count| Some(count as f64)).collect(),
            unit: None,
        }
    }
}

/// Bytes in MiB.
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The column each ratio is taken against: the monolith's.
fn base(result: &CompareResult) -> usize {
    result
        .order
        .iter()
        .position(|label| label == "monolith")
        .unwrap_or(0)
}

fn lines(result: &CompareResult) -> Vec<Line> {
    let mut rows = counted_lines(result);
    let deployments: Option<Vec<_>> = result
        .order
        .iter()
        .map(|label| result.deployments.get(label))
        .collect();
    if let Some(deployments) = deployments {
        let each = |figure: &dyn Fn(&DeploymentFigures) -> f64| -> Vec<f64> {
            deployments.iter().map(|figures| figure(figures)).collect()
        };
        rows.push(Line::numbers(
            "start-up, spawn to /health (median)",
            each(&|figures| figures.startup_median_ms),
            "ms",
        ));
        rows.push(Line::counts(
            "processes",
            deployments
                .iter()
                .map(|figures| figures.processes.len())
                .collect(),
        ));
        rows.push(Line::numbers(
            "memory, idle (RSS)",
            each(&|figures| mib(figures.rss_idle_bytes)),
            "MiB",
        ));
        rows.push(Line::numbers(
            "memory, under load (RSS)",
            each(&|figures| mib(figures.rss_load_bytes)),
            "MiB",
        ));
        rows.push(Line::numbers(
            "binary size (all binaries)",
            each(&|figures| mib(figures.binary_bytes)),
            "MiB",
        ));
        rows.push(Line::maybe(
            "image size (all images)",
            deployments
                .iter()
                .map(|figures| figures.image_bytes.map(mib))
                .collect(),
            "MiB",
        ));
    }
    for workload in &result.workloads {
        let runs: Option<Vec<&WorkloadRuns>> = result
            .order
            .iter()
            .map(|label| workload.runs.get(label))
            .collect();
        let Some(runs) = runs else {
            continue;
        };
        let each = |figure: &dyn Fn(&WorkloadRuns) -> f64| -> Vec<f64> {
            runs.iter().map(|run| figure(run)).collect()
        };
        let name = &workload.workload;
        rows.push(Line::numbers(
            &format!("{name}: max throughput ({} conn)", result.connections),
            each(&|run| run.closed.all.throughput_rps),
            "req/s",
        ));
        rows.push(Line::numbers(
            &format!("{name}: p50 at {:.0} req/s", workload.rate_rps),
            each(&|run| run.open.all.latency_ms.p50),
            "ms",
        ));
        rows.push(Line::numbers(
            &format!("{name}: p99 at {:.0} req/s", workload.rate_rps),
            each(&|run| run.open.all.latency_ms.p99),
            "ms",
        ));
        rows.push(Line::numbers(
            &format!("{name}: CPU per request"),
            each(&|run| run.cpu.us_per_request),
            "µs",
        ));
        let database: Option<Vec<f64>> =
            runs.iter().map(|run| run.cpu.database_server_us).collect();
        if let Some(database) = database {
            rows.push(Line::numbers(
                &format!("{name}: CPU per request, PostgreSQL server"),
                database,
                "µs",
            ));
        }
        let errors: Vec<usize> = runs
            .iter()
            .map(|run| {
                usize::try_from(run.closed.all.errors + run.open.all.errors).unwrap_or(usize::MAX)
            })
            .collect();
        if errors.iter().any(|&count| count > 0) {
            rows.push(Line::counts(&format!("{name}: errors"), errors));
        }
    }
    rows
}

/// The counted rows, first: what a request costs in instructions and in
/// system calls, from the counting pass (they repeat where times do not).
fn counted_lines(result: &CompareResult) -> Vec<Line> {
    let mut rows = Vec::new();
    for workload in &result.workloads {
        let counted: Vec<Option<&crate::counting::Counted>> = result
            .order
            .iter()
            .map(|label| {
                workload
                    .runs
                    .get(label)
                    .and_then(|runs| runs.counted.as_ref())
            })
            .collect();
        if counted.iter().all(Option::is_none) {
            continue;
        }
        let each = |figure: fn(&crate::counting::Counted) -> f64| {
            counted.iter().map(|counted| counted.map(figure)).collect()
        };
        let name = &workload.workload;
        rows.push(Line::maybe(
            &format!("{name}: instructions per request"),
            each(|counted| counted.instructions / 1000.0),
            "k",
        ));
        rows.push(Line::maybe(
            &format!("{name}: system calls per request"),
            each(|counted| counted.syscalls),
            "",
        ));
    }
    rows
}

/// One line of the table: a cell per deployment, then a ratio per
/// deployment but the monolith (each against the monolith).
pub struct Row {
    pub label: String,
    pub cells: Vec<String>,
    pub ratios: Vec<String>,
}

impl Row {
    /// The same line of every run (the first's label); ratios against the
    /// `base`th deployment.
    fn of(lines: &[&Line], base: usize) -> Row {
        let unit = lines.first().and_then(|line| line.unit);
        let show = |spread: Spread| match unit {
            // A count the same in every run reads as one number.
            None if spread.min == spread.max => format!("{:.0}", spread.median),
            None => spread.show(0, ""),
            Some(unit) => spread.show(digits(spread.median), unit),
        };
        let columns = lines.first().map_or(0, |line| line.values.len());
        let value = |line: &Line, at: usize| line.values.get(at).copied().flatten();
        // A figure missing from any run is shown as missing.
        let measured = |at: usize| lines.iter().all(|line| value(line, at).is_some());
        let cells = (0..columns)
            .map(|at| match measured(at) {
                true => show(Spread::over(lines, |line| value(line, at).unwrap_or(0.0))),
                false => "–".into(),
            })
            .collect();
        let ratios = (0..columns)
            .filter(|&at| at != base)
            .map(|at| {
                let ratios: Option<Vec<f64>> = lines
                    .iter()
                    .map(|line| match (value(line, at), value(line, base)) {
                        (Some(value), Some(base)) if base > 0.0 => Some(value / base),
                        _ => None,
                    })
                    .collect();
                match ratios {
                    Some(ratios) if !ratios.is_empty() => Spread::of(&ratios).show_ratio(),
                    _ => "–".into(),
                }
            })
            .collect();
        Row {
            label: lines
                .first()
                .map_or_else(String::new, |line| line.label.clone()),
            cells,
            ratios,
        }
    }
}

/// The table's header: a column per deployment, then a ratio per
/// deployment but the monolith (`micro ÷ mono`; with only the two, `ratio`).
pub fn header(result: &CompareResult) -> (Vec<String>, Vec<String>) {
    let base = base(result);
    let short = |label: &str| match label {
        "monolith" => "mono".to_owned(),
        "microservices" => "micro".to_owned(),
        other => other.to_owned(),
    };
    let ratios = result
        .order
        .iter()
        .enumerate()
        .filter(|(at, _)| *at != base)
        .map(|(_, label)| {
            if result.order.len() == 2 {
                "ratio".to_owned()
            } else {
                format!("{} ÷ {}", short(label), short(&result.order[base]))
            }
        })
        .collect();
    (result.order.clone(), ratios)
}

/// Decimals enough for a figure of this size.
fn digits(value: f64) -> usize {
    if value >= 100.0 {
        0
    } else if value >= 1.0 {
        2
    } else {
        3
    }
}

/// `--containers`' table: each of the monolith and the microservices as
/// processes on loopback and in containers on a bridge network, with the
/// ratio (containers ÷ processes), then B between containers against B on
/// loopback. Over several runs, medians with their spread.
pub fn print_containers(results: &[CompareResult]) {
    let Some(first) = results
        .first()
        .and_then(|result| result.containers.as_ref())
    else {
        return;
    };
    let stacks: Vec<&str> = first
        .stacks
        .iter()
        .map(|stack| stack.deployment.as_str())
        .collect();
    let cell = if results.len() > 1 { 28 } else { CELL };
    let mut columns = vec![(LABEL, Align::Left)];
    for stack in &stacks {
        columns.extend([
            (cell.max(stack.len() + 8), Align::Right),
            (cell, Align::Right),
            (cell, Align::Right),
        ]);
    }
    let table = Columns {
        columns: &columns,
        gap: "",
    };
    let mut head = vec!["processes (loopback) against containers (bridge)".to_owned()];
    for stack in &stacks {
        head.extend([
            format!("{stack}: proc"),
            "containers".into(),
            "ratio".into(),
        ]);
    }
    println!("\n{}", table.line(&head));
    // One figure of one stack in one run: (processes, containers).
    type Pair = (Option<f64>, Option<f64>);
    type OfStack = fn(&CompareResult, &str) -> Pair;
    type OfRuns = fn(&WorkloadRuns) -> f64;
    let memory: [(&str, OfStack); 2] = [
        ("memory, idle (RSS)", |run, stack| {
            (
                run.deployments
                    .get(stack)
                    .map(|figures| mib(figures.rss_idle_bytes)),
                containers_of(run, stack).map(|figures| mib(figures.rss_idle_bytes)),
            )
        }),
        ("memory, under load (RSS)", |run, stack| {
            (
                run.deployments
                    .get(stack)
                    .map(|figures| mib(figures.rss_load_bytes)),
                containers_of(run, stack).map(|figures| mib(figures.rss_load_bytes)),
            )
        }),
    ];
    // Each read off a workload's runs, the processes' and the containers' alike.
    let per_workload: [(&str, &str, OfRuns); 4] = [
        ("max throughput", "req/s", |runs| {
            runs.closed.all.throughput_rps
        }),
        ("p50", "ms", |runs| runs.open.all.latency_ms.p50),
        ("p99", "ms", |runs| runs.open.all.latency_ms.p99),
        ("CPU per request", "µs", |runs| runs.cpu.us_per_request),
    ];
    let print_row =
        |label: String, unit: &'static str, figure: &dyn Fn(&CompareResult, &str) -> Pair| {
            let mut cells = vec![label.clone()];
            for stack in &stacks {
                let lines: Vec<Line> = results
                    .iter()
                    .map(|run| {
                        let (process, container) = figure(run, stack);
                        Line::maybe(&label, vec![process, container], unit)
                    })
                    .collect();
                let row = Row::of(&lines.iter().collect::<Vec<_>>(), 0);
                cells.extend(row.cells);
                cells.extend(row.ratios);
            }
            println!("{}", table.line(&cells));
        };
    for (label, figure) in memory {
        print_row(label.into(), "MiB", &figure);
    }
    let first_run = &results[0];
    for workload in &first_run.workloads {
        for (what, unit, figure) in per_workload {
            let label = match what {
                "p50" | "p99" => format!(
                    "{}: {what} at {:.0} req/s",
                    workload.workload, workload.rate_rps
                ),
                _ => format!("{}: {what}", workload.workload),
            };
            print_row(label, unit, &|run, stack| {
                let (process, container) = runs_of(run, stack, &workload.workload);
                (process.map(figure), container.map(figure))
            });
        }
    }
    let over = |figure: fn(&CompareResult) -> Option<f64>| {
        let values: Vec<f64> = results.iter().filter_map(figure).collect();
        Spread::of(&values)
    };
    let bridge = over(|run| {
        run.containers
            .as_ref()
            .map(|figures| figures.hop.b_bridge_ms)
    });
    let loopback = over(|run| Some(run.hop.b_async_ms));
    let host = over(|run| {
        run.containers
            .as_ref()
            .map(|figures| figures.hop.b_host_to_container_ms)
    });
    let added = over(|run| {
        run.containers
            .as_ref()
            .map(|figures| (figures.hop.b_bridge_ms - run.hop.b_async_ms) / run.hop.b_async_ms)
    });
    println!(
        "\nB between two containers on a bridge {} against B on loopback {} (host to a container {}): \
         container networking adds {} B to every hop",
        bridge.show(3, "ms"),
        loopback.show(3, "ms"),
        host.show(3, "ms"),
        added.show_ratio(),
    );
}

/// The containers' figures of the stack set beside `deployment`.
fn containers_of<'a>(
    run: &'a CompareResult,
    deployment: &str,
) -> Option<&'a super::containers::StackFigures> {
    run.containers.as_ref().and_then(|figures| {
        figures
            .stacks
            .iter()
            .find(|stack| stack.deployment == deployment)
    })
}

/// One workload's runs of `deployment`: as processes, and in containers.
fn runs_of<'a>(
    run: &'a CompareResult,
    deployment: &str,
    workload: &str,
) -> (Option<&'a WorkloadRuns>, Option<&'a WorkloadRuns>) {
    let process = run
        .workloads
        .iter()
        .find(|figures| figures.workload == workload)
        .and_then(|figures| figures.runs.get(deployment));
    let container = containers_of(run, deployment).and_then(|stack| stack.workloads.get(workload));
    (process, container)
}

/// Prints the table, the hop, the passes beside the main run and the
/// verdicts; over several runs, every figure and ratio as its median with
/// its spread, and each verdict with how many runs it held in.
pub fn print(results: &[CompareResult]) {
    let Some(result) = results.first() else {
        return;
    };
    let repeated = results.len() > 1;
    let (cell, ratio_cell) = if repeated { (28, 22) } else { (CELL, 16) };
    let (names, ratios) = header(result);
    let mut columns = vec![(LABEL, Align::Left)];
    columns.extend(
        names
            .iter()
            .map(|name| (cell.max(name.len() + 2), Align::Right)),
    );
    columns.extend(ratios.iter().map(|_| (ratio_cell, Align::Right)));
    let table = Columns {
        columns: &columns,
        gap: "",
    };
    let mut first = vec![String::new()];
    first.extend(names);
    first.extend(ratios);
    println!("\n{}", table.line(&first));
    for row in rows_over(results) {
        let mut cells = vec![row.label];
        cells.extend(row.cells);
        cells.extend(row.ratios);
        println!("{}", table.line(&cells));
    }
    let over = |figure: fn(&CompareResult) -> f64| Spread::over(results, figure);
    println!(
        "\nthe hop: B {} (async client), {} (blocking client); gateway hop {} = {} B",
        over(|run| run.hop.b_async_ms).show(3, "ms"),
        over(|run| run.hop.b_blocking_ms).show(3, "ms"),
        over(|run| run.hop.gateway_hop_ms).show(3, "ms"),
        over(|run| run.hop.gateway_hop_over_b).show_ratio()
    );
    println!(
        "bare relay hop {} = {} B (an actix-web server and a reqwest client, nothing else)",
        over(|run| run.hop.relay_hop_ms).show(3, "ms"),
        over(|run| run.hop.relay_hop_over_b).show_ratio()
    );
    if !result.metrics_on.is_empty() {
        println!("metrics on (every process serving /metrics), max throughput off → on:");
        for run in &result.metrics_on {
            let same: Vec<&MeteredRun> = results
                .iter()
                .flat_map(|result| &result.metrics_on)
                .filter(|other| {
                    other.workload == run.workload && other.deployment == run.deployment
                })
                .collect();
            let of = |figure: fn(&MeteredRun) -> f64| Spread::over(&same, |run| figure(run));
            let change = of(|run| -run.cost * 100.0);
            println!(
                "  {} / {}: {} → {} ({})",
                run.workload,
                run.deployment,
                of(|run| run.without_rps).show(0, ""),
                of(|run| run.with_rps).show(0, "req/s"),
                if repeated {
                    format!(
                        "{:+.1}%, {:+.1}%..{:+.1}%",
                        change.median, change.min, change.max
                    )
                } else {
                    format!("{:+.1}%", change.median)
                }
            );
        }
    }
    let internal: Vec<(f64, f64)> = results
        .iter()
        .filter_map(|run| run.hop.internal_hop_ms.zip(run.hop.internal_hop_over_b))
        .collect();
    if internal.is_empty() {
        println!("internal hop not measured (no workload with component calls, or no hop logs)");
    } else {
        let (ms, over_b): (Vec<f64>, Vec<f64>) = internal.into_iter().unzip();
        println!(
            "internal hop {} = {} B",
            Spread::of(&ms).show(3, "ms"),
            Spread::of(&over_b).show_ratio()
        );
    }
    println!(
        "the floor's read: {}; the generator's ceiling: {}",
        over(|run| run.floor_read.all.throughput_rps).show(0, "req/s"),
        over(|run| run.generator_ceiling.all.throughput_rps).show(0, "req/s")
    );
    for delay in &result.hop_delays {
        for (name, run) in &delay.workloads {
            let same: Vec<&DelayedRun> = results
                .iter()
                .flat_map(|result| &result.hop_delays)
                .filter(|other| other.delay_us == delay.delay_us)
                .filter_map(|other| other.workloads.get(name))
                .collect();
            let of = |figure: fn(&DelayedRun) -> f64| Spread::over(&same, |run| figure(run));
            println!(
                "with {} µs per hop, {name}: microservices p50 {} vs monolith {} at {:.0} req/s ({}); max {}",
                delay.delay_us,
                of(|run| run.p50_ms).show(3, "ms"),
                of(|run| run.monolith_p50_ms).show(3, "ms"),
                run.rate_rps,
                of(|run| run.p50_ms / run.monolith_p50_ms.max(f64::EPSILON)).show_times(1),
                of(|run| run.max_throughput_rps).show(0, "req/s")
            );
        }
    }
    if let Some(build) = &result.build {
        build.print();
    }
    for (index, result) in results.iter().enumerate() {
        let traced: Vec<_> = result.traced_passes().collect();
        if traced.is_empty() {
            continue;
        }
        let run = if repeated {
            format!(" (run {})", index + 1)
        } else {
            String::new()
        };
        println!(
            "\ntraced passes{run} (the same load, every hop logged): p50 with the hop logs paused → logged; the slowest request"
        );
        for (workload, deployment, open_p50_ms, pass) in traced {
            let slowest = pass
                .slowest
                .as_ref()
                .map_or("not in the logs".to_owned(), |slowest| {
                    format!(
                        "{:.3} ms: shoplab trace {} --log-dir {}",
                        slowest.latency_ms, slowest.request_id, slowest.log_dir
                    )
                });
            println!(
                "  {workload} / {deployment}: {open_p50_ms:.3} → {:.3} ms; {slowest}",
                pass.p50_ms
            );
        }
    }
    println!(
        "\n{}{}",
        conditions(
            result.build_profile,
            &result.storage,
            result.pinning.as_ref(),
            result.duration_s,
            result.seed
        ),
        if repeated {
            format!(
                "; {} runs, each figure their median (min–max)",
                results.len()
            )
        } else {
            String::new()
        }
    );
    println!("\nverdicts:");
    if !repeated {
        for verdict in &result.verdicts {
            println!(
                "- {}: {}\n    {}",
                verdict.claim, verdict.verdict, verdict.figures
            );
        }
        return;
    }
    for verdict in &result.verdicts {
        let same: Vec<&Verdict> = results
            .iter()
            .filter_map(|result| {
                result
                    .verdicts
                    .iter()
                    .find(|other| other.claim == verdict.claim)
            })
            .collect();
        // A line that is the same in every run (what compare does not
        // measure, say) is printed once, as one run prints it.
        if same
            .iter()
            .all(|other| other.verdict == verdict.verdict && other.figures == verdict.figures)
        {
            println!(
                "- {}: {}\n    {}",
                verdict.claim, verdict.verdict, verdict.figures
            );
            continue;
        }
        let word = |verdict: &Verdict| {
            verdict
                .verdict
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        let mut words: Vec<String> = same.iter().map(|verdict| word(verdict)).collect();
        words.sort();
        words.dedup();
        let tally: Vec<String> = words
            .iter()
            .map(|one| {
                let count = same.iter().filter(|verdict| &word(verdict) == one).count();
                format!("{one} in {count} of {} runs", results.len())
            })
            .collect();
        println!("- {}: {}", verdict.claim, tally.join(", "));
        for (index, verdict) in same.iter().enumerate() {
            println!(
                "    run {}: {}; {}",
                index + 1,
                verdict.verdict,
                verdict.figures
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_over_runs_shows_each_figure_and_each_runs_ratio_with_its_spread() {
        let runs = [
            Line::numbers("read: p50", vec![0.069, 0.140], "ms"),
            Line::numbers("read: p50", vec![0.075, 0.120], "ms"),
            Line::numbers("read: p50", vec![0.071, 0.110], "ms"),
        ];
        let row = Row::of(&runs.iter().collect::<Vec<_>>(), 0);
        assert_eq!(row.cells[0], "0.071 ms (0.069–0.075)");
        assert_eq!(row.cells[1], "0.120 ms (0.110–0.140)");
        // The ratio of each run (2.03, 1.60, 1.55), not the ratio of the
        // medians (1.69).
        assert_eq!(row.ratios, ["1.60x (1.55–2.03)"]);
    }

    #[test]
    fn one_run_reads_as_it_always_has() {
        let line = Line::numbers("read: CPU per request", vec![34.8, 112.3], "µs");
        let row = Row::of(&[&line], 0);
        assert_eq!(row.cells, ["34.80 µs", "112 µs"]);
        assert_eq!(row.ratios, ["3.23x"]);
        let counts = Line::counts("processes", vec![1, 5]);
        let row = Row::of(&[&counts, &counts], 0);
        assert_eq!(
            (row.cells[0].as_str(), row.ratios[0].as_str()),
            ("1", "5.00x (5.00–5.00)")
        );
        let none = Line::counts("order: errors", vec![0, 3]);
        assert_eq!(Row::of(&[&none], 0).ratios, ["–"]);
    }

    #[test]
    fn every_deployment_gets_a_column_and_each_but_the_monolith_its_ratio_to_it() {
        // modular, monolith, microservices: the monolith second in the
        // list (300 µs) is still the base of every ratio.
        let line = Line::numbers("order: CPU per request", vec![600.0, 300.0, 1500.0], "µs");
        let row = Row::of(&[&line], 1);
        assert_eq!(row.cells, ["600 µs", "300 µs", "1500 µs"]);
        assert_eq!(row.ratios, ["2.00x", "5.00x"]);
    }

    #[test]
    fn a_figure_not_measured_in_some_run_reads_as_a_dash_and_so_does_its_ratio() {
        // Image sizes: no Docker engine answered in the second run.
        let first = Line::maybe("image size", vec![Some(14.5), Some(71.0)], "MiB");
        let second = Line::maybe("image size", vec![Some(14.5), None], "MiB");
        let row = Row::of(&[&first, &second], 0);
        assert_eq!(row.cells, ["14.50 MiB (14.50–14.50)", "–"]);
        assert_eq!(row.ratios, ["–"]);
        let row = Row::of(&[&first], 0);
        assert_eq!(row.cells, ["14.50 MiB", "71.00 MiB"]);
        assert_eq!(row.ratios, ["4.90x"]);
    }
}
