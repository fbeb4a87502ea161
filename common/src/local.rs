//! The in-process implementation of the component interfaces: each call is a
//! function call into the component's store, on the connection the caller
//! holds. In the monolith that connection is inside the order's one
//! transaction, so every component's write commits or rolls back together.
//! (The other side of this file: `microservices/service/src/remote.rs`.)

use crate::components::{Catalog, Payments, Users};
use crate::db::DbConnection;
use crate::domain::{Cents, OrderId, OrderLine, Product, ProductId, User, UserId};
use crate::{catalog, payments, users, ShopError};

pub struct InProcess<'c> {
    conn: &'c mut DbConnection,
}

impl<'c> InProcess<'c> {
    pub fn new(conn: &'c mut DbConnection) -> Self {
        Self { conn }
    }

    /// The same connection, for the orders component's own tables.
    pub fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }
}

impl Users for InProcess<'_> {
    fn user(&mut self, id: UserId) -> Result<User, ShopError> {
        users::store::find(self.conn, id)
    }
}

impl Catalog for InProcess<'_> {
    fn products(&mut self, ids: &[ProductId]) -> Result<Vec<Product>, ShopError> {
        catalog::store::find_all(self.conn, ids)
    }

    fn reserve(&mut self, order: OrderId, lines: &[OrderLine]) -> Result<(), ShopError> {
        catalog::store::reserve(self.conn, order, lines)
    }

    fn release(&mut self, order: OrderId) -> Result<(), ShopError> {
        catalog::store::release(self.conn, order)
    }
}

impl Payments for InProcess<'_> {
    fn charge(&mut self, order: OrderId, user: UserId, amount: Cents) -> Result<(), ShopError> {
        payments::store::charge(self.conn, order, user, amount)
    }

    fn refund(&mut self, order: OrderId) -> Result<(), ShopError> {
        payments::store::refund(self.conn, order)
    }
}
