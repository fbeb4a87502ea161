//! What `shoplab anomalies` prints on stdout: one line per deployment with
//! its dirty reads (the figure, in a shape a script can grep), a small table
//! beside it, and what could be done about the anomaly, at what cost.

use crate::report::text::{Align, Columns};

use super::figures::{AnomaliesResult, RunFigures};

/// Prints the figures, then the countermeasures.
pub fn print(result: &AnomaliesResult) {
    for run in &result.runs {
        println!("{}: {} dirty reads", run.deployment, run.reads.dirty);
    }
    println!();
    print!("{}", table(result));
    if let Some(verdict) = verdict(result) {
        println!("\n{verdict}");
    }
    println!();
    print!("{COUNTERMEASURES}");
}

/// Where the dirty reads come from, when the run has the monolith, the
/// modular monolith (split databases, no network) and the microservices
/// (split databases and the network) to tell it: the databases if the
/// modular monolith has them too, the network if only the microservices do.
pub fn verdict(result: &AnomaliesResult) -> Option<String> {
    let run = |name: &str| result.runs.iter().find(|run| run.deployment == name);
    let (monolith, modular, micro) = (run("monolith")?, run("modular")?, run("micro")?);
    let share = |run: &RunFigures| format!("{:.1}%", run.dirty_fraction * 100.0);
    let figures = format!(
        "monolith {}, modular {}, micro {} of reads dirty",
        share(monolith),
        share(modular),
        share(micro)
    );
    let cause = match (monolith.reads.dirty, modular.reads.dirty, micro.reads.dirty) {
        (0, 0, 0) => "no dirty reads anywhere in this window",
        (0, modular, _) if modular > 0 => {
            "the dirty reads come from the split databases and the saga, not from the \
             network: the modular monolith has them with no network at all"
        }
        (0, 0, _) => {
            "the dirty reads come with the network: the modular monolith (split databases, \
             no network) has none"
        }
        _ => "the monolith shows dirty reads: its one transaction did not hide the stock",
    };
    Some(format!("verdict: {cause} ({figures})."))
}

/// The table's rows.
const LABELS: [&str; 6] = [
    "reads (200)",
    "dirty reads",
    "dirty fraction",
    "lowest stock seen",
    "orders placed",
    "run",
];

/// One deployment's column, row by row; `full` is the seeded stock.
fn column(run: &RunFigures, full: i64) -> [String; 6] {
    [
        run.reads.total.to_string(),
        run.reads.dirty.to_string(),
        format!("{:.2}%", run.dirty_fraction * 100.0),
        run.reads
            .lowest_stock
            .map_or("-".to_owned(), |lowest| format!("{lowest} of {full}")),
        run.orders.placed.to_string(),
        if run.valid { "valid" } else { "INVALID" }.to_owned(),
    ]
}

/// The table: a row per figure, a column per deployment.
pub fn table(result: &AnomaliesResult) -> String {
    let columns: Vec<[String; 6]> = result
        .runs
        .iter()
        .map(|run| column(run, result.parameters.stock))
        .collect();
    let mut widths = vec![(20, Align::Left)];
    widths.extend(result.runs.iter().map(|_| (14, Align::Right)));
    let table = Columns {
        columns: &widths,
        gap: "",
    };
    let mut header = vec![String::new()];
    header.extend(result.runs.iter().map(|run| run.deployment.to_string()));
    let mut out = table.line(&header) + "\n";
    for (row, label) in LABELS.iter().enumerate() {
        let mut cells = vec![(*label).to_owned()];
        cells.extend(columns.iter().map(|column| column[row].clone()));
        out.push_str(&table.line(&cells));
        out.push('\n');
    }
    out
}

/// Why the two differ, and the two usual countermeasures with their price.
const COUNTERMEASURES: &str = "\
Every order here is bound to fail for want of money. In the monolith the
stock it takes and its refusal are one transaction, rolled back together: no
reader sees the stock held. In the microservices the catalog commits the
reservation before payments refuses the charge, and readers see the stock
held until the release (the compensation) commits: a saga gives up isolation.

Countermeasures, and what they cost:
1. Hide the reservation: the catalog keeps reserved units apart, and reads
   show only confirmed stock. Cost: a confirm step per order (one more hop);
   readers see stock that is not really available; held units stay
   unavailable to other orders until confirmed or released.
2. A semantic lock: mark the product or order \"in saga\"; readers and other
   sagas wait, or see the flag. Cost: less concurrency, lock timeouts, and a
   rule for a lock whose saga owner died.
";
