//! What `compare` prints in the terminal once its runs are done: the
//! side-by-side table (its rows are `table.rs`'s), the hop, the metrics'
//! cost, the verdicts, and processes against containers.

use super::figures::{CompareResult, DelayedRun, MeteredRun, Verdict, WorkloadRuns};
use super::table::{header, mib, rows_over, Line, Row, CELL, LABEL};
use crate::report::text::{conditions, Align, Columns};
use crate::stats::Spread;

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
