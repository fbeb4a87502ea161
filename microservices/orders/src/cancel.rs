//! Cancelling an order in the microservices: a saga too, but one that only
//! goes forward once a step may have run. The intent is recorded first
//! (`saga = cancel`), then the stock goes back, then the money, then the
//! order is marked `cancelled`. A cancel whose first step was refused, or
//! never sent, drops its intent, so its 503 is true: nothing changed. Any
//! later failure leaves the recorded cancel to recovery
//! (`recovery.rs`), and the caller is answered 504,
//! which API.md defines for a cancel as "may still take effect"
//! (docs/SAGA.md, "Answers that tell the truth"). Compare
//! `monolith/src/checkout.rs::cancel_in`: one transaction.

use shoplab_common::components::{Catalog, Payments, Users};
use shoplab_common::domain::{Order, OrderId, OrderRef, OrderStatus};
use shoplab_common::orders::checkout;
use shoplab_common::orders::saga::{self as record, Lease, Step, Token};
use shoplab_common::orders::store;
use shoplab_common::ShopError;

use crate::checkout::{refused, SagaRunner};
use crate::recovery::BACKOFF_FIRST;

impl<S: Users + Catalog + Payments> SagaRunner<S> {
    /// Cancels a `completed` order: records the intent, then returns the
    /// stock and the money, then marks it `cancelled`. If its first step is
    /// refused or never sent, the intent is dropped and the caller gets
    /// that 503; if a later step fails, the cancel is left in flight for
    /// recovery to finish, and the caller gets a 504 saying so.
    pub(crate) async fn cancel_order(&mut self, id: OrderId) -> Result<Order, ShopError> {
        let lease = self.lease();
        let Some(held) = self
            .write(move |conn| record::begin_cancel(conn, id, lease))
            .await?
        else {
            let saga = self.read(move |conn| record::load(conn, id)).await?;
            if saga.step == Some(Step::Cancel) && self.take_over(id).await? {
                return self.find(id).await;
            }
            let order = self.find(id).await?;
            if saga.step == Some(Step::Cancel) {
                return Err(ShopError::InvalidState(format!(
                    "order {id} is being cancelled by another request"
                )));
            }
            checkout::ensure_cancellable(&order)?;
            return Err(ShopError::InvalidState(format!(
                "order {id} changed while it was being cancelled"
            )));
        };
        let reference = match self.read(move |conn| store::find_ref(conn, id)).await {
            Ok(reference) => reference,
            Err(error) => return Err(self.drop_cancel(id, held, error).await),
        };
        if let Err(error) = self.shop.release(&reference).await {
            if refused(&error) {
                return Err(self.drop_cancel(id, held, error).await);
            }
            return Err(self.leave_cancel(id, held, error).await);
        }
        match self.finish_cancel(&reference, held).await {
            Ok(order) => Ok(order),
            Err(error) => Err(self.leave_cancel(id, held, error).await),
        }
    }

    /// Nothing of the cancel ran (its first step was refused, or never
    /// sent): the intent is dropped and the order stays `completed`, so the
    /// caller's 503 is true, it changed nothing (API.md). If the intent
    /// cannot be dropped, recovery will finish the cancel: then the answer
    /// says so ([`Self::leave_cancel`]).
    async fn drop_cancel(&self, id: OrderId, held: Token, error: ShopError) -> ShopError {
        let (from, to) = (Step::Cancel, OrderStatus::Completed);
        match self
            .write(move |conn| record::end(conn, id, held, from, to, None))
            .await
        {
            Ok(true) => error,
            _ => self.leave_cancel(id, held, error).await,
        }
    }

    /// A step of the cancel may have run: it cannot be taken back, so it is
    /// left to recovery to finish soon, and the caller is told so, with a
    /// 504 (API.md: a cancel answered 504 may still take effect).
    async fn leave_cancel(&self, id: OrderId, held: Token, error: ShopError) -> ShopError {
        let soon = Lease::for_next(BACKOFF_FIRST);
        let _ = self
            .write(move |conn| record::postpone(conn, id, held, soon))
            .await;
        ShopError::Timeout(format!(
            "order {id}'s cancel is recorded and finishes as soon as the components answer \
             again ({error})"
        ))
    }

    /// The steps of a cancel whose intent is recorded, after its stock
    /// went back (a repeat of that step gives nothing more, so recovery
    /// gives it back again first: [`Self::drive`]).
    pub(crate) async fn finish_cancel(
        &mut self,
        reference: &OrderRef,
        held: Token,
    ) -> Result<Order, ShopError> {
        self.shop.refund(reference).await?;
        let (id, from, to) = (reference.id, Step::Cancel, OrderStatus::Cancelled);
        self.write(move |conn| record::end(conn, id, held, from, to, None))
            .await?;
        self.find(id).await
    }
}
