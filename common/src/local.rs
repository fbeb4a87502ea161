//! The in-process implementations of the component interfaces.
//!
//! [`InProcess`]: each call is a function call into the component's store,
//! on the connection the caller holds. In the monolith that connection is
//! inside the order's one transaction, so every component's write commits or
//! rolls back together. (The other side: `microservices/service/src/remote.rs`.)
//!
//! [`Owned`]: each call takes a pooled connection and, for a write, runs in
//! a transaction of its own. This is how a process serves the component it
//! owns to its handlers: a service's internal endpoints (the saga's steps,
//! committed one by one) and both deployments' public reads. Wrapped in
//! [`crate::faults::Faulty`], it is where a fault plan strikes a service.

use crate::components::{Catalog, Payments, Users};
use crate::db::{write_transaction, DbConnection, Pool, PooledConnection};
use crate::deadline::Deadline;
use crate::domain::{Cents, OrderLine, OrderRef, Product, ProductId, User, UserId};
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

    fn reserve(&mut self, order: &OrderRef, lines: &[OrderLine]) -> Result<(), ShopError> {
        catalog::store::reserve(self.conn, order, lines)
    }

    fn release(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        catalog::store::release(self.conn, order)
    }
}

impl Payments for InProcess<'_> {
    fn charge(&mut self, order: &OrderRef, user: UserId, amount: Cents) -> Result<(), ShopError> {
        payments::store::charge(self.conn, order, user, amount)
    }

    fn refund(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        payments::store::refund(self.conn, order)
    }
}

/// A component served by the process that owns its database: each call on a
/// pooled connection taken within the request's deadline, each write its own
/// transaction.
#[derive(Clone)]
pub struct Owned {
    pool: Pool,
    deadline: Deadline,
}

impl Owned {
    pub fn new(pool: Pool, deadline: Deadline) -> Self {
        Self { pool, deadline }
    }

    fn conn(&self) -> Result<PooledConnection, ShopError> {
        crate::db::conn_within(&self.pool, self.deadline)
    }

    fn write<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
    ) -> Result<T, ShopError> {
        write_transaction(&mut *self.conn()?, work)
    }
}

impl Users for Owned {
    fn user(&mut self, id: UserId) -> Result<User, ShopError> {
        users::store::find(&mut *self.conn()?, id)
    }
}

impl Catalog for Owned {
    fn products(&mut self, ids: &[ProductId]) -> Result<Vec<Product>, ShopError> {
        catalog::store::find_all(&mut *self.conn()?, ids)
    }

    fn reserve(&mut self, order: &OrderRef, lines: &[OrderLine]) -> Result<(), ShopError> {
        self.write(|conn| catalog::store::reserve(conn, order, lines))
    }

    fn release(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        self.write(|conn| catalog::store::release(conn, order))
    }
}

impl Payments for Owned {
    fn charge(&mut self, order: &OrderRef, user: UserId, amount: Cents) -> Result<(), ShopError> {
        self.write(|conn| payments::store::charge(conn, order, user, amount))
    }

    fn refund(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        self.write(|conn| payments::store::refund(conn, order))
    }
}
