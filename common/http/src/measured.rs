//! Component calls, measured the same way in both deployments.
//!
//! [`Measured`] wraps any implementation of the component interfaces, as
//! [`shoplab_common::faults::Faulty`] does, and counts and times every call through
//! it. The monolith wraps `InProcess` (a call is a function call on the
//! order's connection: `monolith/src/checkout.rs`); the services wrap
//! `Remote` (a call is an HTTP request:
//! `microservices/service/src/remote.rs`). One piece of code measures both,
//! under one set of names, so a query such as
//! `histogram_quantile(0.99, sum by (le, job) (rate(shoplab_component_call_duration_seconds_bucket[1m])))`
//! puts a function call and a network hop side by side.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Instant;

use ::metrics::{Counter, Histogram};

use crate::hop_log;
use shoplab_common::components::{Around, Op};
use shoplab_common::ShopError;

use shoplab_common::metrics::{enabled, COMPONENT_CALLS, COMPONENT_CALL_DURATION};

/// How a component call ended, as an operator counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did what was asked.
    Ok,
    /// The component answered, and said no (not found, not enough stock or
    /// money, an invalid request): the shop working as designed.
    Refused,
    /// It did not answer within the deadline.
    Timeout,
    /// It could not be asked, failed, or its answer was lost.
    Unavailable,
}

impl Outcome {
    /// How a call that returned `result` ended.
    pub fn of<T>(result: &Result<T, ShopError>) -> Self {
        match result {
            Ok(_) => Outcome::Ok,
            Err(error) => Outcome::of_error(error),
        }
    }

    /// The one mapping from the domain's errors to an operator's four
    /// outcomes.
    pub fn of_error(error: &ShopError) -> Self {
        match error {
            ShopError::InvalidRequest(_)
            | ShopError::NotFound(_)
            | ShopError::EmailTaken
            | ShopError::InsufficientStock(_)
            | ShopError::InsufficientFunds(_)
            | ShopError::InvalidState(_)
            | ShopError::IdempotencyConflict
            // The peer answered, deliberately: a missing or wrong internal
            // token is a deployment's mistake, but not the peer being down.
            | ShopError::Unauthorized(_) => Outcome::Refused,
            ShopError::Timeout(_) => Outcome::Timeout,
            ShopError::ServiceUnavailable(_)
            | ShopError::Unreachable(_)
            | ShopError::Unconfirmed(_)
            | ShopError::ClaimLost(_)
            | ShopError::Internal(_) => Outcome::Unavailable,
        }
    }

    /// Its place in a table of the four.
    fn index(self) -> usize {
        match self {
            Outcome::Ok => 0,
            Outcome::Refused => 1,
            Outcome::Timeout => 2,
            Outcome::Unavailable => 3,
        }
    }

    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Timeout => "timeout",
            Outcome::Unavailable => "unavailable",
        }
    }
}

/// A component implementation whose every call is counted and timed (when
/// metrics are on; otherwise a plain pass-through).
pub struct Measured<S> {
    inner: S,
}

impl<S> Measured<S> {
    pub fn new(inner: S) -> Self {
        Self { inner }
    }

    pub fn inner(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S: Send> Around for Measured<S> {
    type Inner = S;

    /// Makes the call, counted and timed when metrics are on, and logged
    /// as a `function` hop when the process keeps a hop log: the same line
    /// for a function call in the monolith and for the HTTP call a service
    /// makes in its place, which hangs under it in `shoplab trace`.
    fn around<'a, T, F>(
        &'a mut self,
        op: Op,
        call: impl FnOnce(&'a mut S) -> F + Send,
    ) -> impl Future<Output = Result<T, ShopError>> + Send
    where
        T: Send,
        F: Future<Output = Result<T, ShopError>> + Send,
    {
        let inner = &mut self.inner;
        async move {
            let hop = hop_log::Function::start(op.name());
            if !enabled() && hop.is_none() {
                return call(inner).await;
            }
            let started = Instant::now();
            let result = match &hop {
                Some(hop) => hop.inside(call(inner)).await,
                None => call(inner).await,
            };
            let outcome = Outcome::of(&result);
            if enabled() {
                record(op, outcome, started.elapsed().as_secs_f64());
            }
            if let Some(hop) = hop {
                hop.returned(outcome.label());
            }
            result
        }
    }
}

/// Counts and times one call through handles registered the first time
/// each operation (and outcome) is seen: two atomic updates a call after
/// that, no label built or looked up.
fn record(op: Op, outcome: Outcome, seconds: f64) {
    const OUTCOMES: usize = 4;
    static CALLS: [[OnceLock<Counter>; OUTCOMES]; Op::ALL.len()] =
        [const { [const { OnceLock::new() }; OUTCOMES] }; Op::ALL.len()];
    static DURATIONS: [OnceLock<Histogram>; Op::ALL.len()] =
        [const { OnceLock::new() }; Op::ALL.len()];
    let (component, operation) = (op.component().name(), op.method());
    let at = op.index();
    CALLS[at][outcome.index()]
        .get_or_init(|| {
            ::metrics::counter!(
                COMPONENT_CALLS,
                "component" => component,
                "operation" => operation,
                "outcome" => outcome.label(),
            )
        })
        .increment(1);
    DURATIONS[at]
        .get_or_init(|| {
            ::metrics::histogram!(
                COMPONENT_CALL_DURATION,
                "component" => component,
                "operation" => operation,
            )
        })
        .record(seconds);
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoplab_common::domain::{Entity, UserId};

    #[test]
    fn every_error_maps_to_one_of_four_outcomes() {
        let user = UserId::parse(1).expect("1 is a valid id");
        let cases = [
            (ShopError::invalid("bad"), Outcome::Refused),
            (ShopError::NotFound(Entity::User(user)), Outcome::Refused),
            (ShopError::EmailTaken, Outcome::Refused),
            (ShopError::InsufficientStock("x".into()), Outcome::Refused),
            (ShopError::InsufficientFunds("x".into()), Outcome::Refused),
            (ShopError::InvalidState("x".into()), Outcome::Refused),
            (ShopError::IdempotencyConflict, Outcome::Refused),
            (ShopError::Unauthorized("x".into()), Outcome::Refused),
            (ShopError::Timeout("x".into()), Outcome::Timeout),
            (
                ShopError::ServiceUnavailable("x".into()),
                Outcome::Unavailable,
            ),
            (ShopError::Unreachable("x".into()), Outcome::Unavailable),
            (ShopError::Unconfirmed("x".into()), Outcome::Unavailable),
            (ShopError::ClaimLost("x".into()), Outcome::Unavailable),
            (ShopError::Internal("x".into()), Outcome::Unavailable),
        ];
        for (error, outcome) in cases {
            assert_eq!(Outcome::of_error(&error), outcome, "{error:?}");
        }
        assert_eq!(Outcome::of(&Ok::<(), ShopError>(())), Outcome::Ok);
        let labels: Vec<_> = [
            Outcome::Ok,
            Outcome::Refused,
            Outcome::Timeout,
            Outcome::Unavailable,
        ]
        .map(Outcome::label)
        .to_vec();
        assert_eq!(labels, ["ok", "refused", "timeout", "unavailable"]);
    }
}
