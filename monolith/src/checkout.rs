//! Placing and cancelling an order in the monolith: ONE database transaction.
//!
//! Every component call below is a function call on the same connection
//! (`common/src/local.rs`), inside one `BEGIN IMMEDIATE ... COMMIT`. If any
//! step fails, the rollback undoes every step before it: there is nothing to
//! compensate. Compare `microservices/src/orders/checkout.rs`, which runs the
//! same steps, with the same rules, as a saga across three databases.

use shoplab_common::components::{Catalog, Payments};
use shoplab_common::db::{write_transaction, Pool};
use shoplab_common::domain::{Order, OrderId, OrderStatus};
use shoplab_common::local::InProcess;
use shoplab_common::orders::checkout::{self, PlaceOrder, Placed};
use shoplab_common::orders::store;
use shoplab_common::ShopError;

pub fn place(pool: &Pool, request: PlaceOrder) -> Result<Placed, ShopError> {
    let mut conn = pool.get()?;
    let mut quoted = None;
    let attempt = write_transaction(&mut conn, |conn| {
        let mut shop = InProcess::new(conn);
        let quote = checkout::quote(&mut shop, &request)?;
        quoted = Some(quote.clone());
        let order = store::insert(shop.conn(), &quote, OrderStatus::Pending, None)?;
        let id = OrderId::from_db(order.id);
        shop.reserve(id, request.items.lines())?;
        shop.charge(id, quote.user, quote.total)?;
        store::transition(
            shop.conn(),
            id,
            OrderStatus::Pending,
            OrderStatus::Completed,
            None,
        )?;
        Ok(Order {
            status: OrderStatus::Completed,
            ..order
        })
    });
    match (attempt, quoted) {
        (Ok(order), _) => Ok(Placed::Completed(order)),
        (Err(error), Some(quote)) if error.keeps_failed_order() => {
            // The rollback took back the stock and the charge; what is left to
            // do is to remember that the order was refused, and why.
            let order = write_transaction(&mut conn, |conn| {
                store::insert(conn, &quote, OrderStatus::Failed, Some(error.code()))
            })?;
            Ok(Placed::Failed { order, error })
        }
        (Err(error), _) => Err(error),
    }
}

/// Refunds the total, returns the stock and marks the order `cancelled`, all
/// in one transaction.
pub fn cancel(pool: &Pool, id: OrderId) -> Result<Order, ShopError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let order = store::find(conn, id)?;
        checkout::ensure_cancellable(&order)?;
        let mut shop = InProcess::new(conn);
        shop.refund(id)?;
        shop.release(id)?;
        store::transition(
            shop.conn(),
            id,
            OrderStatus::Completed,
            OrderStatus::Cancelled,
            None,
        )?;
        Ok(Order {
            status: OrderStatus::Cancelled,
            ..order
        })
    })
}
