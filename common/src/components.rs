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
//! The methods are synchronous: diesel is, and the monolith's order must run
//! its calls inside one database transaction on one connection. The HTTP
//! implementation uses reqwest's blocking client and runs on the blocking
//! thread pool, as the database calls do.

use crate::domain::{Cents, OrderLine, OrderRef, Product, ProductId, User, UserId};
use crate::ShopError;

/// Component: users.
pub trait Users {
    /// The user, or `NotFound`.
    fn user(&mut self, id: UserId) -> Result<User, ShopError>;
}

/// Component: catalog (products and stock).
pub trait Catalog {
    /// The products in the order of `ids`, or `NotFound` for the first id
    /// that names no product.
    fn products(&mut self, ids: &[ProductId]) -> Result<Vec<Product>, ShopError>;

    /// Takes the stock for every line, or none of it (`InsufficientStock`).
    /// Idempotent per order (by its step key): a second reserve for the same
    /// order does nothing.
    fn reserve(&mut self, order: &OrderRef, lines: &[OrderLine]) -> Result<(), ShopError>;

    /// Puts an order's reserved stock back. Idempotent, and safe to call for an
    /// order that reserved nothing: it then bars a late reserve.
    fn release(&mut self, order: &OrderRef) -> Result<(), ShopError>;
}

/// Component: payments (wallets).
pub trait Payments {
    /// Takes `amount` from the user's wallet, or nothing (`InsufficientFunds`).
    /// Idempotent per order (by its step key).
    fn charge(&mut self, order: &OrderRef, user: UserId, amount: Cents) -> Result<(), ShopError>;

    /// Gives an order's payment back. Idempotent, and safe to call for an order
    /// that was never charged: it then bars a late charge.
    fn refund(&mut self, order: &OrderRef) -> Result<(), ShopError>;
}

/// A wrapper that does something around every call of the component
/// interfaces it wraps: strikes it under a fault plan
/// ([`crate::faults::Faulty`]), or counts, times and logs it
/// ([`crate::metrics::Measured`]). A wrapper says only what it does around
/// one call, named by its [`Op`]; the impls below give it [`Users`],
/// [`Catalog`] and [`Payments`] wherever what it wraps has them, so the
/// list of operations is written once, here.
pub trait Around {
    /// What it wraps.
    type Inner;

    /// Makes the call `op` on the inner implementation.
    fn around<T>(
        &mut self,
        op: Op,
        call: impl FnOnce(&mut Self::Inner) -> Result<T, ShopError>,
    ) -> Result<T, ShopError>;
}

impl<W> Users for W
where
    W: Around,
    W::Inner: Users,
{
    fn user(&mut self, id: UserId) -> Result<User, ShopError> {
        self.around(Op::UsersUser, |inner| inner.user(id))
    }
}

impl<W> Catalog for W
where
    W: Around,
    W::Inner: Catalog,
{
    fn products(&mut self, ids: &[ProductId]) -> Result<Vec<Product>, ShopError> {
        self.around(Op::CatalogProducts, |inner| inner.products(ids))
    }

    fn reserve(&mut self, order: &OrderRef, lines: &[OrderLine]) -> Result<(), ShopError> {
        self.around(Op::CatalogReserve, |inner| inner.reserve(order, lines))
    }

    fn release(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        self.around(Op::CatalogRelease, |inner| inner.release(order))
    }
}

impl<W> Payments for W
where
    W: Around,
    W::Inner: Payments,
{
    fn charge(&mut self, order: &OrderRef, user: UserId, amount: Cents) -> Result<(), ShopError> {
        self.around(Op::PaymentsCharge, |inner| {
            inner.charge(order, user, amount)
        })
    }

    fn refund(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        self.around(Op::PaymentsRefund, |inner| inner.refund(order))
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
/// [`Catalog`] or [`Payments`]. A fault plan names the operation it strikes
/// (`catalog.reserve`, `crate::faults`), and the metrics label each call by
/// its component and method (`crate::metrics::component`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    UsersUser,
    CatalogProducts,
    CatalogReserve,
    CatalogRelease,
    PaymentsCharge,
    PaymentsRefund,
}

impl Op {
    pub const ALL: [Op; 6] = [
        Op::UsersUser,
        Op::CatalogProducts,
        Op::CatalogReserve,
        Op::CatalogRelease,
        Op::PaymentsCharge,
        Op::PaymentsRefund,
    ];

    /// `<component>.<method>`, as a fault plan names it.
    pub fn name(self) -> &'static str {
        match self {
            Op::UsersUser => "users.user",
            Op::CatalogProducts => "catalog.products",
            Op::CatalogReserve => "catalog.reserve",
            Op::CatalogRelease => "catalog.release",
            Op::PaymentsCharge => "payments.charge",
            Op::PaymentsRefund => "payments.refund",
        }
    }

    /// The component whose interface has this method.
    pub fn component(self) -> Component {
        match self {
            Op::UsersUser => Component::Users,
            Op::CatalogProducts | Op::CatalogReserve | Op::CatalogRelease => Component::Catalog,
            Op::PaymentsCharge | Op::PaymentsRefund => Component::Payments,
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
    fn every_operation_is_named_by_its_component_and_method() {
        for op in Op::ALL {
            assert_eq!(
                op.name(),
                format!("{}.{}", op.component().name(), op.method())
            );
        }
    }
}
