//! The components' interfaces: what the orders component (and the wallet
//! routes) need from the others.
//!
//! Orders depends on these traits, never on an implementation. The monolith
//! hands it [`crate::local::InProcess`], where a call is a function call on the
//! same database connection; the orders service hands it
//! `microservices/service/src/remote.rs`, where a call is an HTTP request to
//! the service that owns the component, which serves it with
//! [`crate::local::Owned`] (one transaction per call). Every method is
//! fallible even in process, so a fault plan ([`crate::faults::Faulty`]),
//! timing or metrics can wrap either side at this one boundary.
//!
//! The methods are async: a call over HTTP waits on the network, and no
//! thread is held while it does (`remote.rs` awaits reqwest's async client).
//! A call in process is a future that is ready the first time it is polled:
//! it runs diesel, which blocks, so the caller drives it on a blocking
//! thread ([`crate::local::drive`]). That is how the monolith keeps its
//! order in ONE database transaction on one connection and still calls the
//! same interfaces as the orders service.
//!
//! Every future these methods return is `Send`, so a saga that awaits them
//! can run as a task of its own (`microservices/orders/src/checkout.rs`).

use std::future::Future;

use crate::domain::{Cents, OrderLine, OrderRef, Product, ProductId, User, UserId};
use crate::ShopError;

/// Component: users.
pub trait Users: Send {
    /// The user, or `NotFound`.
    fn user(&mut self, id: UserId) -> impl Future<Output = Result<User, ShopError>> + Send;
}

/// Component: catalog (products and stock).
pub trait Catalog: Send {
    /// The products in the order of `ids`, or `NotFound` for the first id
    /// that names no product.
    fn products(
        &mut self,
        ids: &[ProductId],
    ) -> impl Future<Output = Result<Vec<Product>, ShopError>> + Send;

    /// Takes the stock for every line, or none of it (`InsufficientStock`).
    /// Idempotent per order (by its step key): a second reserve for the same
    /// order does nothing.
    fn reserve(
        &mut self,
        order: &OrderRef,
        lines: &[OrderLine],
    ) -> impl Future<Output = Result<(), ShopError>> + Send;

    /// Puts an order's reserved stock back. Idempotent, and safe to call for an
    /// order that reserved nothing: it then bars a late reserve.
    fn release(&mut self, order: &OrderRef) -> impl Future<Output = Result<(), ShopError>> + Send;
}

/// Component: payments (wallets).
pub trait Payments: Send {
    /// Takes `amount` from the user's wallet, or nothing (`InsufficientFunds`).
    /// Idempotent per order (by its step key).
    fn charge(
        &mut self,
        order: &OrderRef,
        user: UserId,
        amount: Cents,
    ) -> impl Future<Output = Result<(), ShopError>> + Send;

    /// Gives an order's payment back. Idempotent, and safe to call for an order
    /// that was never charged: it then bars a late charge.
    fn refund(&mut self, order: &OrderRef) -> impl Future<Output = Result<(), ShopError>> + Send;
}

/// A wrapper that does something around every call of the component
/// interfaces it wraps: strikes it under a fault plan
/// ([`crate::faults::Faulty`]), or counts, times and logs it
/// (`shoplab_http::Measured`). A wrapper says only what it does around
/// one call, named by its [`Op`]; the impls below give it [`Users`],
/// [`Catalog`] and [`Payments`] wherever what it wraps has them, so the
/// list of operations is written once, here.
pub trait Around: Send {
    /// What it wraps.
    type Inner: Send;

    /// Makes the call `op` on the inner implementation: `call` makes the
    /// inner call's future, which the wrapper awaits inside its own.
    fn around<'a, T, F>(
        &'a mut self,
        op: Op,
        call: impl FnOnce(&'a mut Self::Inner) -> F + Send,
    ) -> impl Future<Output = Result<T, ShopError>> + Send
    where
        T: Send,
        F: Future<Output = Result<T, ShopError>> + Send;
}

impl<W> Users for W
where
    W: Around,
    W::Inner: Users,
{
    fn user(&mut self, id: UserId) -> impl Future<Output = Result<User, ShopError>> + Send {
        self.around(Op::UsersUser, move |inner| inner.user(id))
    }
}

impl<W> Catalog for W
where
    W: Around,
    W::Inner: Catalog,
{
    fn products(
        &mut self,
        ids: &[ProductId],
    ) -> impl Future<Output = Result<Vec<Product>, ShopError>> + Send {
        self.around(Op::CatalogProducts, move |inner| inner.products(ids))
    }

    fn reserve(
        &mut self,
        order: &OrderRef,
        lines: &[OrderLine],
    ) -> impl Future<Output = Result<(), ShopError>> + Send {
        self.around(Op::CatalogReserve, move |inner| inner.reserve(order, lines))
    }

    fn release(&mut self, order: &OrderRef) -> impl Future<Output = Result<(), ShopError>> + Send {
        self.around(Op::CatalogRelease, move |inner| inner.release(order))
    }
}

impl<W> Payments for W
where
    W: Around,
    W::Inner: Payments,
{
    fn charge(
        &mut self,
        order: &OrderRef,
        user: UserId,
        amount: Cents,
    ) -> impl Future<Output = Result<(), ShopError>> + Send {
        self.around(Op::PaymentsCharge, move |inner| {
            inner.charge(order, user, amount)
        })
    }

    fn refund(&mut self, order: &OrderRef) -> impl Future<Output = Result<(), ShopError>> + Send {
        self.around(Op::PaymentsRefund, move |inner| inner.refund(order))
    }
}

/// The four components of the shop, named as API.md names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    Users,
    Catalog,
    Payments,
    Orders,
}

impl Component {
    pub const ALL: [Component; 4] = [
        Component::Users,
        Component::Catalog,
        Component::Payments,
        Component::Orders,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Component::Users => "users",
            Component::Catalog => "catalog",
            Component::Payments => "payments",
            Component::Orders => "orders",
        }
    }
}

impl std::fmt::Display for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An operation of the component interfaces: one method of [`Users`],
/// [`Catalog`] or [`Payments`], or the orders component's own first write
/// of an order (`orders.insert`, where a request's Idempotency-Key records
/// its order). A fault plan names the operation it strikes
/// (`catalog.reserve`, `crate::faults`), and the metrics label each call by
/// its component and method (`shoplab_http::measured`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    UsersUser,
    CatalogProducts,
    CatalogReserve,
    CatalogRelease,
    PaymentsCharge,
    PaymentsRefund,
    OrdersInsert,
}

impl Op {
    pub const ALL: [Op; 7] = [
        Op::UsersUser,
        Op::CatalogProducts,
        Op::CatalogReserve,
        Op::CatalogRelease,
        Op::PaymentsCharge,
        Op::PaymentsRefund,
        Op::OrdersInsert,
    ];

    /// Its place in [`Op::ALL`], for tables indexed by operation.
    pub fn index(self) -> usize {
        self as usize
    }

    /// `<component>.<method>`, as a fault plan names it.
    pub fn name(self) -> &'static str {
        match self {
            Op::UsersUser => "users.user",
            Op::CatalogProducts => "catalog.products",
            Op::CatalogReserve => "catalog.reserve",
            Op::CatalogRelease => "catalog.release",
            Op::PaymentsCharge => "payments.charge",
            Op::PaymentsRefund => "payments.refund",
            Op::OrdersInsert => "orders.insert",
        }
    }

    /// The component whose interface has this method.
    pub fn component(self) -> Component {
        match self {
            Op::UsersUser => Component::Users,
            Op::CatalogProducts | Op::CatalogReserve | Op::CatalogRelease => Component::Catalog,
            Op::PaymentsCharge | Op::PaymentsRefund => Component::Payments,
            Op::OrdersInsert => Component::Orders,
        }
    }

    /// The method's name (`reserve`): [`name`](Self::name) after the dot.
    pub fn method(self) -> &'static str {
        let name = self.name();
        name.split_once('.').map_or(name, |(_, method)| method)
    }

    /// The operation a plan names `name`; the error lists the known ones.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|op| op.name() == name)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|op| op.name()).collect();
                format!("unknown op {name:?} (known: {})", known.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_at_its_index() {
        for (at, op) in Op::ALL.into_iter().enumerate() {
            assert_eq!(op.index(), at, "{}", op.name());
        }
    }

    #[test]
    fn every_operation_is_named_by_its_component_and_method() {
        for op in Op::ALL {
            assert_eq!(
                op.name(),
                format!("{}.{}", op.component().name(), op.method())
            );
        }
    }
}
