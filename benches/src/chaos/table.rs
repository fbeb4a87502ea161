//! The table `shoplab chaos` prints after its verdict lines: a row per
//! mode, then the supervisor's restarts.

use crate::report::text::{Align, Columns};

use super::ChaosResult;

/// mode, then the figures.
const COLUMNS: Columns<'static> = Columns::spaced(&[
    (6, Align::Left),
    (9, Align::Right),
    (6, Align::Right),
    (9, Align::Right),
    (7, Align::Right),
    (10, Align::Right),
    (7, Align::Right),
    (6, Align::Right),
    (6, Align::Right),
    (10, Align::Right),
    (8, Align::Right),
    (8, Align::Right),
]);

pub(super) fn print_table(result: &ChaosResult) {
    println!();
    println!(
        "{}",
        COLUMNS.line(&[
            "mode",
            "completed",
            "failed",
            "cancelled",
            "pending",
            "violations",
            "cents",
            "units",
            "money",
            "settled ms",
            "p50 ms",
            "p99 ms",
        ])
    );
    for mode in &result.modes {
        let count = |status: &str| mode.orders.get(status).copied().unwrap_or(0);
        let ms = |value: Option<f64>| value.map_or("-".to_owned(), |value| format!("{value:.1}"));
        println!(
            "{}",
            COLUMNS.line(&[
                mode.mode.name().to_owned(),
                count("completed").to_string(),
                count("failed").to_string(),
                count("cancelled").to_string(),
                count("pending").to_string(),
                mode.violations.to_string(),
                mode.cents_involved.to_string(),
                mode.units_involved.to_string(),
                if mode.money_equation_holds {
                    "ok"
                } else {
                    "BROKEN"
                }
                .to_owned(),
                ms(mode.settled_after_ms),
                ms(mode.completed_p50_ms),
                ms(mode.completed_p99_ms),
            ])
        );
    }
    println!("\nrestarts by the supervisor:");
    for mode in &result.modes {
        let restarts: Vec<String> = mode
            .restarts
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(name, count)| format!("{name} {count}"))
            .collect();
        println!(
            "  {}: {}",
            mode.mode.name(),
            if restarts.is_empty() {
                "none".to_owned()
            } else {
                restarts.join(", ")
            }
        );
    }
}
