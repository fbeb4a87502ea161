//! Everything one `shoplab anomalies` run measured, as written to
//! `anomalies.json`, and the judgement of whether each deployment's run was
//! a fair experiment at all: a run in which an order did something other
//! than fail for want of money, or stock did not come back, measured
//! something else than isolation.

use std::collections::BTreeMap;

use serde::Serialize;

use super::window::{Observed, Orders, Reads};
use super::Parameters;
use crate::experiment::Stamp;

#[derive(Debug, Clone, Serialize)]
pub struct AnomaliesResult {
    #[serde(flatten)]
    pub stamp: Stamp,
    /// `release` or `debug`: the profile the measured binaries were built with.
    pub build_profile: &'static str,
    /// `sqlite` or `postgres`.
    pub storage: &'static str,
    pub parameters: Parameters,
    /// The monolith's run, then the microservices'.
    pub runs: Vec<RunFigures>,
    /// Both runs were valid: the figures measure what they claim to.
    pub valid: bool,
}

/// One deployment's run.
#[derive(Debug, Clone, Serialize)]
pub struct RunFigures {
    /// `monolith` or `micro`.
    pub deployment: String,
    /// Spawn to a passing `/health`.
    pub startup_ms: f64,
    /// How long the loops actually ran.
    pub window_s: f64,
    pub reads: Reads,
    /// `reads.dirty / reads.total` (0 when nothing was read).
    pub dirty_fraction: f64,
    pub orders: Orders,
    /// Each probe product's stock after the window, by product id (`null`:
    /// it could not be read).
    pub final_stock: BTreeMap<i64, Option<i64>>,
    /// Why the run does not count; empty when it does.
    pub problems: Vec<String>,
    pub valid: bool,
}

impl RunFigures {
    /// The figures of one window, judged.
    pub fn judge(
        deployment: String,
        startup_ms: f64,
        observed: Observed,
        final_stock: BTreeMap<i64, Option<i64>>,
        parameters: &Parameters,
    ) -> Self {
        let problems = problems(&observed, &final_stock, parameters);
        let Observed {
            reads,
            orders,
            elapsed,
        } = observed;
        RunFigures {
            deployment,
            startup_ms,
            window_s: elapsed.as_secs_f64(),
            dirty_fraction: reads.dirty as f64 / reads.total.max(1) as f64,
            reads,
            orders,
            final_stock,
            valid: problems.is_empty(),
            problems,
        }
    }
}

/// What makes a run not count. The issue fixes the first two: every order
/// must be refused for funds, and every product must end with its seeded
/// stock. The others guard the reading side: a run whose readers got errors,
/// or no answers at all, would show few or no dirty reads for a reason that
/// is not isolation.
fn problems(
    observed: &Observed,
    final_stock: &BTreeMap<i64, Option<i64>>,
    parameters: &Parameters,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (answer, count) in &observed.orders.unexpected {
        problems.push(format!(
            "{count} orders answered {answer}, not 409 insufficient_funds"
        ));
    }
    if observed.orders.placed == 0 {
        problems.push("no order was placed in the window".to_owned());
    }
    for (product, stock) in final_stock {
        match stock {
            Some(stock) if *stock == parameters.stock => {}
            Some(stock) => problems.push(format!(
                "product {product} ended with stock {stock}, not {}",
                parameters.stock
            )),
            None => problems.push(format!("product {product} could not be read at the end")),
        }
    }
    for (answer, count) in &observed.reads.failed {
        problems.push(format!("{count} reads answered {answer}, not 200"));
    }
    if observed.reads.total == 0 {
        problems.push("no read was answered in the window".to_owned());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn observed(refused: u64, unexpected: &[(&str, u64)], reads: u64) -> Observed {
        let mut observed = Observed {
            elapsed: Duration::from_secs(1),
            ..Observed::default()
        };
        observed.orders.placed = refused + unexpected.iter().map(|(_, n)| n).sum::<u64>();
        observed.orders.refused_for_funds = refused;
        for (answer, count) in unexpected {
            observed
                .orders
                .unexpected
                .insert((*answer).to_owned(), *count);
        }
        observed.reads.total = reads;
        observed
    }

    fn stock(units: &[Option<i64>]) -> BTreeMap<i64, Option<i64>> {
        (1..).zip(units.iter().copied()).collect()
    }

    #[test]
    fn a_run_counts_when_every_order_was_refused_for_funds_and_the_stock_came_back() {
        let parameters = Parameters::default();
        let full = Some(parameters.stock);
        let run = RunFigures::judge(
            "micro".into(),
            1.0,
            observed(10, &[], 50),
            stock(&[full, full]),
            &parameters,
        );
        assert!(run.valid, "{:?}", run.problems);
    }

    #[test]
    fn an_order_that_completed_makes_the_run_invalid() {
        let parameters = Parameters::default();
        let full = Some(parameters.stock);
        let run = RunFigures::judge(
            "micro".into(),
            1.0,
            observed(9, &[("201", 1)], 50),
            stock(&[full]),
            &parameters,
        );
        assert!(!run.valid);
        assert_eq!(
            run.problems,
            ["1 orders answered 201, not 409 insufficient_funds"]
        );
    }

    #[test]
    fn stock_that_did_not_come_back_makes_the_run_invalid() {
        let parameters = Parameters::default();
        let run = RunFigures::judge(
            "micro".into(),
            1.0,
            observed(10, &[], 50),
            stock(&[Some(8), None]),
            &parameters,
        );
        assert!(!run.valid);
        assert_eq!(run.problems.len(), 2, "{:?}", run.problems);
    }

    #[test]
    fn a_run_in_which_no_read_was_answered_is_invalid() {
        let parameters = Parameters::default();
        let full = Some(parameters.stock);
        let run = RunFigures::judge(
            "monolith".into(),
            1.0,
            observed(10, &[], 0),
            stock(&[full]),
            &parameters,
        );
        assert!(!run.valid, "0 dirty reads of 0 reads proves nothing");
    }
}
