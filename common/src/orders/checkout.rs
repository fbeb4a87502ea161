//! The rules of placing and cancelling an order that both deployments share.
//!
//! What differs between them is only how the steps are held together: the
//! monolith runs them in one database transaction
//! (`monolith/src/checkout.rs`); the orders service runs them as a saga with
//! compensations (`microservices/orders/src/checkout.rs`). Both call
//! [`quote`] first, so the checks run in API.md's order in both: the user
//! (404), each product (404), then stock and funds as the steps run.

use crate::components::{Catalog, Users};
use crate::domain::{Order, OrderItems, OrderStatus, UserId};
use crate::orders::pricing::{self, Quote};
use crate::ShopError;

/// A `POST /orders` body, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOrder {
    pub user: UserId,
    pub items: OrderItems,
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
    /// Only in the microservices: a step failed and so did undoing the steps
    /// before it, so the order stays `pending` with its stock or money
    /// possibly still held. The caller gets `error`; finishing the order is
    /// saga recovery's job.
    Pending {
        order: Order,
        error: ShopError,
    },
}

/// Checks the user and the products and prices the order. Nothing is written,
/// so a failure here keeps no order (API.md: "the 404 and 400 cases keep no
/// order").
pub fn quote<S: Users + Catalog>(shop: &mut S, request: &PlaceOrder) -> Result<Quote, ShopError> {
    shop.user(request.user)?;
    let products = shop.products(&request.items.product_ids())?;
    pricing::price(request.user, &request.items, &products)
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
