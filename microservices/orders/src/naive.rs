//! The naive way to place an order across the services (`--tx naive`):
//! the saga's calls in the same order, with no recorded state and no
//! compensation, so the chaos experiment can show what a saga is for.

use std::sync::Arc;

use shoplab_common::components::{Catalog, Payments, Users};
use shoplab_common::db::{DbConnection, Pool};
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::{Order, OrderId, OrderStatus};
use shoplab_common::faults::FaultPlan;
use shoplab_common::metrics::orders as counted;
use shoplab_common::orders::checkout::{self, Checkout, PlaceOrder, Placed};
use shoplab_common::orders::store;
use shoplab_common::ShopError;

use crate::checkout::in_write_transaction;

/// The naive way: the same calls in the same order, with no saga state and
/// no compensation. A failure after the stock was taken leaves it taken; a
/// crash mid-way leaves the order `pending` (until an orders service that
/// runs sagas resolves it: `recover_due`). Only for the chaos experiment to
/// show what a saga is for.
pub struct Naive<S> {
    pub pool: Pool,
    pub shop: S,
    pub deadline: Deadline,
    /// The process's fault plan, for the orders component's own write
    /// (`orders.insert`), struck here as in the saga and the monolith.
    pub faults: Arc<FaultPlan>,
}

impl<S: Users + Catalog + Payments> Naive<S> {
    /// Runs `work` in one write transaction of the orders database, on the
    /// blocking pool.
    async fn on_orders<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError> + Send + 'static,
    ) -> Result<T, ShopError> {
        in_write_transaction(&self.pool, self.deadline, work).await
    }

    async fn mark(
        &self,
        id: OrderId,
        to: OrderStatus,
        failure: Option<&'static str>,
    ) -> Result<(), ShopError> {
        self.on_orders(move |conn| store::transition(conn, id, OrderStatus::Pending, to, failure))
            .await?;
        Ok(())
    }
}

impl<S: Users + Catalog + Payments + Sync + 'static> Checkout for Naive<S> {
    async fn place(&mut self, request: PlaceOrder) -> Result<Placed, ShopError> {
        let quote = checkout::quote(&mut self.shop, &request).await?;
        let (recorded, key) = (quote.clone(), request.idempotency_key.clone());
        let (faults, deadline) = (self.faults.clone(), self.deadline);
        let (order, reference) = self
            .on_orders(move |conn| {
                checkout::record(conn, &recorded, key.as_ref(), None, &faults, deadline)
            })
            .await?;
        let id = reference.id;
        let taken = match self.shop.reserve(&reference, request.items.lines()).await {
            Ok(()) => self.shop.charge(&reference, quote.user, quote.total).await,
            Err(error) => Err(error),
        };
        match taken {
            Ok(()) => {
                self.mark(id, OrderStatus::Completed, None).await?;
                counted::completed();
                Ok(Placed::Completed(Order {
                    status: OrderStatus::Completed,
                    ..order
                }))
            }
            Err(error) => {
                self.mark(id, OrderStatus::Failed, Some(error.code()))
                    .await?;
                counted::failed(error.code());
                Ok(Placed::Failed {
                    order: Order {
                        status: OrderStatus::Failed,
                        failure: Some(error.code().to_owned()),
                        ..order
                    },
                    error,
                })
            }
        }
    }

    async fn resume(&mut self, id: OrderId) -> Result<Placed, ShopError> {
        let order = self.on_orders(move |conn| store::find(conn, id)).await?;
        Ok(Placed::settled(order))
    }

    /// Refunds, returns the stock, marks the order `cancelled`: no intent
    /// recorded, nothing resumed.
    async fn cancel(&mut self, id: OrderId) -> Result<Order, ShopError> {
        let reference = self
            .on_orders(move |conn| {
                checkout::ensure_cancellable(&store::find(conn, id)?)?;
                store::find_ref(conn, id)
            })
            .await?;
        self.shop.release(&reference).await?;
        self.shop.refund(&reference).await?;
        self.on_orders(move |conn| {
            let (from, to) = (OrderStatus::Completed, OrderStatus::Cancelled);
            store::transition(conn, id, from, to, None)?;
            store::find(conn, id)
        })
        .await
    }
}
