//! Placing and cancelling an order in the microservices: a saga.
//!
//! The orders service owns only the orders tables; stock lives in the catalog
//! service's database and money in the payments service's. No transaction
//! spans them, so each step commits on its own and a failure is undone by
//! compensations: release the stock, refund the charge. Compare
//! `monolith/src/checkout.rs`: the same steps and the same rules (`quote`,
//! `ensure_cancellable`, and the component interfaces), where one rollback
//! undoes everything.
//!
//! Every step is idempotent per order id, so a compensation may run for a
//! step whose outcome is unknown (a timeout) without doing harm. The order's
//! `pending` row is the saga's record of what is in flight. What this does
//! not do yet: retry a compensation that failed, or resume a saga after the
//! orders service itself crashes mid-way; such an order stays `pending`.

use shoplab_common::components::{Catalog, Payments};
use shoplab_common::db::{write_transaction, Pool};
use shoplab_common::domain::{Order, OrderId, OrderStatus};
use shoplab_common::orders::checkout::{self, PlaceOrder, Placed};
use shoplab_common::orders::store;
use shoplab_common::ShopError;
use shoplab_service::remote::Remote;

pub fn place(pool: &Pool, shop: &mut Remote, request: PlaceOrder) -> Result<Placed, ShopError> {
    let quote = checkout::quote(shop, &request)?;
    // Step 1: record the order as pending, before anything else is touched.
    let order = write_transaction(&mut *pool.get()?, |conn| {
        store::insert(conn, &quote, OrderStatus::Pending, None)
    })?;
    let id = OrderId::from_db(order.id);

    // Step 2: reserve the stock (catalog service).
    if let Err(error) = shop.reserve(id, request.items.lines()) {
        let compensations: &[Compensation] = if may_have_applied(&error) {
            &[Compensation::Release]
        } else {
            &[]
        };
        return fail(pool, shop, order, error, compensations);
    }

    // Step 3: take the payment (payments service). The stock is held now, so
    // it goes back whatever happened to the payment.
    if let Err(error) = shop.charge(id, quote.user, quote.total) {
        let compensations: &[Compensation] = if may_have_applied(&error) {
            &[Compensation::Release, Compensation::Refund]
        } else {
            &[Compensation::Release]
        };
        return fail(pool, shop, order, error, compensations);
    }

    // Step 4: complete. If even that cannot be written, the order did not
    // happen: give the stock and the money back.
    let completed = write_transaction(&mut *pool.get()?, |conn| {
        store::transition(conn, id, OrderStatus::Pending, OrderStatus::Completed, None)
    });
    if let Err(error) = completed {
        let compensations = [Compensation::Release, Compensation::Refund];
        return fail(pool, shop, order, error, &compensations);
    }
    Ok(Placed::Completed(Order {
        status: OrderStatus::Completed,
        ..order
    }))
}

/// Undoing a step another service committed.
#[derive(Debug, Clone, Copy)]
enum Compensation {
    Release,
    Refund,
}

/// Whether a failed step may still have taken effect. A refusal (stock or
/// funds short), a peer that could not be reached at all, or a peer that
/// answered with an error (its own transaction rolled back) did nothing. A
/// timeout, an answer lost on the way, or a failure of our own leaves it
/// unknown, so the step is undone to be sure: undoing is idempotent, and bars
/// the step from applying late.
fn may_have_applied(error: &ShopError) -> bool {
    matches!(
        error,
        ShopError::Timeout(_) | ShopError::Unconfirmed(_) | ShopError::Internal(_)
    )
}

/// Runs the compensations, then records the order as `failed`. If a
/// compensation fails too, or the order cannot be marked, it stays `pending`
/// (stock or money may still be held: finishing it is the job of saga
/// recovery, which this lab does not have yet); either way the caller gets the
/// step's own error, and the order counts as kept for its Idempotency-Key.
fn fail(
    pool: &Pool,
    shop: &mut Remote,
    order: Order,
    error: ShopError,
    compensations: &[Compensation],
) -> Result<Placed, ShopError> {
    let id = OrderId::from_db(order.id);
    let mut all_undone = true;
    for compensation in compensations {
        let undone = match compensation {
            Compensation::Release => shop.release(id),
            Compensation::Refund => shop.refund(id),
        };
        if let Err(compensation_error) = undone {
            eprintln!(
                "order {id}: {compensation:?} failed ({compensation_error}); it stays pending"
            );
            all_undone = false;
        }
    }
    let code = error.code();
    let marked = all_undone
        && pool
            .get()
            .map_err(ShopError::from)
            .and_then(|mut conn| {
                write_transaction(&mut conn, |conn| {
                    let (from, to) = (OrderStatus::Pending, OrderStatus::Failed);
                    store::transition(conn, id, from, to, Some(code))
                })
            })
            .unwrap_or(false);
    if !marked {
        return Ok(Placed::Pending { order, error });
    }
    Ok(Placed::Failed {
        order: Order {
            status: OrderStatus::Failed,
            failure: Some(code.to_owned()),
            ..order
        },
        error,
    })
}

/// Refunds the total and returns the stock (each its own service's
/// transaction), then marks the order `cancelled`. A failure part-way leaves
/// the order `completed`; cancelling again finishes the job, since refund and
/// release are idempotent.
pub fn cancel(pool: &Pool, shop: &mut Remote, id: OrderId) -> Result<Order, ShopError> {
    let order = store::find(&mut *pool.get()?, id)?;
    checkout::ensure_cancellable(&order)?;
    shop.refund(id)?;
    shop.release(id)?;
    let cancelled = write_transaction(&mut *pool.get()?, |conn| {
        store::transition(
            conn,
            id,
            OrderStatus::Completed,
            OrderStatus::Cancelled,
            None,
        )
    })?;
    if !cancelled {
        // Another cancel won the race; report the state it left.
        let now = store::find(&mut *pool.get()?, id)?;
        checkout::ensure_cancellable(&now)?;
    }
    Ok(Order {
        status: OrderStatus::Cancelled,
        ..order
    })
}
