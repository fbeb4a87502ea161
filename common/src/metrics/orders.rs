//! Orders and sagas, counted where their outcome is decided, once per
//! order: in the monolith when the order's one transaction commits
//! (`monolith/src/checkout.rs`); in the orders service when the saga's
//! record ends, a compare-and-set that succeeds for one runner only
//! (`microservices/orders/src/checkout.rs`). A request that resumes or
//! replays an order counts nothing again.

use crate::orders::checkout::Placed;
use crate::orders::saga::Step;

use super::{
    enabled, ORDERS_COMPLETED, ORDERS_FAILED, SAGAS_IN_FLIGHT, SAGA_COMPENSATIONS, SAGA_RECOVERIES,
};

/// An order was placed and completed.
pub fn completed() {
    if enabled() {
        ::metrics::counter!(ORDERS_COMPLETED).increment(1);
    }
}

/// An order was placed and refused, kept `failed` with API.md's error
/// `code` (only codes the shop itself wrote: the label set is API.md's list
/// of codes).
pub fn failed(code: &str) {
    if enabled() {
        ::metrics::counter!(ORDERS_FAILED, "code" => code.to_owned()).increment(1);
    }
}

/// A placement failed at `step` and is being undone.
pub fn compensating(step: Step) {
    if enabled() {
        ::metrics::counter!(SAGA_COMPENSATIONS, "step" => step.as_str()).increment(1);
    }
}

/// A saga whose runner was gone was taken over: it `ended`, or will be
/// tried again later.
pub fn recovered(ended: bool) {
    if enabled() {
        let outcome = if ended { "ended" } else { "retrying" };
        ::metrics::counter!(SAGA_RECOVERIES, "outcome" => outcome).increment(1);
    }
}

/// How many sagas the orders database holds unended now (read there, so
/// the figure survives a crash of the process that reports it).
pub fn in_flight(count: i64) {
    if enabled() {
        // An order count, far below f64's exact integers.
        ::metrics::gauge!(SAGAS_IN_FLIGHT).set(count as f64);
    }
}

/// How placing an order ended, once that is decided (the monolith: its
/// transaction has committed). An order not yet settled counts nothing.
pub fn placed(placed: &Placed) {
    match placed {
        Placed::Completed(_) => completed(),
        Placed::Failed { error, .. } => failed(error.code()),
        Placed::Pending { .. } => {}
    }
}
