//! Placing and cancelling an order in the monolith: ONE database transaction.
//!
//! Every component call below is a function call on the same connection
//! (`common/src/local.rs`), inside one transaction (`BEGIN IMMEDIATE` on
//! SQLite, so that it holds the write lock from the start). Nothing
//! needs compensating: if taking the stock or the money fails, rolling back to
//! a savepoint undoes both, and the order is recorded as `failed` in the same
//! transaction. If the process dies part-way (a fault plan's crash), the
//! database rolls the whole order back, so an order is counted
//! (`shoplab_orders_completed_total`, `..._failed_total`) only once its
//! transaction has committed. Compare
//! `microservices/orders/src/checkout.rs`, which runs the same steps, with the
//! same rules and the same component interfaces, as a saga across three
//! databases.

use std::sync::Arc;

use shoplab_common::components::{Catalog, Payments};
use shoplab_common::db::{conn_within, savepoint, write_transaction_within, DbConnection, Pool};
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::{Order, OrderId, OrderStatus};
use shoplab_common::faults::{FaultPlan, Faulty};
use shoplab_common::local::{drive, InProcess};
use shoplab_common::metrics;
use shoplab_common::orders::checkout::{self, Checkout, PlaceOrder, Placed};
use shoplab_common::orders::store;
use shoplab_common::ShopError;
use shoplab_http::Measured;
use shoplab_http::{run_blocking, with_conn};

/// The monolith's way of placing an order, for one request.
pub struct OneTransaction {
    pub pool: Pool,
    pub faults: Arc<FaultPlan>,
    pub deadline: Deadline,
}

/// The components as the order calls them: in process on the order's
/// connection, under the fault plan, every call measured (the orders
/// service measures its HTTP calls with the same `Measured`). Their calls
/// are ready at once, and are [`drive`]n on the blocking thread that holds
/// the transaction.
pub type Shop<'c> = Measured<Faulty<InProcess<'c>>>;

pub fn shop(conn: &mut DbConnection, faults: Arc<FaultPlan>, deadline: Deadline) -> Shop<'_> {
    Measured::new(Faulty::new(InProcess::new(conn), faults, deadline))
}

/// The order's own connection, under the components' wrappers: for the
/// orders component's tables.
fn orders_conn<'a>(shop: &'a mut Shop<'_>) -> &'a mut DbConnection {
    shop.inner().inner().conn()
}

impl Checkout for OneTransaction {
    /// The whole order in one write transaction, on a blocking thread.
    async fn place(&mut self, request: PlaceOrder) -> Result<Placed, ShopError> {
        let (pool, faults, deadline) = (self.pool.clone(), self.faults.clone(), self.deadline);
        let placed = run_blocking(move || {
            let mut conn = conn_within(&pool, deadline)?;
            write_transaction_within(&mut conn, deadline, |conn| {
                drive(place_in(conn, faults, deadline, &request))
            })
        })
        .await?;
        // Committed: the order's outcome is decided.
        metrics::orders::placed(&placed);
        Ok(placed)
    }

    /// A monolith's order is settled when its transaction commits: there is
    /// nothing to resume, only the outcome to read.
    async fn resume(&mut self, id: OrderId) -> Result<Placed, ShopError> {
        let order = with_conn(&self.pool, move |conn| store::find(conn, id)).await?;
        Ok(Placed::settled(order))
    }

    /// The whole cancel in one write transaction, on a blocking thread.
    async fn cancel(&mut self, id: OrderId) -> Result<Order, ShopError> {
        let (pool, faults, deadline) = (self.pool.clone(), self.faults.clone(), self.deadline);
        run_blocking(move || {
            let mut conn = conn_within(&pool, deadline)?;
            write_transaction_within(&mut conn, deadline, |conn| {
                cancel_in(conn, faults, deadline, id)
            })
        })
        .await
    }
}

/// The steps of an order on `conn`, inside its transaction.
async fn place_in(
    conn: &mut DbConnection,
    faults: Arc<FaultPlan>,
    deadline: Deadline,
    request: &PlaceOrder,
) -> Result<Placed, ShopError> {
    let mut shop = shop(conn, faults.clone(), deadline);
    let quote = checkout::quote(&mut shop, request).await?;
    let key = request.idempotency_key.as_ref();
    let (order, reference) =
        checkout::record(orders_conn(&mut shop), &quote, key, None, &faults, deadline)?;
    let taken = savepoint(orders_conn(&mut shop), |conn| {
        drive(async {
            let mut shop = self::shop(conn, faults, deadline);
            shop.reserve(&reference, request.items.lines()).await?;
            shop.charge(&reference, quote.user, quote.total).await?;
            // Completed only within the deadline; past it the stock and the
            // money go back and the order is kept `failed`, `timeout`.
            checkout::in_time_to_complete(deadline)
        })
    });
    let conn = orders_conn(&mut shop);
    match taken {
        Ok(()) => {
            let (from, to) = (OrderStatus::Pending, OrderStatus::Completed);
            store::transition(conn, reference.id, from, to, None)?;
            Ok(Placed::Completed(Order {
                status: to,
                ..order
            }))
        }
        // The savepoint took back whatever stock or money was taken;
        // what is left is to remember that the order was refused, and
        // why.
        Err(error) if error.keeps_failed_order() => {
            let (from, to) = (OrderStatus::Pending, OrderStatus::Failed);
            store::transition(conn, reference.id, from, to, Some(error.code()))?;
            let failure = Some(error.code().to_owned());
            Ok(Placed::Failed {
                order: Order {
                    status: to,
                    failure,
                    ..order
                },
                error,
            })
        }
        Err(error) => Err(error),
    }
}

/// The steps of a cancel on `conn`, inside its transaction: the order is
/// marked `cancelled`, its stock returned and its total refunded. The status
/// moves first: its conditional `UPDATE` locks the order's row, so of two
/// cancels at once exactly one goes on to refund.
fn cancel_in(
    conn: &mut DbConnection,
    faults: Arc<FaultPlan>,
    deadline: Deadline,
    id: OrderId,
) -> Result<Order, ShopError> {
    let (from, to) = (OrderStatus::Completed, OrderStatus::Cancelled);
    if !store::transition(conn, id, from, to, None)? {
        // Not completed, or not there: say which.
        checkout::ensure_cancellable(&store::find(conn, id)?)?;
        return Err(ShopError::InvalidState(format!(
            "order {id} changed while it was being cancelled"
        )));
    }
    let reference = store::find_ref(conn, id)?;
    // Stock before money: the lock order of placing an order, so a cancel
    // and a place that share rows cannot deadlock on PostgreSQL.
    let mut shop = shop(conn, faults, deadline);
    drive(async {
        shop.release(&reference).await?;
        shop.refund(&reference).await
    })?;
    store::find(orders_conn(&mut shop), id)
}
