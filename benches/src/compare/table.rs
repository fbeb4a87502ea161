//! The terminal's side-by-side table: monolith, microservices, and their
//! ratio (microservices ÷ monolith), then the verdicts.

use super::figures::{CompareResult, DelayedRun, MeteredRun, Verdict};
use crate::report::text::{Align, Columns};
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
    let Some(first) = per_run.first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|line| {
            let same: Vec<&Line> = per_run
                .iter()
                .filter_map(|lines| lines.iter().find(|other| other.label == line.label))
                .collect();
            Row::of(&same)
        })
        .collect()
}

/// One line's figures in one run, before they are shown.
struct Line {
    label: String,
    monolith: f64,
    microservices: f64,
    /// `None`: a count.
    unit: Option<&'static str>,
}

impl Line {
    fn numbers(label: &str, monolith: f64, microservices: f64, unit: &'static str) -> Line {
        Line {
            label: label.to_owned(),
            monolith,
            microservices,
            unit: Some(unit),
        }
    }

    fn counts(label: &str, monolith: usize, microservices: usize) -> Line {
        Line {
            label: label.to_owned(),
            monolith: monolith as f64,
            microservices: microservices as f64,
            unit: None,
        }
    }
}

fn lines(result: &CompareResult) -> Vec<Line> {
    let mut rows = Vec::new();
    let (mono, micro) = (
        result.deployments.get("monolith"),
        result.deployments.get("microservices"),
    );
    if let (Some(mono), Some(micro)) = (mono, micro) {
        rows.push(Line::numbers(
            "start-up, spawn to /health (median)",
            mono.startup_median_ms,
            micro.startup_median_ms,
            "ms",
        ));
        rows.push(Line::counts(
            "processes",
            mono.processes.len(),
            micro.processes.len(),
        ));
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        rows.push(Line::numbers(
            "memory, idle (RSS)",
            mib(mono.rss_idle_bytes),
            mib(micro.rss_idle_bytes),
            "MiB",
        ));
        rows.push(Line::numbers(
            "memory, under load (RSS)",
            mib(mono.rss_load_bytes),
            mib(micro.rss_load_bytes),
            "MiB",
        ));
        rows.push(Line::numbers(
            "binary size (all binaries)",
            mib(mono.binary_bytes),
            mib(micro.binary_bytes),
            "MiB",
        ));
    }
    for workload in &result.workloads {
        let (Some(mono), Some(micro)) = (
            workload.runs.get("monolith"),
            workload.runs.get("microservices"),
        ) else {
            continue;
        };
        let name = &workload.workload;
        rows.push(Line::numbers(
            &format!("{name}: max throughput ({} conn)", result.connections),
            mono.closed.all.throughput_rps,
            micro.closed.all.throughput_rps,
            "req/s",
        ));
        let (mono_latency, micro_latency) = (mono.open.all.latency_ms, micro.open.all.latency_ms);
        for (label, mono_ms, micro_ms) in [
            ("p50", mono_latency.p50, micro_latency.p50),
            ("p99", mono_latency.p99, micro_latency.p99),
        ] {
            rows.push(Line::numbers(
                &format!("{name}: {label} at {:.0} req/s", workload.rate_rps),
                mono_ms,
                micro_ms,
                "ms",
            ));
        }
        rows.push(Line::numbers(
            &format!("{name}: CPU per request"),
            mono.cpu.us_per_request,
            micro.cpu.us_per_request,
            "µs",
        ));
        if let (Some(mono_db), Some(micro_db)) =
            (mono.cpu.database_server_us, micro.cpu.database_server_us)
        {
            rows.push(Line::numbers(
                &format!("{name}: CPU per request, PostgreSQL server"),
                mono_db,
                micro_db,
                "µs",
            ));
        }
        let errors = mono.closed.all.errors + mono.open.all.errors;
        let micro_errors = micro.closed.all.errors + micro.open.all.errors;
        if errors + micro_errors > 0 {
            rows.push(Line::counts(
                &format!("{name}: errors"),
                usize::try_from(errors).unwrap_or(usize::MAX),
                usize::try_from(micro_errors).unwrap_or(usize::MAX),
            ));
        }
    }
    rows
}

/// One line of the table.
pub struct Row {
    pub label: String,
    pub monolith: String,
    pub microservices: String,
    pub ratio: String,
}

impl Row {
    /// The same line of every run (the first's label).
    fn of(lines: &[&Line]) -> Row {
        let monolith = Spread::over(lines, |line| line.monolith);
        let microservices = Spread::over(lines, |line| line.microservices);
        let unit = lines.first().and_then(|line| line.unit);
        let show = |spread: Spread| match unit {
            // A count the same in every run reads as one number.
            None if spread.min == spread.max => format!("{:.0}", spread.median),
            None => spread.show(0, ""),
            Some(unit) => spread.show(digits(spread.median), unit),
        };
        let ratios: Option<Vec<f64>> = lines
            .iter()
            .map(|line| (line.monolith > 0.0).then(|| line.microservices / line.monolith))
            .collect();
        Row {
            label: lines
                .first()
                .map_or_else(String::new, |line| line.label.clone()),
            monolith: show(monolith),
            microservices: show(microservices),
            ratio: match ratios {
                Some(ratios) if !ratios.is_empty() => Spread::of(&ratios).show_ratio(),
                _ => "–".into(),
            },
        }
    }
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

/// Prints the table, the hop, the passes beside the main run and the
/// verdicts; over several runs, every figure and ratio as its median with
/// its spread, and each verdict with how many runs it held in.
pub fn print(results: &[CompareResult]) {
    let Some(result) = results.first() else {
        return;
    };
    let repeated = results.len() > 1;
    let (cell, ratio_cell) = if repeated { (28, 22) } else { (CELL, 10) };
    let table = Columns {
        columns: &[
            (LABEL, Align::Left),
            (cell, Align::Right),
            (cell, Align::Right),
            (ratio_cell, Align::Right),
        ],
        gap: "",
    };
    println!(
        "\n{}",
        table.line(&["", "monolith", "microservices", "ratio"])
    );
    for row in rows_over(results) {
        println!(
            "{}",
            table.line(&[row.label, row.monolith, row.microservices, row.ratio])
        );
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
        "\n{} build, {}, {}, {} s per run, seed {}{}",
        result.build_profile,
        result.storage,
        result
            .pinning
            .as_ref()
            .map_or("not pinned".to_owned(), |pinning| pinning.describe()),
        result.duration_s,
        result.seed,
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
            Line::numbers("read: p50", 0.069, 0.140, "ms"),
            Line::numbers("read: p50", 0.075, 0.120, "ms"),
            Line::numbers("read: p50", 0.071, 0.110, "ms"),
        ];
        let row = Row::of(&runs.iter().collect::<Vec<_>>());
        assert_eq!(row.monolith, "0.071 ms (0.069–0.075)");
        assert_eq!(row.microservices, "0.120 ms (0.110–0.140)");
        // The ratio of each run (2.03, 1.60, 1.55), not the ratio of the
        // medians (1.69).
        assert_eq!(row.ratio, "1.60x (1.55–2.03)");
    }

    #[test]
    fn one_run_reads_as_it_always_has() {
        let line = Line::numbers("read: CPU per request", 34.8, 112.3, "µs");
        let row = Row::of(&[&line]);
        assert_eq!(
            (
                row.monolith.as_str(),
                row.microservices.as_str(),
                row.ratio.as_str()
            ),
            ("34.80 µs", "112 µs", "3.23x")
        );
        let counts = Line::counts("processes", 1, 5);
        let row = Row::of(&[&counts, &counts]);
        assert_eq!(
            (row.monolith.as_str(), row.ratio.as_str()),
            ("1", "5.00x (5.00–5.00)")
        );
        let none = Line::counts("order: errors", 0, 3);
        assert_eq!(Row::of(&[&none]).ratio, "–");
    }
}
