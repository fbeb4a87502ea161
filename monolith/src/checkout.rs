//! Placing and cancelling an order in the monolith: ONE database transaction.
//!
//! Every component call below is a function call on the same connection
//! (`common/src/local.rs`), inside one transaction (`BEGIN IMMEDIATE` on
//! SQLite, so that it holds the write lock from the start). Nothing
//! needs compensating: if taking the stock or the money fails, rolling back to
//! a savepoint undoes both, and the order is recorded as `failed` in the same
//! transaction. Compare `microservices/orders/src/checkout.rs`, which runs the
//! same steps, with the same rules, as a saga across three databases.

use shoplab_common::components::{Catalog, Payments};
use shoplab_common::db::{savepoint, write_transaction, Pool};
use shoplab_common::domain::{Order, OrderId, OrderStatus};
use shoplab_common::local::InProcess;
use shoplab_common::orders::checkout::{self, PlaceOrder, Placed};
use shoplab_common::orders::store;
use shoplab_common::ShopError;

pub fn place(pool: &Pool, request: PlaceOrder) -> Result<Placed, ShopError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let mut shop = InProcess::new(conn);
        let quote = checkout::quote(&mut shop, &request)?;
        let order = store::insert(shop.conn(), &quote, OrderStatus::Pending, None)?;
        let id = OrderId::from_db(order.id);
        let taken = savepoint(shop.conn(), |conn| {
            let mut shop = InProcess::new(conn);
            shop.reserve(id, request.items.lines())?;
            shop.charge(id, quote.user, quote.total)
        });
        match taken {
            Ok(()) => {
                let (from, to) = (OrderStatus::Pending, OrderStatus::Completed);
                store::transition(shop.conn(), id, from, to, None)?;
                Ok(Placed::Completed(Order {
                    status: to,
                    ..order
                }))
            }
            // The savepoint took back whatever stock or money was taken; what
            // is left is to remember that the order was refused, and why.
            Err(error) if error.keeps_failed_order() => {
                let (from, to) = (OrderStatus::Pending, OrderStatus::Failed);
                store::transition(shop.conn(), id, from, to, Some(error.code()))?;
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
    })
}

/// Marks the order `cancelled`, refunds the total and returns the stock, all
/// in one transaction. The status moves first: its conditional `UPDATE` locks
/// the order's row, so of two cancels at once exactly one goes on to refund.
pub fn cancel(pool: &Pool, id: OrderId) -> Result<Order, ShopError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (from, to) = (OrderStatus::Completed, OrderStatus::Cancelled);
        if !store::transition(conn, id, from, to, None)? {
            // Not completed, or not there: say which.
            checkout::ensure_cancellable(&store::find(conn, id)?)?;
            return Err(ShopError::InvalidState(format!(
                "order {id} changed while it was being cancelled"
            )));
        }
        // Stock before money: the lock order of placing an order, so a cancel
        // and a place that share rows cannot deadlock on PostgreSQL.
        let mut shop = InProcess::new(conn);
        shop.release(id)?;
        shop.refund(id)?;
        store::find(shop.conn(), id)
    })
}
