//! The rules of placing and cancelling an order that both deployments share.
//!
//! What differs between them is only how the steps are held together: the
//! monolith runs them in one database transaction
//! (`monolith/src/checkout.rs`); the orders service runs them as a saga with
//! compensations (`microservices/orders/src/checkout.rs`). Both call
//! [`quote`] first, so the checks run in API.md's order in both: the user
//! (404), each product (404), then stock and funds as the steps run.

use std::future::Future;

use crate::components::{Catalog, Users};
use crate::db::DbConnection;
use crate::deadline::Deadline;
use crate::domain::{Order, OrderId, OrderItems, OrderRef, OrderStatus, UserId};
use crate::faults::{FaultPlan, Op};
use crate::local::drive;
use crate::orders::idempotency::Held;
use crate::orders::pricing::{self, Quote};
use crate::orders::saga::Lease;
use crate::orders::store;
use crate::ShopError;

/// A `POST /orders` request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOrder {
    pub user: UserId,
    pub items: OrderItems,
    /// The `Idempotency-Key` this request holds, if it sent one: the order
    /// is recorded under it, if the request still holds it then.
    pub idempotency_key: Option<Held>,
}

/// How a deployment places and cancels an order: the one part of `POST
/// /orders` and `POST /orders/{id}/cancel` that differs between them
/// (`common/http/src/place_order.rs` and `routes/orders.rs` do the rest).
/// The monolith's is one transaction (`monolith/src/checkout.rs`), the
/// orders service's a saga (`microservices/orders/src/checkout.rs` and
/// `cancel.rs`), or, as the control that shows what the saga is for, no
/// coordination at all (`naive.rs`). docs/SIDE-BY-SIDE.md reads them side
/// by side.
pub trait Checkout: Send + 'static {
    /// Places a new order.
    fn place(
        &mut self,
        request: PlaceOrder,
    ) -> impl Future<Output = Result<Placed, ShopError>> + Send;

    /// Sees an order placed by an earlier request with the same
    /// Idempotency-Key (one that is gone) to its end, and says how it ended.
    fn resume(&mut self, order: OrderId) -> impl Future<Output = Result<Placed, ShopError>> + Send;

    /// Cancels a `completed` order: its stock goes back and its total is
    /// refunded, and it is marked `cancelled`.
    fn cancel(&mut self, order: OrderId) -> impl Future<Output = Result<Order, ShopError>> + Send;
}

/// How a placed order ended, when it was kept.
#[derive(Debug, Clone)]
pub enum Placed {
    Completed(Order),
    /// Refused for stock, funds or an unreachable component: recorded with
    /// status `failed` and `failure` set to `error`'s code.
    Failed {
        order: Order,
        error: ShopError,
    },
    /// Only in the microservices: the order has not settled within the
    /// request's deadline (a step failed and so, for now, did undoing the
    /// steps before it), so it stays `pending` with its stock or money
    /// possibly still held. The caller gets `error`; the saga's recovery
    /// finishes the order, and a retry with the same Idempotency-Key resumes
    /// it.
    Pending {
        order: Order,
        error: ShopError,
    },
}

impl Placed {
    /// How placing `order` ended, read from the order itself once it has
    /// settled: a `failed` order answers with the error its `failure` names.
    /// (A `cancelled` order was completed first, and answers as such.)
    pub fn settled(order: Order) -> Placed {
        match (order.status, order.failure.clone()) {
            (OrderStatus::Completed | OrderStatus::Cancelled, _) => Placed::Completed(order),
            (OrderStatus::Failed, failure) => {
                let code = failure.unwrap_or_default();
                let message = format!("order {} failed: {code}", order.id);
                let error = ShopError::from_code(&code, message.clone())
                    .unwrap_or(ShopError::ServiceUnavailable(message));
                Placed::Failed { order, error }
            }
            (OrderStatus::Pending, _) => Placed::Pending {
                error: ShopError::Timeout(format!(
                    "order {} is still being settled; retry with the same Idempotency-Key",
                    order.id
                )),
                order,
            },
        }
    }
}

/// Checks the user and the products and prices the order. Nothing is written,
/// so a failure here keeps no order (API.md: "the 404 and 400 cases keep no
/// order").
pub async fn quote<S: Users + Catalog>(
    shop: &mut S,
    request: &PlaceOrder,
) -> Result<Quote, ShopError> {
    shop.user(request.user).await?;
    let products = shop.products(&request.items.product_ids()).await?;
    pricing::price(request.user, &request.items, &products)
}

/// Records the order, `pending`, under the `Idempotency-Key` it holds (and,
/// for a saga, the lease of whoever runs it): the orders component's own
/// first write, and the one place a fault plan strikes it (`orders.insert`),
/// the same in the monolith, the saga and the naive way.
pub fn record(
    conn: &mut DbConnection,
    quote: &Quote,
    key: Option<&Held>,
    lease: Option<Lease>,
    faults: &FaultPlan,
    deadline: Deadline,
) -> Result<(Order, OrderRef), ShopError> {
    let insert = async { store::insert(conn, quote, key, lease) };
    drive(faults.around(Op::OrdersInsert, deadline, insert))
}

/// Only a `completed` order can be cancelled.
pub fn ensure_cancellable(order: &Order) -> Result<(), ShopError> {
    if order.status == OrderStatus::Completed {
        Ok(())
    } else {
        Err(ShopError::InvalidState(format!(
            "order {} is {}; only a completed order can be cancelled",
            order.id, order.status
        )))
    }
}

/// An order is marked `completed` only within its request's deadline: past
/// it, the caller may already have its 504 (`http/place_order.rs`,
/// `ANSWER_GRACE`), which must stay true. Both deployments check this last,
/// inside the transaction whose commit completes the order, so a late one
/// rolls back instead.
pub fn in_time_to_complete(deadline: Deadline) -> Result<(), ShopError> {
    deadline.check("the order could be completed")
}
