//! What `shoplab partitions` prints, the verdicts it draws, and its HTML
//! report.

use std::fmt::Write as _;

use crate::report::plot::{bar_plot, deployment_colour};
use crate::report::text::{conditions, Align, Columns};
use crate::report::{escape, page_head};

use super::figures::{Decomposition, Figures, Measured, PartitionsResult, Piece, Ranked};

/// The pieces of the decomposition, as the table names them.
const PIECES: [&str; 4] = [
    "split databases and the saga (modular − monolith)",
    "the network (modular over HTTP − modular)",
    "the extra processes, gateway too (micro − modular/HTTP)",
    "all of it (micro − monolith)",
];

fn pieces(decomposition: &Decomposition) -> [Piece; 4] {
    [
        decomposition.databases_and_saga,
        decomposition.network,
        decomposition.processes,
        decomposition.total,
    ]
}

/// The workloads, in the order they ran.
fn workloads(result: &PartitionsResult) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for measured in &result.deployments {
        for name in measured.workloads.keys() {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    names
}

/// One workload's figures in a few words.
fn figures_cells(figures: Option<&Figures>) -> [String; 4] {
    match figures {
        Some(figures) => [
            figures
                .instructions
                .map_or("–".into(), |count| format!("{:.0}k", count / 1000.0)),
            format!("{:.0} µs", figures.cpu_us),
            format!("{:.3} ms", figures.p50_ms),
            format!("{:.0}/s", figures.max_rps),
        ],
        None => ["–".into(), "–".into(), "–".into(), "–".into()],
    }
}

/// Prints the ranking, the references, the calls between components, the
/// decomposition and the verdicts.
pub fn print(result: &PartitionsResult) {
    let names = workloads(result);
    let mut columns = vec![(36, Align::Left), (7, Align::Right)];
    for _ in &names {
        columns.extend([
            (16, Align::Right),
            (9, Align::Right),
            (11, Align::Right),
            (10, Align::Right),
            (8, Align::Right),
        ]);
    }
    let table = Columns {
        columns: &columns,
        gap: " ",
    };
    let mut header = vec!["grouping (ranked)".to_owned(), "procs".to_owned()];
    for name in &names {
        header.extend([
            format!("{name}: instr"),
            "CPU".to_owned(),
            "p50".to_owned(),
            "max".to_owned(),
            "across".to_owned(),
        ]);
    }
    println!("\n{}", table.line(&header));
    for ranked in &result.ranking {
        let mut cells = vec![
            format!("{}. {}", ranked.rank, ranked.grouping),
            ranked.processes.to_string(),
        ];
        for name in &names {
            cells.extend(figures_cells(ranked.workloads.get(name)));
            cells.push(
                ranked
                    .crossing_calls
                    .get(name)
                    .map_or("–".into(), |calls| format!("{calls:.2}")),
            );
        }
        println!("{}", table.line(&cells));
    }
    println!();
    for measured in references(result) {
        let mut cells = vec![
            format!("   {}", measured.deployment),
            measured.processes.to_string(),
        ];
        for name in &names {
            cells.extend(figures_cells(measured.workloads.get(name)));
            cells.push(String::new());
        }
        println!("{}", table.line(&cells));
    }
    let rates: Vec<String> = result
        .rates
        .iter()
        .map(|(workload, rate)| format!("{workload} {rate:.0} req/s"))
        .collect();
    println!(
        "\nCPU: all processes' CPU per request over the closed loop; p50 in the open loop at {}; \
         max: the closed loop's throughput ({} connections); across: component calls per request \
         between processes",
        rates.join(", "),
        result.connections
    );
    println!("\ncalls per request between components (a traced pass on the microservices):");
    for pair in &result.pairs {
        let calls: Vec<String> = names
            .iter()
            .filter_map(|name| Some(format!("{name} {:.2}", pair.per_request.get(name)?)))
            .collect();
        println!("  {:<18} {}", pair.pair, calls.join(", "));
    }
    for (workload, decomposition) in &result.decomposition {
        println!("\nthe split's cost, piece by piece ({workload}):");
        let table = Columns {
            columns: &[
                (58, Align::Left),
                (20, Align::Right),
                (22, Align::Right),
                (10, Align::Right),
            ],
            gap: " ",
        };
        println!(
            "{}",
            table.line(&["", "CPU per request", "p50", "share of CPU"])
        );
        let shares = decomposition.cpu_shares();
        for (at, (label, piece)) in PIECES.iter().zip(pieces(decomposition)).enumerate() {
            let share = shares
                .get(at)
                .map_or("100%".to_owned(), |share| format!("{share:.0}%"));
            println!(
                "{}",
                table.line(&[
                    (*label).to_owned(),
                    format!("{:+.0} µs ({:.2}x)", piece.cpu_us, piece.cpu_ratio),
                    format!("{:+.3} ms ({:.2}x)", piece.p50_ms, piece.p50_ratio),
                    share,
                ])
            );
        }
    }
    println!(
        "\n{}",
        conditions(
            result.build_profile,
            &result.storage,
            result.pinning.as_ref(),
            result.duration_s,
            result.seed
        )
    );
    println!("\nverdicts:");
    for verdict in &result.verdicts {
        println!("- {verdict}");
    }
}

/// The deployments that are not one of the fifteen groupings.
fn references(result: &PartitionsResult) -> impl Iterator<Item = &Measured> {
    result
        .deployments
        .iter()
        .filter(|measured| measured.grouping.is_none())
}

/// The one-line verdicts: where the split's cost comes from, and which
/// grouping costs least among those that split the shop.
pub fn verdicts(result: &PartitionsResult, ranked_by: &str) -> Vec<String> {
    let mut verdicts = Vec::new();
    for (workload, decomposition) in &result.decomposition {
        let [databases, network, processes] = decomposition.cpu_shares();
        let largest = [
            (databases, "the split databases and the saga"),
            (network, "the network"),
            (processes, "the extra processes"),
        ]
        .into_iter()
        .fold((f64::NEG_INFINITY, ""), |best, piece| {
            if piece.0 > best.0 {
                piece
            } else {
                best
            }
        });
        verdicts.push(format!(
            "{workload}: of the microservices' {:+.0} µs of CPU per request over the monolith \
             ({:.2}x), the split databases and the saga take {databases:.0}%, the network \
             {network:.0}%, the extra processes {processes:.0}%: the largest piece is {}",
            decomposition.total.cpu_us, decomposition.total.cpu_ratio, largest.1
        ));
    }
    let split: Vec<&Ranked> = result
        .ranking
        .iter()
        .filter(|ranked| ranked.processes > 1)
        .collect();
    if let (Some(best), Some(worst)) = (split.first(), split.last()) {
        let cpu = |ranked: &Ranked| {
            ranked
                .workloads
                .get(ranked_by)
                .map_or(f64::NAN, |figures| figures.cpu_us)
        };
        let across = |ranked: &Ranked| {
            ranked
                .crossing_calls
                .get(ranked_by)
                .copied()
                .unwrap_or(f64::NAN)
        };
        verdicts.push(format!(
            "of the groupings that split the shop, {} (rank {}) costs least on {ranked_by}: \
             {:.0} µs of CPU per request, {:.2} calls across processes per request; {} \
             (rank {}) costs most: {:.0} µs, {:.2} calls across",
            best.grouping,
            best.rank,
            cpu(best),
            across(best),
            worst.grouping,
            worst.rank,
            cpu(worst),
            across(worst)
        ));
    }
    verdicts
}

/// The HTML report: the ranking as bars and as a table, the decomposition,
/// the calls between components, the verdicts.
pub fn html(result: &PartitionsResult) -> String {
    let mut page = page_head("shoplab partitions");
    let _ = write!(
        page,
        "<h1>shoplab partitions: every grouping of the components into processes</h1>\
         <p>{} build, {}, {} s per run, {} connections, seed {}; {} at commit {}, {}.</p>",
        result.build_profile,
        escape(&result.storage),
        result.duration_s,
        result.connections,
        result.seed,
        escape(&result.stamp.machine.cpu_model),
        escape(result.stamp.commit.as_deref().unwrap_or("unknown")),
        escape(&result.stamp.started_at)
    );
    page.push_str("<h2>Verdicts</h2>");
    for verdict in &result.verdicts {
        let _ = write!(page, "<div class=\"verdict\">{}</div>", escape(verdict));
    }
    let names = workloads(result);
    let ranks: Vec<String> = result
        .ranking
        .iter()
        .map(|ranked| ranked.rank.to_string())
        .collect();
    let series = |figure: fn(&Figures) -> f64| -> Vec<(String, Vec<f64>)> {
        names
            .iter()
            .map(|name| {
                let values = result
                    .ranking
                    .iter()
                    .map(|ranked| ranked.workloads.get(name).map_or(0.0, figure))
                    .collect();
                (name.clone(), values)
            })
            .collect()
    };
    page.push_str("<h2>The fifteen groupings, by rank</h2><div class=\"plots\">");
    for (title, figure) in [
        (
            "CPU µs per request",
            (|figures: &Figures| figures.cpu_us) as fn(&Figures) -> f64,
        ),
        ("p50 ms at equal load", |figures: &Figures| figures.p50_ms),
        ("max throughput, req/s", |figures: &Figures| figures.max_rps),
    ] {
        let drawn = series(figure);
        let coloured: Vec<(&str, _, Vec<f64>)> = drawn
            .iter()
            .enumerate()
            .map(|(at, (name, values))| (name.as_str(), deployment_colour("", at), values.clone()))
            .collect();
        page.push_str(&bar_plot(title, &ranks, &coloured));
    }
    page.push_str("</div><table><tr><th>rank</th><th>grouping</th><th>processes</th>");
    for name in &names {
        let _ = write!(
            page,
            "<th>{0}: CPU µs</th><th>{0}: p50 ms</th><th>{0}: max req/s</th><th>{0}: calls across</th>",
            escape(name)
        );
    }
    page.push_str("</tr>");
    for ranked in &result.ranking {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            ranked.rank,
            escape(&ranked.grouping),
            ranked.processes
        );
        for name in &names {
            push_figures(&mut page, ranked.workloads.get(name));
            let _ = write!(
                page,
                "<td>{}</td>",
                ranked
                    .crossing_calls
                    .get(name)
                    .map_or("–".into(), |calls| format!("{calls:.2}"))
            );
        }
        page.push_str("</tr>");
    }
    for measured in references(result) {
        let _ = write!(
            page,
            "<tr><td></td><td>{}</td><td>{}</td>",
            escape(&measured.deployment),
            measured.processes
        );
        for name in &names {
            push_figures(&mut page, measured.workloads.get(name));
            page.push_str("<td></td>");
        }
        page.push_str("</tr>");
    }
    page.push_str("</table>");
    for (workload, decomposition) in &result.decomposition {
        let _ = write!(
            page,
            "<h2>The split's cost, piece by piece ({})</h2><table><tr><th></th><th>CPU per request</th><th>p50</th></tr>",
            escape(workload)
        );
        for (label, piece) in PIECES.iter().zip(pieces(decomposition)) {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{:+.0} µs ({:.2}x)</td><td>{:+.3} ms ({:.2}x)</td></tr>",
                escape(label),
                piece.cpu_us,
                piece.cpu_ratio,
                piece.p50_ms,
                piece.p50_ratio
            );
        }
        page.push_str("</table>");
    }
    page.push_str("<h2>Calls per request between components</h2><p>Counted from a traced pass on the microservices: what keeping the pair in one process saves.</p><table><tr><th>pair</th>");
    for name in &names {
        let _ = write!(page, "<th>{}</th>", escape(name));
    }
    page.push_str("</tr>");
    for pair in &result.pairs {
        let _ = write!(page, "<tr><td>{}</td>", escape(&pair.pair));
        for name in &names {
            let _ = write!(
                page,
                "<td>{}</td>",
                pair.per_request
                    .get(name)
                    .map_or("–".into(), |calls| format!("{calls:.2}"))
            );
        }
        page.push_str("</tr>");
    }
    page.push_str("</table></body></html>");
    page
}

fn push_figures(page: &mut String, figures: Option<&Figures>) {
    match figures {
        Some(figures) => {
            let _ = write!(
                page,
                "<td>{:.0}</td><td>{:.3}</td><td>{:.0}</td>",
                figures.cpu_us, figures.p50_ms, figures.max_rps
            );
        }
        None => page.push_str("<td>–</td><td>–</td><td>–</td>"),
    }
}
