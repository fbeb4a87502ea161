//! What `shoplab anomalies` prints on stdout: one line per deployment with
//! its dirty reads (the figure, in a shape a script can grep), a small table
//! beside it, and what could be done about the anomaly, at what cost.

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

/// The table: a row per figure, a column per deployment.
pub fn table(result: &AnomaliesResult) -> String {
    let full = result.parameters.stock;
    let rows: [(&str, fn(&RunFigures, i64) -> String); 6] = [
        ("reads (200)", |run, _| run.reads.total.to_string()),
        ("dirty reads", |run, _| run.reads.dirty.to_string()),
        ("dirty fraction", |run, _| {
            format!("{:.2}%", run.dirty_fraction * 100.0)
        }),
        ("lowest stock seen", |run, full| {
            run.reads
                .lowest_stock
                .map_or("-".to_owned(), |lowest| format!("{lowest} of {full}"))
        }),
        ("orders placed", |run, _| run.orders.placed.to_string()),
        ("run", |run, _| {
            if run.valid { "valid" } else { "INVALID" }.to_owned()
        }),
    ];
    let mut out = format!("{:<20}", "");
    for run in &result.runs {
        out.push_str(&format!("{:>14}", run.deployment));
    }
    out.push('\n');
    for (label, cell) in rows {
        out.push_str(&format!("{label:<20}"));
        for run in &result.runs {
            out.push_str(&format!("{:>14}", cell(run, full)));
        }
        out.push('\n');
    }
    out
}

/// Why the two differ, and the two usual countermeasures with their price.
const COUNTERMEASURES: &str = "\
Every order here is bound to fail for want of money. In the monolith the stock
it takes and its refusal are one transaction, rolled back together: no reader
sees the stock held. In the microservices the catalog commits the reservation before
payments refuses the charge, and readers see the stock held until the
release (the compensation) commits: a saga gives up isolation.

Countermeasures, and what they cost:
1. Hide the reservation: the catalog keeps reserved units apart, and reads
   show only confirmed stock. Cost: a confirm step per order (one more hop);
   readers see stock that is not really available; held units stay
   unavailable to other orders until confirmed or released.
2. A semantic lock: mark the product or order \"in saga\"; readers and other
   sagas wait, or see the flag. Cost: less concurrency, lock timeouts, and a
   rule for a lock whose saga owner died.
";
