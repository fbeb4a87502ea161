//! A bounded cost for a failed peer: what stands between a service and each
//! service it calls (`remote.rs`), so that one frozen or dead peer costs its
//! callers a bounded number of calls in flight and then almost nothing.
//!
//! - **A call timeout** of its own (`--call-timeout-ms`, 1 s), shorter than
//!   a request's deadline (5 s): a peer that does not answer is given up on
//!   long before the caller's caller gives up on us.
//! - **A bulkhead**: at most `--peer-max-in-flight` calls (100) to one peer
//!   at once. One more fails at once with 503, instead of queueing behind
//!   the ones that are stuck.
//! - **A circuit breaker**: after `--breaker-failures` (5) calls in a row
//!   that timed out (a connection that could not be made in time included),
//!   the circuit opens, and every
//!   call fails at once with 503 `service_unavailable`, unsent (so a saga
//!   knows the step did nothing). After `--breaker-cool-down-ms` (1 s) a
//!   task of the guard's own asks the peer's `GET /health`, again at most
//!   once a cool-down: the first 200 closes the circuit. No
//!   customer's request ever waits on a probe (there is no "half-open" state
//!   letting one real call through).
//!
//! Each state change is one line on stderr, and, with metrics on, the state
//! and the rejections are in `/metrics` (docs/METRICS.md). The monolith has
//! none of this: a function call cannot hang on a network
//! (`monolith/src/checkout.rs`), which is the point of comparing them.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use shoplab_common::metrics;
use shoplab_common::ShopError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::balance::Replicas;

/// The defaults: what `shoplab up micro` runs with, chosen to meet the
/// frozen-payments targets of `shoplab isolation` (README, "a split system
/// must fail fast").
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 100;
pub const DEFAULT_BREAKER_FAILURES: u32 = 5;
pub const DEFAULT_COOL_DOWN_MS: u64 = 1000;

/// The bulkhead and breaker flags of a service that calls others.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct GuardArgs {
    /// The most calls in flight to one peer service at once; one more fails
    /// at once with 503 instead of waiting behind them.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_IN_FLIGHT,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub peer_max_in_flight: u32,
    /// After this many calls in a row to one peer time out, its circuit
    /// opens: calls fail at once with 503 until a health check of the peer
    /// passes.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BREAKER_FAILURES,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub breaker_failures: u32,
    /// How long an open circuit fails calls at once before the peer's
    /// /health is asked whether it may close (and between two such asks).
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_COOL_DOWN_MS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub breaker_cool_down_ms: u64,
}

impl Default for GuardArgs {
    fn default() -> Self {
        Self {
            peer_max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            breaker_failures: DEFAULT_BREAKER_FAILURES,
            breaker_cool_down_ms: DEFAULT_COOL_DOWN_MS,
        }
    }
}

/// One peer's bulkhead and circuit breaker, shared by every call this
/// process makes to it. Cheap to clone.
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

struct Inner {
    peer: String,
    replicas: Replicas,
    in_flight: Arc<Semaphore>,
    max_in_flight: u32,
    /// Calls in a row that timed out, or whose answer was lost.
    failures: AtomicU32,
    open: AtomicBool,
    failures_to_open: u32,
    cool_down: Duration,
    /// How long a health probe may take.
    probe_timeout: Duration,
    http: reqwest::Client,
}

/// A call's place in the bulkhead: held until the call is answered.
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
}

impl Guard {
    /// The guard of `replicas`' service, probing it with `http` within
    /// `probe_timeout`.
    pub fn new(
        replicas: Replicas,
        args: GuardArgs,
        http: reqwest::Client,
        probe_timeout: Duration,
    ) -> Self {
        let peer = replicas.service().to_owned();
        Self {
            inner: Arc::new(Inner {
                peer,
                replicas,
                in_flight: Arc::new(Semaphore::new(
                    usize::try_from(args.peer_max_in_flight).unwrap_or(usize::MAX),
                )),
                max_in_flight: args.peer_max_in_flight,
                failures: AtomicU32::new(0),
                open: AtomicBool::new(false),
                failures_to_open: args.breaker_failures,
                cool_down: Duration::from_millis(args.breaker_cool_down_ms),
                probe_timeout,
                http,
            }),
        }
    }

    /// Lets a call through, or refuses it at once, unsent: `Unreachable`
    /// (API.md's 503), which tells a saga the step did nothing.
    pub fn admit(&self) -> Result<Admitted, ShopError> {
        let inner = &self.inner;
        if inner.open.load(Ordering::Acquire) {
            inner.rejected("circuit_open");
            return Err(ShopError::Unreachable(format!(
                "the {} service is failing: its circuit is open (calls fail at once until its /health passes)",
                inner.peer
            )));
        }
        match Arc::clone(&inner.in_flight).try_acquire_owned() {
            Ok(permit) => Ok(Admitted { _permit: permit }),
            Err(_) => {
                inner.rejected("bulkhead_full");
                Err(ShopError::Unreachable(format!(
                    "the {} service already has {} calls in flight from here",
                    inner.peer, inner.max_in_flight
                )))
            }
        }
    }

    /// What became of an admitted call on the wire. A timeout, or an
    /// answer lost on the way, counts towards opening the circuit: those
    /// are what make a caller wait. Any answer at all (an error body too:
    /// the peer is alive, and said no) resets the count. A refused
    /// connection does neither: it failed at once, which is all a circuit
    /// would give, and the balancer already routes around that replica
    /// (`balance.rs`) until its health check passes; counting it would only
    /// keep a restarted service refused for a cool-down after it is back.
    pub fn record<T>(&self, delivered: &Result<T, ShopError>) {
        let inner = &self.inner;
        match delivered {
            Ok(_) => {
                inner.failures.store(0, Ordering::Relaxed);
                return;
            }
            Err(ShopError::Timeout(_) | ShopError::Unconfirmed(_)) => {}
            Err(_) => return,
        }
        let failures = inner.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= inner.failures_to_open && !inner.open.swap(true, Ordering::AcqRel) {
            eprintln!(
                "circuit to the {} service opened after {failures} calls in a row failed; \
                 calls fail at once, its /health is asked every {} ms",
                inner.peer,
                inner.cool_down.as_millis()
            );
            inner.report_state(true);
            tokio::spawn(probe_until_healthy(Arc::clone(inner)));
        }
    }

    /// Whether the circuit is open now.
    pub fn is_open(&self) -> bool {
        self.inner.open.load(Ordering::Acquire)
    }
}

impl Inner {
    fn rejected(&self, reason: &'static str) {
        metrics::peers::rejected(&self.peer, reason);
    }

    fn report_state(&self, open: bool) {
        metrics::peers::circuit(&self.peer, open);
    }

    /// One health check of a replica of the peer: a 200 within the probe's
    /// timeout.
    async fn healthy(&self) -> bool {
        let Some(replica) = self.replicas.pick(&[]) else {
            return false;
        };
        let asked = self
            .http
            .get(format!("{}/health", replica.url()))
            .timeout(self.probe_timeout)
            .send()
            .await;
        matches!(asked, Ok(response) if response.status().is_success())
    }
}

/// The open circuit's own task: after a cool-down, health checks, each
/// starting at least a cool-down after the one before; the first that
/// passes closes the circuit. A check of a frozen peer waits out its own
/// timeout, so one is nearly always in flight, and the moment the peer
/// thaws it answers it.
async fn probe_until_healthy(inner: Arc<Inner>) {
    tokio::time::sleep(inner.cool_down).await;
    let mut probes = 0u32;
    loop {
        let began = tokio::time::Instant::now();
        probes += 1;
        if inner.healthy().await {
            inner.failures.store(0, Ordering::Relaxed);
            inner.open.store(false, Ordering::Release);
            inner.report_state(false);
            eprintln!(
                "circuit to the {} service closed: its /health passed (after {probes} checks)",
                inner.peer
            );
            return;
        }
        tokio::time::sleep_until(began + inner.cool_down).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(max_in_flight: u32, failures: u32) -> Guard {
        // Nothing listens on port 9 of loopback: a probe never passes.
        let replicas = Replicas::one("payments", "http://127.0.0.1:9");
        let args = GuardArgs {
            peer_max_in_flight: max_in_flight,
            breaker_failures: failures,
            breaker_cool_down_ms: 60_000,
        };
        Guard::new(
            replicas,
            args,
            reqwest::Client::new(),
            Duration::from_millis(100),
        )
    }

    #[test]
    fn a_call_past_the_bulkhead_is_refused_unsent_until_one_in_flight_ends() {
        let guard = guard(2, 5);
        let first = guard.admit().expect("room for one");
        let _second = guard.admit().expect("room for two");
        assert!(matches!(guard.admit(), Err(ShopError::Unreachable(_))));
        drop(first);
        assert!(guard.admit().is_ok());
    }

    #[tokio::test]
    async fn the_circuit_opens_after_timeouts_in_a_row_and_an_answer_resets_the_count() {
        let guard = guard(10, 3);
        let timed_out = || Err::<(), _>(ShopError::Timeout("no answer".into()));
        let refused = || Err::<(), _>(ShopError::Unreachable("refused".into()));
        guard.record(&timed_out());
        guard.record(&timed_out());
        guard.record(&Ok(()));
        guard.record(&timed_out());
        guard.record(&refused());
        guard.record(&timed_out());
        assert!(
            !guard.is_open(),
            "an answer resets the count; a refusal is not counted"
        );
        assert!(guard.admit().is_ok());
        guard.record(&timed_out());
        assert!(guard.is_open());
        assert!(matches!(guard.admit(), Err(ShopError::Unreachable(_))));
    }
}
