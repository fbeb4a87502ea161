//! The database pool, seen from outside: how many connections are taken,
//! how often a request waited for one, and how long. r2d2 tells its event
//! handler of every checkout, checkin and timeout; [`PoolEvents`] turns
//! them into metrics. A pool whose connections are all in use, with waits
//! growing, is where a hung component holds up every other route of the
//! monolith (docs/DESIGN.md, fault isolation).

use ::metrics::{Counter, Gauge, Histogram};
use diesel::r2d2::event::{CheckinEvent, CheckoutEvent, TimeoutEvent};
use diesel::r2d2::HandleEvent;

use super::{
    DB_CONNECTIONS_IN_USE, DB_CONNECTIONS_MAX, DB_CONNECTION_WAITS, DB_CONNECTION_WAIT_DURATION,
};

/// The metrics of one pool, labelled with its `database`. Each handle is
/// registered once, when the pool is built, so an event costs an atomic
/// update and nothing more.
#[derive(Debug)]
pub struct PoolEvents {
    in_use: Gauge,
    waited: Counter,
    timed_out: Counter,
    wait: Histogram,
}

impl PoolEvents {
    /// The metrics of a pool of at most `max_size` connections to the
    /// database named `database` (a component's, or `shop` for the
    /// monolith's one database).
    pub fn new(database: &str, max_size: u32) -> Self {
        let database = database.to_owned();
        ::metrics::gauge!(DB_CONNECTIONS_MAX, "database" => database.clone()).set(max_size);
        Self {
            in_use: ::metrics::gauge!(DB_CONNECTIONS_IN_USE, "database" => database.clone()),
            waited: ::metrics::counter!(
                DB_CONNECTION_WAITS,
                "database" => database.clone(),
                "outcome" => "ok",
            ),
            timed_out: ::metrics::counter!(
                DB_CONNECTION_WAITS,
                "database" => database.clone(),
                "outcome" => "timeout",
            ),
            wait: ::metrics::histogram!(DB_CONNECTION_WAIT_DURATION, "database" => database),
        }
    }
}

impl HandleEvent for PoolEvents {
    /// A connection was handed out after `duration` (its wait, including
    /// r2d2's check that the connection still works).
    fn handle_checkout(&self, event: CheckoutEvent) {
        self.in_use.increment(1.0);
        self.waited.increment(1);
        self.wait.record(event.duration().as_secs_f64());
    }

    fn handle_checkin(&self, _event: CheckinEvent) {
        self.in_use.decrement(1.0);
    }

    /// No connection came free within the caller's time.
    fn handle_timeout(&self, event: TimeoutEvent) {
        self.timed_out.increment(1);
        self.wait.record(event.timeout().as_secs_f64());
    }
}
