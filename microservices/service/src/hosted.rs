//! The components a process hosts, called in process: how a group of
//! components (`microservices/group`) reaches the members of its own group,
//! beside `remote.rs`, how it reaches the rest.
//!
//! A hosted component is called as its own service would serve the same
//! call (`common::local::Owned`: the component's own code on its own
//! database, one transaction per call, under the process's fault plan), only
//! with no request in between. [`Components`] makes the choice for each
//! call: in process for a component this process hosts, over HTTP for any
//! other. In a service that hosts none, every call goes over HTTP.

use std::sync::Arc;

use shoplab_common::components::{Catalog, Component, Payments, Users};
use shoplab_common::db::Pool;
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::{Cents, OrderLine, OrderRef, Product, ProductId, User, UserId};
use shoplab_common::faults::{FaultPlan, Faulty};
use shoplab_common::local::{drive, Owned};
use shoplab_common::ShopError;
use shoplab_http::{run_blocking, Faults};

use crate::remote::Remote;

/// The components a process hosts, each with its own database, and the
/// process's fault plan for the calls to them.
#[derive(Clone)]
pub struct Hosted {
    members: Arc<[(Component, Pool)]>,
    plan: Arc<FaultPlan>,
}

impl Hosted {
    /// A process that hosts no other component: a service.
    pub fn none() -> Self {
        Self::new(Vec::new(), Arc::new(FaultPlan::none()))
    }

    pub fn new(members: Vec<(Component, Pool)>, plan: Arc<FaultPlan>) -> Self {
        Self {
            members: members.into(),
            plan,
        }
    }

    /// `component`, if this process hosts it, as its own service serves a
    /// call, to be run on the blocking pool (diesel blocks).
    fn owned(&self, component: Component, deadline: Deadline) -> Option<Faulty<Owned>> {
        let (_, pool) = self
            .members
            .iter()
            .find(|(hosted, _)| *hosted == component)?;
        Some(Faults(self.plan.clone()).owned(pool, deadline))
    }
}

/// The other components as one request reaches them: in process for those
/// this process hosts, over HTTP ([`Remote`]) for the rest.
pub struct Components {
    hosted: Hosted,
    remote: Remote,
    deadline: Deadline,
}

impl Components {
    pub(crate) fn new(hosted: Hosted, remote: Remote, deadline: Deadline) -> Self {
        Self {
            hosted,
            remote,
            deadline,
        }
    }

    fn hosted(&self, component: Component) -> Option<Faulty<Owned>> {
        self.hosted.owned(component, self.deadline)
    }
}

impl Users for Components {
    async fn user(&mut self, id: UserId) -> Result<User, ShopError> {
        match self.hosted(Component::Users) {
            Some(mut users) => run_blocking(move || drive(users.user(id))).await,
            None => self.remote.user(id).await,
        }
    }
}

impl Catalog for Components {
    async fn products(&mut self, ids: &[ProductId]) -> Result<Vec<Product>, ShopError> {
        match self.hosted(Component::Catalog) {
            Some(mut catalog) => {
                let ids = ids.to_vec();
                run_blocking(move || drive(catalog.products(&ids))).await
            }
            None => self.remote.products(ids).await,
        }
    }

    async fn reserve(&mut self, order: &OrderRef, lines: &[OrderLine]) -> Result<(), ShopError> {
        match self.hosted(Component::Catalog) {
            Some(mut catalog) => {
                let (order, lines) = (order.clone(), lines.to_vec());
                run_blocking(move || drive(catalog.reserve(&order, &lines))).await
            }
            None => self.remote.reserve(order, lines).await,
        }
    }

    async fn release(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        match self.hosted(Component::Catalog) {
            Some(mut catalog) => {
                let order = order.clone();
                run_blocking(move || drive(catalog.release(&order))).await
            }
            None => self.remote.release(order).await,
        }
    }
}

impl Payments for Components {
    async fn charge(
        &mut self,
        order: &OrderRef,
        user: UserId,
        amount: Cents,
    ) -> Result<(), ShopError> {
        match self.hosted(Component::Payments) {
            Some(mut payments) => {
                let order = order.clone();
                run_blocking(move || drive(payments.charge(&order, user, amount))).await
            }
            None => self.remote.charge(order, user, amount).await,
        }
    }

    async fn refund(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        match self.hosted(Component::Payments) {
            Some(mut payments) => {
                let order = order.clone();
                run_blocking(move || drive(payments.refund(&order))).await
            }
            None => self.remote.refund(order).await,
        }
    }
}
