//! A bounded cost for a failed peer: what stands between a service (or the
//! gateway) and each service it calls (`remote.rs`), so that one frozen or
//! dead peer costs its callers a bounded number of calls in flight and then
//! almost nothing.
//!
//! - **A limit of the peer's own**: a service gives each call at most
//!   `--call-timeout-ms` (1 s), shorter than a request's deadline (5 s); the
//!   gateway's limit for a service is the longest deadline it passes on
//!   (`--deadline-ms`, 5 s). A peer silent that long is failing.
//! - **A bulkhead**: at most `--peer-max-in-flight` calls (100) to one peer
//!   at once. One more fails at once with 503, instead of queueing behind
//!   the ones that are stuck.
//! - **A circuit breaker** with three states:
//!   - *closed*: calls go through. After `--breaker-failures` (5) calls in a
//!     row that are the peer's failures, it opens;
//!   - *open*: every call fails at once with 503 `service_unavailable`,
//!     unsent (so a saga knows the step did nothing), for
//!     `--breaker-cool-down-ms` (1 s);
//!   - *half-open*: then up to `--breaker-trials` (3) real calls go through
//!     as trials, the rest still fail at once. It closes once that many
//!     trials in a row were answered, and reopens at the first that fails.
//!     A peer that passes its `/health` (`SELECT 1`) but hangs on its real
//!     work stays open: only real calls decide.
//!
//! **Only the peer's own failures count against it.** A call counts as the
//! peer's failure when the peer was silent for its whole limit (a timeout,
//! or an abandoned call, below), or when its connection broke after the
//! call was sent. A call that ran out of *its caller's* time first, because
//! the request's deadline (`X-Deadline-Ms`, which any client may set) had
//! less left than the peer's limit, is the caller's failure and moves
//! nothing; so is a call whose own client went away before the limit. A
//! call dropped unanswered (its client left, the future dropped) still
//! tells the breaker how long the peer had been silent: past the peer's
//! limit, it counts. Any answer at all (an error body too: the peer is
//! alive and said no) is a success. A refused connection moves nothing
//! while closed (it failed at once, which is all a circuit would give, and
//! the balancer already routes around that replica, `balance.rs`), but a
//! trial refused that way reopens the circuit. docs/SAGA.md states the
//! same rule.
//!
//! Each state change is one line on stderr, and, with metrics on, the state,
//! the changes and the rejections are in `/metrics` (docs/METRICS.md). The
//! monolith has none of this: a function call cannot hang on a network
//! (`monolith/src/checkout.rs`), which is the point of comparing them.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use shoplab_common::metrics;
use shoplab_common::ShopError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The defaults: what `shoplab up micro` runs with, chosen to meet the
/// frozen-payments targets of `shoplab isolation` (README, "a split system
/// must fail fast").
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 100;
pub const DEFAULT_BREAKER_FAILURES: u32 = 5;
pub const DEFAULT_COOL_DOWN_MS: u64 = 1000;
pub const DEFAULT_TRIALS: u32 = 3;

/// The bulkhead and breaker flags of a service that calls others.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct GuardArgs {
    /// The most calls in flight to one peer service at once; one more fails
    /// at once with 503 instead of waiting behind them.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_IN_FLIGHT,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub peer_max_in_flight: u32,
    /// After this many calls in a row to one peer are the peer's failures
    /// (silent for its whole limit, or cut off after they were sent), its
    /// circuit opens: calls fail at once with 503.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BREAKER_FAILURES,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub breaker_failures: u32,
    /// How long an open circuit fails every call at once before it lets
    /// trial calls through (half-open).
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_COOL_DOWN_MS,
          value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub breaker_cool_down_ms: u64,
    /// How many real calls a half-open circuit lets through at once as
    /// trials; it closes when that many in a row are answered, and reopens
    /// at the first that fails.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TRIALS,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub breaker_trials: u32,
}

impl Default for GuardArgs {
    fn default() -> Self {
        Self {
            peer_max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            breaker_failures: DEFAULT_BREAKER_FAILURES,
            breaker_cool_down_ms: DEFAULT_COOL_DOWN_MS,
            breaker_trials: DEFAULT_TRIALS,
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
    in_flight: Arc<Semaphore>,
    max_in_flight: u32,
    failures_to_open: u32,
    cool_down: Duration,
    trials: u32,
    /// How long the peer may be silent before that is its failure.
    limit: Duration,
    circuit: Mutex<Circuit>,
}

/// The breaker's state. Each time it turns half-open it starts a new
/// `round`, so a trial admitted in an earlier round cannot close or reopen
/// a later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Circuit {
    Closed { failures: u32 },
    Open { until: Instant, round: u64 },
    HalfOpen { round: u64, out: u32, passed: u32 },
}

/// How a call went, as far as the peer's health goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The peer answered.
    Answered,
    /// The peer's own failure.
    PeerFailed,
    /// Nothing is known of the peer: the caller ran out of time first, or
    /// the connection was refused while the circuit was closed.
    Unknown,
}

/// A call's place in the bulkhead (and, half-open, its trial), held until
/// it is recorded. Dropped unrecorded (its client left), it still tells the
/// breaker how long the peer had been silent.
pub struct Admitted {
    guard: Guard,
    began: Instant,
    /// The half-open round this call is a trial of.
    trial: Option<u64>,
    recorded: bool,
    _permit: OwnedSemaphorePermit,
}

impl Guard {
    /// The guard of the service `peer`: a call silent for `limit` is the
    /// peer's failure.
    pub fn new(peer: &str, args: GuardArgs, limit: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                peer: peer.to_owned(),
                in_flight: Arc::new(Semaphore::new(
                    usize::try_from(args.peer_max_in_flight).unwrap_or(usize::MAX),
                )),
                max_in_flight: args.peer_max_in_flight,
                failures_to_open: args.breaker_failures,
                cool_down: Duration::from_millis(args.breaker_cool_down_ms),
                trials: args.breaker_trials,
                limit,
                circuit: Mutex::new(Circuit::Closed { failures: 0 }),
            }),
        }
    }

    /// Lets a call through, or refuses it at once, unsent: `Unreachable`
    /// (API.md's 503), which tells a saga the step did nothing.
    pub fn admit(&self) -> Result<Admitted, ShopError> {
        let inner = &self.inner;
        let trial = {
            let mut circuit = inner.circuit();
            let now = Instant::now();
            if let Circuit::Open { until, round } = *circuit {
                if now < until {
                    drop(circuit);
                    inner.rejected("circuit_open");
                    return Err(ShopError::Unreachable(format!(
                        "the {} service is failing: its circuit is open (calls fail at once \
                         for {} ms, then a few go through as trials)",
                        inner.peer,
                        inner.cool_down.as_millis()
                    )));
                }
                *circuit = Circuit::HalfOpen {
                    round: round + 1,
                    out: 0,
                    passed: 0,
                };
                inner.changed("half_open", "half-open: trial calls go through");
            }
            match &mut *circuit {
                Circuit::HalfOpen { out, .. } if *out >= inner.trials => {
                    drop(circuit);
                    inner.rejected("circuit_half_open");
                    return Err(ShopError::Unreachable(format!(
                        "the {} service is failing: its circuit is half-open and its {} trial \
                         calls are in flight",
                        inner.peer, inner.trials
                    )));
                }
                Circuit::HalfOpen { round, out, .. } => {
                    *out += 1;
                    Some(*round)
                }
                _ => None,
            }
        };
        match Arc::clone(&inner.in_flight).try_acquire_owned() {
            Ok(permit) => Ok(Admitted {
                guard: self.clone(),
                began: Instant::now(),
                trial,
                recorded: false,
                _permit: permit,
            }),
            Err(_) => {
                if let Some(round) = trial {
                    inner.settle(Some(round), Verdict::Unknown);
                }
                inner.rejected("bulkhead_full");
                Err(ShopError::Unreachable(format!(
                    "the {} service already has {} calls in flight from here",
                    inner.peer, inner.max_in_flight
                )))
            }
        }
    }

    /// Whether the circuit refuses calls now (open, or half-open with every
    /// trial out).
    pub fn is_open(&self) -> bool {
        match *self.inner.circuit() {
            Circuit::Closed { .. } => false,
            Circuit::Open { until, .. } => Instant::now() < until,
            Circuit::HalfOpen { out, .. } => out >= self.inner.trials,
        }
    }
}

impl Admitted {
    /// What became of the call on the wire (see the module's rule).
    pub fn record<T>(mut self, delivered: &Result<T, ShopError>) {
        self.recorded = true;
        let silent_for_its_limit = self.began.elapsed() >= self.guard.inner.limit;
        let verdict = match delivered {
            Err(ShopError::Timeout(_)) if silent_for_its_limit => Verdict::PeerFailed,
            Err(ShopError::Timeout(_)) => Verdict::Unknown,
            Err(ShopError::Unconfirmed(_)) => Verdict::PeerFailed,
            // Refused: the peer is down. While closed, the balancer handles
            // it; a trial refused means the peer is not back.
            Err(ShopError::Unreachable(_)) if self.trial.is_some() => Verdict::PeerFailed,
            Err(ShopError::Unreachable(_)) => Verdict::Unknown,
            _ => Verdict::Answered,
        };
        self.guard.inner.settle(self.trial, verdict);
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if self.recorded {
            return;
        }
        // Abandoned: its client left (or its task was dropped) before the
        // peer answered.
        let verdict = if self.began.elapsed() >= self.guard.inner.limit {
            Verdict::PeerFailed
        } else {
            Verdict::Unknown
        };
        self.guard.inner.settle(self.trial, verdict);
    }
}

impl Inner {
    /// The breaker's state. A panic while holding the lock leaves a valid
    /// state (every write is one assignment), so a poisoned lock is used
    /// as it is.
    fn circuit(&self) -> MutexGuard<'_, Circuit> {
        self.circuit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies one call's verdict. `trial`: the half-open round it was a
    /// trial of, if any; a call admitted while closed moves only a closed
    /// circuit.
    fn settle(&self, trial: Option<u64>, verdict: Verdict) {
        let mut circuit = self.circuit();
        match (*circuit, trial) {
            (Circuit::Closed { failures }, None) => match verdict {
                Verdict::Answered => *circuit = Circuit::Closed { failures: 0 },
                Verdict::Unknown => {}
                Verdict::PeerFailed if failures + 1 >= self.failures_to_open => {
                    *circuit = self.opened(0);
                    self.changed(
                        "open",
                        &format!(
                            "open after {} calls in a row failed; calls fail at once for {} ms",
                            failures + 1,
                            self.cool_down.as_millis()
                        ),
                    );
                }
                Verdict::PeerFailed => {
                    *circuit = Circuit::Closed {
                        failures: failures + 1,
                    }
                }
            },
            (Circuit::HalfOpen { round, out, passed }, Some(of)) if of == round => match verdict {
                Verdict::Answered if passed + 1 >= self.trials => {
                    *circuit = Circuit::Closed { failures: 0 };
                    self.changed(
                        "closed",
                        &format!("closed: {} trial calls in a row were answered", passed + 1),
                    );
                }
                Verdict::Answered => {
                    *circuit = Circuit::HalfOpen {
                        round,
                        out: out.saturating_sub(1),
                        passed: passed + 1,
                    }
                }
                Verdict::Unknown => {
                    *circuit = Circuit::HalfOpen {
                        round,
                        out: out.saturating_sub(1),
                        passed,
                    }
                }
                Verdict::PeerFailed => {
                    *circuit = self.opened(round);
                    self.changed(
                        "open",
                        &format!(
                            "open again: a trial call failed; calls fail at once for {} ms",
                            self.cool_down.as_millis()
                        ),
                    );
                }
            },
            // A call from before the circuit last changed: what it says
            // is about a peer as it was then.
            _ => {}
        }
    }

    fn opened(&self, round: u64) -> Circuit {
        Circuit::Open {
            until: Instant::now() + self.cool_down,
            round,
        }
    }

    fn rejected(&self, reason: &'static str) {
        metrics::peers::rejected(&self.peer, reason);
    }

    /// One state change: the event (a warning when the circuit opens),
    /// and the metrics.
    fn changed(&self, to: &'static str, why: &str) {
        if to == "open" {
            tracing::warn!(peer = %self.peer, to, "circuit to the {} service {why}", self.peer);
        } else {
            tracing::info!(peer = %self.peer, to, "circuit to the {} service {why}", self.peer);
        }
        metrics::peers::circuit(&self.peer, to);
    }
}

#[cfg(test)]
mod tests;
