//! The table `shoplab chaos` prints after its verdict lines: a row per
//! mode, then the supervisor's restarts.

use super::ChaosResult;

pub(super) fn print_table(result: &ChaosResult) {
    println!();
    println!(
        "{:<6} {:>9} {:>6} {:>9} {:>7} {:>10} {:>7} {:>6} {:>6} {:>10} {:>8} {:>8}",
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
        "p99 ms"
    );
    for mode in &result.modes {
        let count = |status: &str| mode.orders.get(status).copied().unwrap_or(0);
        let ms = |value: Option<f64>| value.map_or("-".to_owned(), |value| format!("{value:.1}"));
        println!(
            "{:<6} {:>9} {:>6} {:>9} {:>7} {:>10} {:>7} {:>6} {:>6} {:>10} {:>8} {:>8}",
            mode.mode.name(),
            count("completed"),
            count("failed"),
            count("cancelled"),
            count("pending"),
            mode.violations,
            mode.cents_involved,
            mode.units_involved,
            if mode.money_equation_holds {
                "ok"
            } else {
                "BROKEN"
            },
            ms(mode.settled_after_ms),
            ms(mode.completed_p50_ms),
            ms(mode.completed_p99_ms),
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
