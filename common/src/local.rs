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
//!
//! They differ only in how a call reaches the database ([`Access`]): the
//! store calls themselves are written once, for both ([`Stores`]).
//!
//! Both are async only in name: their calls run diesel, which blocks, and
//! never wait on anything else, so each future is ready the first time it is
//! polled. They are driven on a blocking thread by [`drive`], never awaited
//! on the async executor.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use crate::components::{Catalog, Payments, Users};
use crate::db::{write_transaction, DbConnection, Pool, PooledConnection};
use crate::deadline::Deadline;
use crate::domain::{Cents, OrderLine, OrderRef, Product, ProductId, User, UserId};
use crate::{catalog, payments, users, ShopError};

/// Runs an in-process component call (or a block of them) to its end on
/// this thread, which must be one that may block (a blocking-pool thread,
/// inside `run_blocking`). The calls are ready at once, so this polls once;
/// should anything in them ever wait, the thread sleeps until it is woken.
/// The monolith drives its whole order this way inside its one transaction
/// (`monolith/src/checkout.rs`); the orders service awaits the same
/// interfaces on its runtime instead (`microservices/orders/src/checkout.rs`).
pub fn drive<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

/// Wakes the thread that [`drive`]s a future.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// How a component's store calls reach its database: the one difference
/// between [`InProcess`] and [`Owned`]. A read runs `work` on a connection;
/// a write runs it as a unit of its own, or not, as the holder says.
pub trait Access: Send {
    fn read<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
    ) -> Result<T, ShopError>;

    fn write<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
    ) -> Result<T, ShopError>;
}

/// The component interfaces as calls into the components' stores, over
/// some [`Access`]: the one set of impls, so an operation is added here
/// once for both.
#[derive(Clone)]
pub struct Stores<A>(A);

/// On the connection the caller holds, inside its transaction: a write is
/// part of the caller's unit, and commits or rolls back with it.
pub struct Held<'c>(&'c mut DbConnection);

/// Each call on a pooled connection taken within the request's deadline,
/// each write a transaction of its own.
#[derive(Clone)]
pub struct Pooled {
    pool: Pool,
    deadline: Deadline,
}

/// Calls on the caller's connection (the monolith's order).
pub type InProcess<'c> = Stores<Held<'c>>;

/// Calls by the process that owns the component's database (a service's
/// internal endpoints, the shared reads, a group's hosted calls).
pub type Owned = Stores<Pooled>;

impl<'c> Stores<Held<'c>> {
    pub fn new(conn: &'c mut DbConnection) -> Self {
        Self(Held(conn))
    }

    /// The same connection, for the orders component's own tables.
    pub fn conn(&mut self) -> &mut DbConnection {
        self.0 .0
    }
}

impl Stores<Pooled> {
    pub fn new(pool: Pool, deadline: Deadline) -> Self {
        Self(Pooled { pool, deadline })
    }
}

impl Access for Held<'_> {
    fn read<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
    ) -> Result<T, ShopError> {
        work(self.0)
    }

    fn write<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
    ) -> Result<T, ShopError> {
        work(self.0)
    }
}

impl Pooled {
    fn conn(&self) -> Result<PooledConnection, ShopError> {
        crate::db::conn_within(&self.pool, self.deadline)
    }
}

impl Access for Pooled {
    fn read<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
    ) -> Result<T, ShopError> {
        work(&mut *self.conn()?)
    }

    fn write<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
    ) -> Result<T, ShopError> {
        write_transaction(&mut *self.conn()?, work)
    }
}

impl<A: Access> Users for Stores<A> {
    async fn user(&mut self, id: UserId) -> Result<User, ShopError> {
        self.0.read(|conn| users::store::find(conn, id))
    }
}

impl<A: Access> Catalog for Stores<A> {
    async fn products(&mut self, ids: &[ProductId]) -> Result<Vec<Product>, ShopError> {
        self.0.read(|conn| catalog::store::find_all(conn, ids))
    }

    async fn reserve(&mut self, order: &OrderRef, lines: &[OrderLine]) -> Result<(), ShopError> {
        self.0
            .write(|conn| catalog::store::reserve(conn, order, lines))
    }

    async fn release(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        self.0.write(|conn| catalog::store::release(conn, order))
    }
}

impl<A: Access> Payments for Stores<A> {
    async fn charge(
        &mut self,
        order: &OrderRef,
        user: UserId,
        amount: Cents,
    ) -> Result<(), ShopError> {
        self.0
            .write(|conn| payments::store::charge(conn, order, user, amount))
    }

    async fn refund(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        self.0.write(|conn| payments::store::refund(conn, order))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_future_that_waits_is_driven_to_its_end() {
        let (sender, receiver) = std::sync::mpsc::channel::<Waker>();
        let mut polled = false;
        let waiting = std::future::poll_fn(move |cx| {
            if polled {
                return Poll::Ready(7);
            }
            polled = true;
            sender.send(cx.waker().clone()).expect("the receiver waits");
            Poll::Pending
        });
        let waker = std::thread::spawn(move || receiver.recv().expect("a waker comes").wake());
        assert_eq!(drive(waiting), 7);
        waker.join().expect("the waking thread ends");
    }
}
