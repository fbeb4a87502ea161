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
