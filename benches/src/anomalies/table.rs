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
    println!();
    print!("{COUNTERMEASURES}");
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
