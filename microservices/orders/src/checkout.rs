//! Placing an order in the microservices: a saga (cancelling one is
//! `cancel.rs`, the same runner; the naive way without a saga, `naive.rs`).
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
//! or gives up, the recovery loop (`recovery.rs`, at start-up and every
//! second) takes the saga over: a placing saga is undone (its caller has
//! been answered with an error, or not at all), a cancel is finished.
//! Failed attempts back off, doubling up to a few seconds.
//!
//! An order is counted (`shoplab_common::metrics::orders`) where its saga's
//! record ends, a compare-and-set only one runner wins, so each order counts
//! once whoever ends it; the monolith counts when its transaction commits.

use std::sync::Arc;
use std::time::Duration;

use shoplab_common::components::{Catalog, Payments, Users};
use shoplab_common::db::{conn_within, write_transaction_within, DbConnection, Pool};
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::{Order, OrderId, OrderRef, OrderStatus};
use shoplab_common::faults::FaultPlan;
use shoplab_common::metrics::orders as counted;
use shoplab_common::orders::checkout::{self, Checkout, PlaceOrder, Placed};
use shoplab_common::orders::saga::{self as record, Lease, Step, Token};
use shoplab_common::orders::store;
use shoplab_common::ShopError;
use shoplab_http::place_order::LEASE_GRACE;
use shoplab_http::run_blocking;

use crate::recovery::BACKOFF_FIRST;

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

/// How often a request waiting for another runner's saga looks again.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Runs `work` in one write transaction of the orders database `pool`,
/// within `deadline`, on the blocking pool (diesel blocks; the order's task
/// must not): the saga's bookkeeping and the naive way's writes alike.
pub(crate) async fn in_write_transaction<T: Send + 'static>(
    pool: &Pool,
    deadline: Deadline,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError> + Send + 'static,
) -> Result<T, ShopError> {
    let pool = pool.clone();
    run_blocking(move || {
        let mut conn = conn_within(&pool, deadline)?;
        write_transaction_within(&mut conn, deadline, work)
    })
    .await
}

/// One request's (or one recovery pass's) view of the saga: the orders
/// database, the other components, and the deadline it works within.
pub struct SagaRunner<S> {
    pub pool: Pool,
    pub shop: S,
    pub deadline: Deadline,
    /// The process's fault plan, for the orders component's own write
    /// (`orders.insert`); the other components' are struck where they run.
    pub faults: Arc<FaultPlan>,
}

/// What undoing a failed placement must give back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Undo {
    stock: bool,
    money: bool,
}

impl Undo {
    pub(crate) const ALL: Undo = Undo {
        stock: true,
        money: true,
    };
}

/// Whether a failed step certainly did nothing: the component refused it
/// (its own transaction rolled back), or the request never reached it (or
/// was refused before anything ran, as a peer refusing the internal token
/// does: `remote::token_refused`). Anything else — a timeout, a
/// lost answer, a 5xx (the peer may have committed before failing) — may
/// have applied, so it is undone to be sure.
pub(crate) fn refused(error: &ShopError) -> bool {
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
    pub(crate) fn lease(&self) -> Lease {
        Lease::for_next(self.deadline.remaining() + LEASE_GRACE)
    }

    /// The saga's own bookkeeping may run a little past the request's
    /// deadline (within its lease): a step that timed out must still be
    /// recorded as failed, and why, or the order would end with another
    /// reason than the one its caller was given.
    fn bookkeeping(&self) -> Deadline {
        self.deadline.extended(LEASE_GRACE / 2)
    }

    /// Runs `work` in one write transaction of the orders database, on the
    /// blocking pool (diesel blocks; the saga's task must not).
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError> + Send + 'static,
    ) -> Result<T, ShopError> {
        in_write_transaction(&self.pool, self.bookkeeping(), work).await
    }

    pub(crate) async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError> + Send + 'static,
    ) -> Result<T, ShopError> {
        let (pool, deadline) = (self.pool.clone(), self.bookkeeping());
        run_blocking(move || work(&mut *conn_within(&pool, deadline)?)).await
    }

    pub(crate) async fn find(&self, id: OrderId) -> Result<Order, ShopError> {
        self.read(move |conn| store::find(conn, id)).await
    }

    /// Places an order: records it with its saga, then runs the steps.
    async fn place_order(&mut self, request: PlaceOrder) -> Result<Placed, ShopError> {
        let quote = checkout::quote(&mut self.shop, &request).await?;
        let lease = self.lease();
        let (recorded, key) = (quote.clone(), request.idempotency_key.clone());
        let (faults, deadline) = (self.faults.clone(), self.deadline);
        let (order, reference) = self
            .write(move |conn| {
                checkout::record(
                    conn,
                    &recorded,
                    key.as_ref(),
                    Some(lease),
                    &faults,
                    deadline,
                )
            })
            .await?;
        let (id, held) = (reference.id, Token::FIRST);
        // From here on the order is kept: every way out is a `Placed`.
        if let Err(error) = self.shop.reserve(&reference, request.items.lines()).await {
            let undo = Undo {
                stock: !refused(&error),
                money: false,
            };
            return Ok(self
                .fail(order, &reference, held, Step::Reserve, error, undo)
                .await);
        }
        match self
            .write(move |conn| record::advance(conn, id, held, Step::Reserve, Step::Charge, None))
            .await
        {
            Ok(true) => {}
            Ok(false) => return Ok(self.await_other_runner(order).await),
            Err(error) => return Ok(self.give_up(order, &reference, held, error).await),
        }
        if let Err(error) = self.shop.charge(&reference, quote.user, quote.total).await {
            let undo = Undo {
                stock: true,
                money: !refused(&error),
            };
            return Ok(self
                .fail(order, &reference, held, Step::Charge, error, undo)
                .await);
        }
        let (from, to) = (Step::Charge, OrderStatus::Completed);
        // The decision, by the request's own deadline, not the bookkeeping's
        // grace: it commits only within it (checked after the write, before
        // the commit), so an order not completed by then never is, and a
        // 504 sent at the deadline is true. Too late, the write is rolled
        // back, and recovery undoes the order (docs/SAGA.md).
        let deadline = self.deadline;
        match in_write_transaction(&self.pool, deadline, move |conn| {
            let ended = record::end(conn, id, held, from, to, None)?;
            checkout::in_time_to_complete(deadline)?;
            Ok(ended)
        })
        .await
        {
            Ok(true) => {
                counted::completed();
                Ok(Placed::Completed(Order {
                    status: to,
                    ..order
                }))
            }
            Ok(false) => Ok(self.await_other_runner(order).await),
            // The money moved but the order could not be marked in time: it
            // stays `pending` at `charge`, and recovery undoes it.
            Err(error) => Ok(self.give_up(order, &reference, held, error).await),
        }
    }

    /// A step failed: record that the order is being undone, and why, then
    /// undo. If undoing fails too, the order stays `pending` (compensating)
    /// for recovery to finish; the caller gets the step's error either way.
    async fn fail(
        &mut self,
        order: Order,
        reference: &OrderRef,
        held: Token,
        at: Step,
        error: ShopError,
        undo: Undo,
    ) -> Placed {
        let (id, code) = (reference.id, error.code());
        let compensating = Step::Compensate;
        match self
            .write(move |conn| record::advance(conn, id, held, at, compensating, Some(code)))
            .await
        {
            Ok(true) => counted::compensating(at),
            Ok(false) => return self.await_other_runner(order).await,
            Err(_) => return self.give_up(order, reference, held, error).await,
        }
        match self.compensate(reference, held, code, undo).await {
            Ok(true) => Placed::Failed {
                order: Order {
                    status: OrderStatus::Failed,
                    failure: Some(code.to_owned()),
                    ..order
                },
                error,
            },
            Ok(false) => self.await_other_runner(order).await,
            Err(compensation) => {
                tracing::warn!(
                    order = reference.id.get(),
                    "{reference}: undoing failed ({compensation}); recovery will retry"
                );
                self.give_up(order, reference, held, error).await
            }
        }
    }

    /// Gives back what `undo` names (stock, then money, the order of the
    /// monolith's locks) and marks the order `failed` with `code`. False if
    /// another runner ended the saga first.
    pub(crate) async fn compensate(
        &mut self,
        reference: &OrderRef,
        held: Token,
        code: &str,
        undo: Undo,
    ) -> Result<bool, ShopError> {
        if undo.stock {
            self.shop.release(reference).await?;
        }
        if undo.money {
            self.shop.refund(reference).await?;
        }
        let (id, from, to) = (reference.id, Step::Compensate, OrderStatus::Failed);
        let failure = code.to_owned();
        let ended = self
            .write(move |conn| record::end(conn, id, held, from, to, Some(&failure)))
            .await?;
        if ended {
            counted::failed(code);
        }
        Ok(ended)
    }

    /// This runner cannot finish the saga now: hand it to recovery soon (a
    /// short lease instead of the rest of ours), and answer that the order
    /// has not settled.
    async fn give_up(
        &self,
        order: Order,
        reference: &OrderRef,
        held: Token,
        error: ShopError,
    ) -> Placed {
        let (pool, id) = (self.pool.clone(), reference.id);
        // Best effort with a connection of its own: if the database is what
        // failed, the lease simply runs out later. If the saga was taken
        // over meanwhile, this changes nothing.
        let _ = run_blocking(move || {
            let mut conn = pool.get_timeout(Duration::from_millis(100))?;
            record::postpone(&mut conn, id, held, Lease::for_next(BACKOFF_FIRST))
        })
        .await;
        Placed::Pending { order, error }
    }

    /// Another runner (recovery, or a request that took the order over)
    /// owns the saga now: wait, within the deadline, for it to settle.
    async fn await_other_runner(&self, order: Order) -> Placed {
        let id = OrderId::from_db(order.id);
        loop {
            match self.find(id).await {
                Ok(now) if now.status != OrderStatus::Pending => return Placed::settled(now),
                Ok(_) if self.deadline.remaining() > POLL_EVERY => {
                    tokio::time::sleep(POLL_EVERY).await
                }
                Ok(now) => return Placed::settled(now),
                Err(error) => return Placed::Pending { order, error },
            }
        }
    }

    /// Sees order `id` to its end: takes its saga over if its runner is
    /// gone, or waits for the runner within the deadline.
    async fn resume_order(&mut self, id: OrderId) -> Result<Placed, ShopError> {
        loop {
            let order = self.find(id).await?;
            let saga = self.read(move |conn| record::load(conn, id)).await?;
            if saga.step.is_none() && order.status != OrderStatus::Pending {
                return Ok(Placed::settled(order));
            }
            match self.take_over(id).await {
                Ok(true) => return Ok(Placed::settled(self.find(id).await?)),
                Ok(false) if self.deadline.remaining() > POLL_EVERY => {
                    tokio::time::sleep(POLL_EVERY).await
                }
                Ok(false) => return Ok(Placed::settled(order)),
                Err(error) => return Ok(Placed::Pending { order, error }),
            }
        }
    }
}

impl<S: Users + Catalog + Payments + Sync + 'static> Checkout for SagaRunner<S> {
    async fn place(&mut self, request: PlaceOrder) -> Result<Placed, ShopError> {
        self.place_order(request).await
    }

    async fn resume(&mut self, order: OrderId) -> Result<Placed, ShopError> {
        self.resume_order(order).await
    }

    async fn cancel(&mut self, order: OrderId) -> Result<Order, ShopError> {
        self.cancel_order(order).await
    }
}
