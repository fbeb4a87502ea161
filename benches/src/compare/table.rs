//! The rows of the side-by-side table, which the terminal (`terminal.rs`)
//! and the HTML report (`html.rs`) both show: a column per deployment
//! (monolith, the groupings asked for, microservices), then each one's
//! ratio to the monolith.

use super::figures::{CompareResult, DeploymentFigures, WorkloadRuns};
use crate::stats::Spread;

pub(super) const LABEL: usize = 44;
pub(super) const CELL: usize = 16;

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
pub(super) struct Line {
    label: String,
    /// `None`: not measured in this run (shown as "–").
    values: Vec<Option<f64>>,
    /// `None`: a count.
    unit: Option<&'static str>,
}

impl Line {
    pub(super) fn numbers(label: &str, values: Vec<f64>, unit: &'static str) -> Line {
        Self::maybe(label, values.into_iter().map(Some).collect(), unit)
    }

    /// Figures some deployments may lack.
    pub(super) fn maybe(label: &str, values: Vec<Option<f64>>, unit: &'static str) -> Line {
        Line {
            label: label.to_owned(),
            values,
            unit: Some(unit),
        }
    }

    pub(super) fn counts(label: &str, counts: Vec<usize>) -> Line {
        Line {
            label: label.to_owned(),
            values: counts.into_iter().map(|count| Some(count as f64)).collect(),
            unit: None,
        }
    }
}

/// Bytes in MiB.
pub(super) fn mib(bytes: u64) -> f64 {
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
    pub(super) fn of(lines: &[&Line], base: usize) -> Row {
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
