//! Placing and cancelling an order in the microservices: a saga.
//!
//! The orders service owns only the orders tables; stock lives in the catalog
//! service's database and money in the payments service's. No transaction
//! spans them, so each step commits on its own, and a failure is undone by
//! compensations: release the stock, refund the charge. Compare
//! `monolith/src/checkout.rs`: the same steps in the same order, the same
//! rules (`quote`, `ensure_cancellable`) and the same component interfaces,
//! where one rollback undoes everything. This code never sees HTTP: it drives
//! `Users + Catalog + Payments`, which the service hands it as
//! `shoplab_service::remote::Remote` and a test may hand it in process.
//!
//! ```text
//!  POST /orders                                   (every box is one write to
//!     │ quote: user, products, prices — nothing     the orders database, made
//!     │ written, so a failure keeps no order        before the step it names)
//!     ▼
//!  ┌─────────────────────────┐  reserve refused (stock)      ┌──────────────┐
//!  │ pending, saga=reserve   │──────────────────────────────▶│ failed       │
//!  └─────────────────────────┘                               └──────────────┘
//!     │ catalog.reserve ok                                          ▲
//!     ▼                                                             │ release,
//!  ┌─────────────────────────┐  any other failure       ┌──────────────────────┐
//!  │ pending, saga=charge    │─────────────────────────▶│ pending,             │
//!  └─────────────────────────┘  (or the runner is gone: │ saga=compensate      │
//!     │ payments.charge ok       recovery takes over)   │ (failure recorded)   │
//!     ▼                                                 └──────────────────────┘
//!  ┌─────────────────────────┐   POST /orders/{id}/cancel   ┌──────────────────┐
//!  │ completed               │─────────────────────────────▶│ completed,       │
//!  └─────────────────────────┘   (intent recorded first)    │ saga=cancel      │
//!                                                           └──────────────────┘
//!                                                              │ release, refund
//!                                                              ▼
//!                                                           ┌──────────────────┐
//!                                                           │ cancelled        │
//!                                                           └──────────────────┘
//! ```
//!
//! Every step is idempotent per order (by its step key), so a step or a
//! compensation may run again, or run for a step whose outcome is unknown,
//! without harm; a compensation that finds nothing to undo bars the step
//! from applying late. Each saga is owned by whoever runs it until its lease
//! runs out (the request's deadline and a second more). If the runner dies
//! or gives up, the recovery loop ([`recover_due`], at start-up and every
//! second) takes the saga over: a placing saga is undone (its caller has
//! been answered with an error, or not at all), a cancel is finished.
//! Failed attempts back off, doubling up to a few seconds.
//!
//! An order is counted (`shoplab_common::metrics::orders`) where its saga's
//! record ends, a compare-and-set only one runner wins, so each order counts
//! once whoever ends it; the monolith counts when its transaction commits.

use std::time::Duration;

use shoplab_common::components::{Catalog, Payments, Users};
use shoplab_common::db::{conn_within, write_transaction_within, Pool};
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::{Order, OrderId, OrderRef, OrderStatus};
use shoplab_common::http::place_order::LEASE_GRACE;
use shoplab_common::metrics::orders as counted;
use shoplab_common::orders::checkout::{self, Checkout, PlaceOrder, Placed};
use shoplab_common::orders::saga::{self as record, Lease, Saga, Step};
use shoplab_common::orders::store;
use shoplab_common::ShopError;

/// How an order service runs its orders (`--tx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Tx {
    /// A saga with recorded state, compensations and recovery.
    #[default]
    Saga,
    /// The same calls in the same order with no saga state and no
    /// compensation: only there to show what goes wrong without a saga.
    Naive,
}

/// The shortest and longest wait before recovery tries a saga again.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// How often a request waiting for another runner's saga looks again.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// One request's (or one recovery pass's) view of the saga: the orders
/// database, the other components, and the deadline it works within.
pub struct SagaRunner<S> {
    pub pool: Pool,
    pub shop: S,
    pub deadline: Deadline,
}

/// What undoing a failed placement must give back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Undo {
    stock: bool,
    money: bool,
}

impl Undo {
    const ALL: Undo = Undo {
        stock: true,
        money: true,
    };
}

/// Whether a failed step certainly did nothing: the component refused it
/// (its own transaction rolled back), or the request never reached it.
/// Anything else — a timeout, a lost answer, a 5xx (the peer may have
/// committed before failing) — may have applied, so it is undone to be
/// sure.
fn refused(error: &ShopError) -> bool {
    matches!(
        error,
        ShopError::InsufficientStock(_)
            | ShopError::InsufficientFunds(_)
            | ShopError::NotFound(_)
            | ShopError::InvalidRequest(_)
            | ShopError::Unreachable(_)
    )
}

impl<S: Users + Catalog + Payments> SagaRunner<S> {
    fn lease(&self) -> Lease {
        Lease::for_next(self.deadline.remaining() + LEASE_GRACE)
    }

    /// The saga's own bookkeeping may run a little past the request's
    /// deadline (within its lease): a step that timed out must still be
    /// recorded as failed, and why, or the order would end with another
    /// reason than the one its caller was given.
    fn bookkeeping(&self) -> Deadline {
        self.deadline.extended(LEASE_GRACE / 2)
    }

    /// Runs `work` in one write transaction of the orders database.
    fn write<T>(
        &self,
        work: impl FnOnce(&mut shoplab_common::db::DbConnection) -> Result<T, ShopError>,
    ) -> Result<T, ShopError> {
        let deadline = self.bookkeeping();
        let mut conn = conn_within(&self.pool, deadline)?;
        write_transaction_within(&mut conn, deadline, work)
    }

    fn read<T>(
        &self,
        work: impl FnOnce(&mut shoplab_common::db::DbConnection) -> Result<T, ShopError>,
    ) -> Result<T, ShopError> {
        work(&mut *conn_within(&self.pool, self.bookkeeping())?)
    }

    /// Places an order: records it with its saga, then runs the steps.
    fn place_order(&mut self, request: PlaceOrder) -> Result<Placed, ShopError> {
        let quote = checkout::quote(&mut self.shop, &request)?;
        let lease = self.lease();
        let key = request.idempotency_key.as_ref();
        let (order, reference) =
            self.write(|conn| store::insert(conn, &quote, key, Some(lease)))?;
        // From here on the order is kept: every way out is a `Placed`.
        if let Err(error) = self.shop.reserve(&reference, request.items.lines()) {
            let undo = Undo {
                stock: !refused(&error),
                money: false,
            };
            return Ok(self.fail(order, &reference, Step::Reserve, error, undo));
        }
        match self
            .write(|conn| record::advance(conn, reference.id, Step::Reserve, Step::Charge, None))
        {
            Ok(true) => {}
            Ok(false) => return Ok(self.await_other_runner(order)),
            Err(error) => return Ok(self.give_up(order, &reference, error)),
        }
        if let Err(error) = self.shop.charge(&reference, quote.user, quote.total) {
            let undo = Undo {
                stock: true,
                money: !refused(&error),
            };
            return Ok(self.fail(order, &reference, Step::Charge, error, undo));
        }
        let (from, to) = (Step::Charge, OrderStatus::Completed);
        match self.write(|conn| record::end(conn, reference.id, from, to, None)) {
            Ok(true) => {
                counted::completed();
                Ok(Placed::Completed(Order {
                    status: to,
                    ..order
                }))
            }
            Ok(false) => Ok(self.await_other_runner(order)),
            // The money moved but the order could not be marked: it stays
            // `pending` at `charge`, and recovery undoes it.
            Err(error) => Ok(self.give_up(order, &reference, error)),
        }
    }

    /// A step failed: record that the order is being undone, and why, then
    /// undo. If undoing fails too, the order stays `pending` (compensating)
    /// for recovery to finish; the caller gets the step's error either way.
    fn fail(
        &mut self,
        order: Order,
        reference: &OrderRef,
        at: Step,
        error: ShopError,
        undo: Undo,
    ) -> Placed {
        let code = error.code();
        match self
            .write(|conn| record::advance(conn, reference.id, at, Step::Compensate, Some(code)))
        {
            Ok(true) => counted::compensating(at),
            Ok(false) => return self.await_other_runner(order),
            Err(_) => return self.give_up(order, reference, error),
        }
        match self.compensate(reference, code, undo) {
            Ok(true) => Placed::Failed {
                order: Order {
                    status: OrderStatus::Failed,
                    failure: Some(code.to_owned()),
                    ..order
                },
                error,
            },
            Ok(false) => self.await_other_runner(order),
            Err(compensation) => {
                eprintln!("{reference}: undoing failed ({compensation}); recovery will retry");
                self.give_up(order, reference, error)
            }
        }
    }

    /// Gives back what `undo` names (stock, then money, the order of the
    /// monolith's locks) and marks the order `failed` with `code`. False if
    /// another runner ended the saga first.
    fn compensate(
        &mut self,
        reference: &OrderRef,
        code: &str,
        undo: Undo,
    ) -> Result<bool, ShopError> {
        if undo.stock {
            self.shop.release(reference)?;
        }
        if undo.money {
            self.shop.refund(reference)?;
        }
        let (from, to) = (Step::Compensate, OrderStatus::Failed);
        let ended = self.write(|conn| record::end(conn, reference.id, from, to, Some(code)))?;
        if ended {
            counted::failed(code);
        }
        Ok(ended)
    }

    /// This runner cannot finish the saga now: hand it to recovery soon (a
    /// short lease instead of the rest of ours), and answer that the order
    /// has not settled.
    fn give_up(&self, order: Order, reference: &OrderRef, error: ShopError) -> Placed {
        let soon = Lease::for_next(BACKOFF_FIRST);
        let pool = self.pool.clone();
        // Best effort with a connection of its own: if the database is what
        // failed, the lease simply runs out later.
        if let Ok(mut conn) = pool.get_timeout(Duration::from_millis(100)) {
            let _ = record::postpone(&mut conn, reference.id, soon);
        }
        Placed::Pending { order, error }
    }

    /// Another runner (recovery, or a request that took the order over)
    /// owns the saga now: wait, within the deadline, for it to settle.
    fn await_other_runner(&self, order: Order) -> Placed {
        let id = OrderId::from_db(order.id);
        loop {
            match self.read(|conn| store::find(conn, id)) {
                Ok(now) if now.status != OrderStatus::Pending => return Placed::settled(now),
                Ok(_) if self.deadline.remaining() > POLL_EVERY => std::thread::sleep(POLL_EVERY),
                Ok(now) => return Placed::settled(now),
                Err(error) => return Placed::Pending { order, error },
            }
        }
    }

    /// Drives a saga this runner has just taken over to its end: undoes a
    /// placement, or finishes a cancel.
    fn drive(&mut self, saga: &Saga) -> Result<(), ShopError> {
        match saga.step {
            Some(Step::Cancel) => self.finish_cancel(&saga.order).map(drop),
            Some(_) => {
                let code = saga.failure.as_deref().unwrap_or("service_unavailable");
                self.compensate(&saga.order, code, Undo::ALL).map(drop)
            }
            None => Ok(()),
        }
    }

    /// Takes over order `id`'s saga if its lease has run out, and drives it.
    /// `Ok(false)` if there is nothing to take over (it has ended, or its
    /// runner is alive, or another took it first).
    fn take_over(&mut self, id: OrderId) -> Result<bool, ShopError> {
        let saga = self.read(|conn| record::load(conn, id))?;
        if saga.step.is_none() || saga.lease.until_ms() >= record::now_ms() {
            return Ok(false);
        }
        let lease = self.lease();
        if !self.write(|conn| record::take_over(conn, &saga, lease))? {
            return Ok(false);
        }
        let taken = record::load(&mut *conn_within(&self.pool, self.deadline)?, id)?;
        let driven = self.drive(&taken);
        counted::recovered(driven.is_ok());
        if let Err(error) = driven {
            let attempts = u32::try_from(taken.attempts).unwrap_or(u32::MAX);
            let backoff = BACKOFF_FIRST
                .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1)))
                .min(BACKOFF_MAX);
            self.write(|conn| record::postpone(conn, id, Lease::for_next(backoff)))?;
            return Err(error);
        }
        Ok(true)
    }

    /// Sees order `id` to its end: takes its saga over if its runner is
    /// gone, or waits for the runner within the deadline.
    fn resume_order(&mut self, id: OrderId) -> Result<Placed, ShopError> {
        loop {
            let order = self.read(|conn| store::find(conn, id))?;
            let saga = self.read(|conn| record::load(conn, id))?;
            if saga.step.is_none() {
                return Ok(Placed::settled(order));
            }
            match self.take_over(id) {
                Ok(true) => return Ok(Placed::settled(self.read(|conn| store::find(conn, id))?)),
                Ok(false) if self.deadline.remaining() > POLL_EVERY => {
                    std::thread::sleep(POLL_EVERY)
                }
                Ok(false) => return Ok(Placed::settled(order)),
                Err(error) => return Ok(Placed::Pending { order, error }),
            }
        }
    }

    /// Cancels a `completed` order: records the intent, then returns the
    /// stock and the money, then marks it `cancelled`. If a step fails the
    /// caller gets its error and the order stays `completed` with the cancel
    /// in flight, which recovery finishes.
    pub fn cancel(&mut self, id: OrderId) -> Result<Order, ShopError> {
        let lease = self.lease();
        if !self.write(|conn| record::begin_cancel(conn, id, lease))? {
            let saga = self.read(|conn| record::load(conn, id))?;
            if saga.step == Some(Step::Cancel) && self.take_over(id)? {
                return self.read(|conn| store::find(conn, id));
            }
            let order = self.read(|conn| store::find(conn, id))?;
            if saga.step == Some(Step::Cancel) {
                return Err(ShopError::InvalidState(format!(
                    "order {id} is being cancelled by another request"
                )));
            }
            checkout::ensure_cancellable(&order)?;
            return Err(ShopError::InvalidState(format!(
                "order {id} changed while it was being cancelled"
            )));
        }
        let reference = self.read(|conn| store::find_ref(conn, id))?;
        match self.finish_cancel(&reference) {
            Ok(order) => Ok(order),
            Err(error) => {
                let soon = Lease::for_next(BACKOFF_FIRST);
                let _ = self.write(|conn| record::postpone(conn, id, soon));
                Err(error)
            }
        }
    }

    /// The steps of a cancel whose intent is recorded.
    fn finish_cancel(&mut self, reference: &OrderRef) -> Result<Order, ShopError> {
        self.shop.release(reference)?;
        self.shop.refund(reference)?;
        let (from, to) = (Step::Cancel, OrderStatus::Cancelled);
        self.write(|conn| record::end(conn, reference.id, from, to, None))?;
        self.read(|conn| store::find(conn, reference.id))
    }
}

impl<S: Users + Catalog + Payments + Send + 'static> Checkout for SagaRunner<S> {
    fn place(&mut self, request: PlaceOrder) -> Result<Placed, ShopError> {
        self.place_order(request)
    }

    fn resume(&mut self, order: OrderId) -> Result<Placed, ShopError> {
        self.resume_order(order)
    }
}

/// One pass of the recovery loop: takes over every saga whose lease has run
/// out and drives it to its end. `runner` makes a runner with a fresh
/// deadline for each saga. Returns how many sagas it ended.
pub fn recover_due<S: Users + Catalog + Payments>(
    pool: &Pool,
    mut runner: impl FnMut() -> SagaRunner<S>,
) -> Result<usize, ShopError> {
    let due = record::due(&mut *pool.get()?, 100)?;
    let mut ended = 0;
    for id in due {
        let mut runner = runner();
        match runner.take_over(id) {
            Ok(true) => {
                let order = runner.read(|conn| store::find(conn, id))?;
                eprintln!("recovery: order {id} ended {}", order.status);
                ended += 1;
            }
            Ok(false) => {}
            Err(error) => eprintln!("recovery: order {id} not ended yet ({error}); will retry"),
        }
    }
    Ok(ended)
}

/// Reports how many sagas the orders database holds unended (when metrics
/// are on): the recovery loop calls it after each pass.
pub fn report_in_flight(pool: &Pool) {
    if !shoplab_common::metrics::enabled() {
        return;
    }
    match pool
        .get()
        .map_err(ShopError::from)
        .and_then(|mut conn| record::in_flight(&mut conn))
    {
        Ok(count) => counted::in_flight(count),
        Err(error) => eprintln!("metrics: cannot count the sagas in flight ({error})"),
    }
}

/// The naive way: the same calls in the same order, with no saga state and
/// no compensation. A failure after the stock was taken leaves it taken; a
/// crash mid-way leaves the order `pending` for ever. Only for the chaos
/// experiment to show what a saga is for.
pub struct Naive<S> {
    pub pool: Pool,
    pub shop: S,
    pub deadline: Deadline,
}

impl<S: Users + Catalog + Payments> Naive<S> {
    fn mark(&self, id: OrderId, to: OrderStatus, failure: Option<&str>) -> Result<(), ShopError> {
        let mut conn = conn_within(&self.pool, self.deadline)?;
        write_transaction_within(&mut conn, self.deadline, |conn| {
            store::transition(conn, id, OrderStatus::Pending, to, failure)
        })?;
        Ok(())
    }

    /// Refunds, returns the stock, marks the order `cancelled`: no intent
    /// recorded, nothing resumed.
    pub fn cancel(&mut self, id: OrderId) -> Result<Order, ShopError> {
        let mut conn = conn_within(&self.pool, self.deadline)?;
        let order = store::find(&mut conn, id)?;
        checkout::ensure_cancellable(&order)?;
        let reference = store::find_ref(&mut conn, id)?;
        drop(conn);
        self.shop.release(&reference)?;
        self.shop.refund(&reference)?;
        let mut conn = conn_within(&self.pool, self.deadline)?;
        write_transaction_within(&mut conn, self.deadline, |conn| {
            let (from, to) = (OrderStatus::Completed, OrderStatus::Cancelled);
            store::transition(conn, id, from, to, None)
        })?;
        store::find(&mut conn, id)
    }
}

impl<S: Users + Catalog + Payments + Send + 'static> Checkout for Naive<S> {
    fn place(&mut self, request: PlaceOrder) -> Result<Placed, ShopError> {
        let quote = checkout::quote(&mut self.shop, &request)?;
        let key = request.idempotency_key.as_ref();
        let mut conn = conn_within(&self.pool, self.deadline)?;
        let (order, reference) = write_transaction_within(&mut conn, self.deadline, |conn| {
            store::insert(conn, &quote, key, None)
        })?;
        drop(conn);
        let id = reference.id;
        let taken = self
            .shop
            .reserve(&reference, request.items.lines())
            .and_then(|()| self.shop.charge(&reference, quote.user, quote.total));
        match taken {
            Ok(()) => {
                self.mark(id, OrderStatus::Completed, None)?;
                counted::completed();
                Ok(Placed::Completed(Order {
                    status: OrderStatus::Completed,
                    ..order
                }))
            }
            Err(error) => {
                self.mark(id, OrderStatus::Failed, Some(error.code()))?;
                counted::failed(error.code());
                Ok(Placed::Failed {
                    order: Order {
                        status: OrderStatus::Failed,
                        failure: Some(error.code().to_owned()),
                        ..order
                    },
                    error,
                })
            }
        }
    }

    fn resume(&mut self, id: OrderId) -> Result<Placed, ShopError> {
        let mut conn = conn_within(&self.pool, self.deadline)?;
        Ok(Placed::settled(store::find(&mut conn, id)?))
    }
}
