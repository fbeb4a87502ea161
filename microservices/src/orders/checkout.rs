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
//! not do yet: resume a saga after the orders service itself crashes mid-way
//! (such an order stays `pending`).

use shoplab_common::components::{Catalog, Payments};
use shoplab_common::db::{write_transaction, Pool};
use shoplab_common::domain::{Order, OrderId, OrderStatus};
use shoplab_common::orders::checkout::{self, PlaceOrder, Placed};
use shoplab_common::orders::store;
use shoplab_common::ShopError;

use crate::remote::Remote;

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

    // Step 4: complete.
    let completed = write_transaction(&mut *pool.get()?, |conn| {
        store::transition(conn, id, OrderStatus::Pending, OrderStatus::Completed, None)
    })?;
    if !completed {
        return Err(ShopError::internal(
            "saga",
            format!("order {id} left pending mid-saga"),
        ));
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
/// funds short) or a peer that could not be reached at all did nothing; a
/// timeout (or a failure of our own) leaves it unknown, so the step is undone
/// to be sure (undoing is idempotent, and bars the step from applying late).
fn may_have_applied(error: &ShopError) -> bool {
    matches!(error, ShopError::Timeout(_) | ShopError::Internal(_))
}

/// Runs the compensations, then records the order as `failed`. If a
/// compensation itself fails, the order stays `pending` (stock or money may
/// still be held: finishing it is the job of saga recovery, which this lab
/// does not have yet) and the caller gets the step's own error.
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
    if !all_undone {
        return Err(error);
    }
    let code = error.code();
    write_transaction(&mut *pool.get()?, |conn| {
        store::transition(
            conn,
            id,
            OrderStatus::Pending,
            OrderStatus::Failed,
            Some(code),
        )
    })?;
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
