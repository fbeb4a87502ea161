//! The lab's metrics: every name a process reports, what it means, and the
//! one switch that turns them on. docs/METRICS.md lists them for a reader
//! with a PromQL query each.
//!
//! A split system must be observed to be understood: where does an order
//! spend its time, in a function call or on the network? The same names
//! are reported by both deployments (a component call is
//! `shoplab_component_calls_total` whether it was a function call in the
//! monolith or an HTTP request between services), so one query compares
//! them.
//!
//! Metrics are off unless a process is given `--metrics-addr`
//! (`shoplab_http::settings`): then `shoplab_http::metrics::install` puts
//! the Prometheus recorder in place, calls [`turn_on`] and serves the
//! recorder on that address. Off, no recorder exists, and every place that
//! measures first asks [`enabled`], a single atomic load, and does nothing
//! else: the lab's measurements run without metrics, as they run without
//! hop logs. The domain records through the `metrics` facade only; which
//! exporter renders it is the edge's business.

pub mod orders;
pub mod peers;
pub mod pool;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use ::metrics::{describe_counter, describe_gauge, describe_histogram, Gauge};

/// Requests served, by route template, method and status.
pub const HTTP_REQUESTS: &str = "shoplab_http_requests_total";
/// How long requests took to answer, by route template and method.
pub const HTTP_REQUEST_DURATION: &str = "shoplab_http_request_duration_seconds";
/// Calls of one component's interface by another, by outcome.
pub const COMPONENT_CALLS: &str = "shoplab_component_calls_total";
/// How long those calls took.
pub const COMPONENT_CALL_DURATION: &str = "shoplab_component_call_duration_seconds";
/// Database connections taken out of the pool now.
pub const DB_CONNECTIONS_IN_USE: &str = "shoplab_db_connections_in_use";
/// The most connections the pool holds.
pub const DB_CONNECTIONS_MAX: &str = "shoplab_db_connections_max";
/// Waits for a connection from the pool, by outcome (`ok`, `timeout`).
pub const DB_CONNECTION_WAITS: &str = "shoplab_db_connection_waits_total";
/// How long those waits took.
pub const DB_CONNECTION_WAIT_DURATION: &str = "shoplab_db_connection_wait_seconds";
/// Threads of the blocking pool running work now.
pub const BLOCKING_THREADS_BUSY: &str = "shoplab_blocking_threads_busy";
/// Orders placed that completed.
pub const ORDERS_COMPLETED: &str = "shoplab_orders_completed_total";
/// Orders placed that failed, by API.md's error code.
pub const ORDERS_FAILED: &str = "shoplab_orders_failed_total";
/// Sagas not yet ended, as the orders database records them.
pub const SAGAS_IN_FLIGHT: &str = "shoplab_sagas_in_flight";
/// Placements undone after a failed step, by the step that failed.
pub const SAGA_COMPENSATIONS: &str = "shoplab_saga_compensations_total";
/// Sagas taken over after their runner was gone, by outcome.
pub const SAGA_RECOVERIES: &str = "shoplab_saga_recoveries_total";
/// Whether the circuit to a peer service refuses calls (1: open or
/// half-open) or is closed (0).
pub const PEER_CIRCUIT_OPEN: &str = "shoplab_peer_circuit_open";
/// The circuit's changes of state, by peer and the state it went to.
pub const PEER_CIRCUIT_CHANGES: &str = "shoplab_peer_circuit_changes_total";
/// Calls to a peer refused before they were sent, by peer and reason.
pub const PEER_CALLS_REJECTED: &str = "shoplab_peer_calls_rejected_total";

/// The upper bounds, in seconds, of every duration histogram's buckets:
/// from 25 µs (an in-process call) to 10 s (past the default deadline of
/// 5 s), about three per decade. Histograms, not summaries: buckets add up
/// across processes and time, so Prometheus can compute any quantile of a
/// whole deployment with `histogram_quantile`.
pub const DURATION_BUCKETS: [f64; 18] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether this process reports metrics: the question every place that
/// measures asks first.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Says that a recorder is in place from now on, and describes every
/// metric to it: called once by the edge that installed it.
pub fn turn_on() {
    if !ENABLED.swap(true, Ordering::Relaxed) {
        describe_all();
    }
}

/// One `# HELP` line per metric.
fn describe_all() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests served, by route template (`unmatched` for a path no \
         route has), method and status."
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        "Seconds from a request's arrival to its answer's head, by route \
         template and method."
    );
    describe_counter!(
        COMPONENT_CALLS,
        "Calls one component made to another's interface (a function call in \
         the monolith, an HTTP request between services), by component, \
         operation and outcome (ok, refused, timeout, unavailable)."
    );
    describe_histogram!(
        COMPONENT_CALL_DURATION,
        "Seconds one component's call to another took, by component and \
         operation."
    );
    describe_gauge!(
        DB_CONNECTIONS_IN_USE,
        "Database connections taken out of the process's pool now."
    );
    describe_gauge!(
        DB_CONNECTIONS_MAX,
        "The most connections the process's database pool holds."
    );
    describe_counter!(
        DB_CONNECTION_WAITS,
        "Requests for a pooled database connection, by outcome (ok, timeout)."
    );
    describe_histogram!(
        DB_CONNECTION_WAIT_DURATION,
        "Seconds spent waiting for a pooled database connection."
    );
    describe_gauge!(
        BLOCKING_THREADS_BUSY,
        "Threads of the blocking pool running work (database and component \
         calls) now."
    );
    describe_counter!(ORDERS_COMPLETED, "Orders placed that completed.");
    describe_counter!(
        ORDERS_FAILED,
        "Orders placed that were refused and kept as failed, by API.md's error \
         code."
    );
    describe_gauge!(
        SAGAS_IN_FLIGHT,
        "Orders whose saga (placing or cancelling) has not ended, as the \
         orders database records them."
    );
    describe_counter!(
        SAGA_COMPENSATIONS,
        "Placements undone (stock released, money refunded) after a step \
         failed, by the step that failed."
    );
    describe_gauge!(
        PEER_CIRCUIT_OPEN,
        "Whether this process's circuit to a peer service is open or half-open \
         (1: calls fail at once, but for a few trials once the cool-down is \
         over) or closed (0), by peer."
    );
    describe_counter!(
        PEER_CIRCUIT_CHANGES,
        "Changes of state of this process's circuit to a peer service, by peer \
         and the state it went to (open, half_open, closed)."
    );
    describe_counter!(
        PEER_CALLS_REJECTED,
        "Calls to a peer service refused before they were sent, by peer and \
         reason (circuit_open, circuit_half_open, bulkhead_full)."
    );
    describe_counter!(
        SAGA_RECOVERIES,
        "Sagas taken over after their runner was gone, by outcome (ended, or \
         retrying later)."
    );
}

/// A thread of the blocking pool, counted busy while this lives. Work sent
/// to the blocking pool holds one of its threads for its whole length, so
/// a component that hangs shows here first.
pub struct BusyThread(Option<Gauge>);

impl BusyThread {
    /// Counts this thread busy (nothing, when metrics are off), through a
    /// handle registered once.
    pub fn enter() -> Self {
        static BUSY: OnceLock<Gauge> = OnceLock::new();
        BusyThread(enabled().then(|| {
            let gauge = BUSY
                .get_or_init(|| ::metrics::gauge!(BLOCKING_THREADS_BUSY))
                .clone();
            gauge.increment(1.0);
            gauge
        }))
    }
}

impl Drop for BusyThread {
    fn drop(&mut self) {
        if let Some(gauge) = &self.0 {
            gauge.decrement(1.0);
        }
    }
}
