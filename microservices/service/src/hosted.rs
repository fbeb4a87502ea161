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
use shoplab_http::Faults;

use crate::remote::Remote;

/// The components a process hosts, each with its own database, and the
/// process's fault plan for the calls to them.
#[derive(Clone)]
pub struct Hosted {
    members: Arc<[(Component, Pool)]>,
    plan: Faults,
}

impl Hosted {
    /// A process that hosts no other component: a service.
    pub fn none() -> Self {
        Self::new(Vec::new(), Arc::new(FaultPlan::none()))
    }

    pub fn new(members: Vec<(Component, Pool)>, plan: Arc<FaultPlan>) -> Self {
        Self {
            members: members.into(),
            plan: Faults(plan),
        }
    }

    /// Where `component`'s database is, if this process hosts it.
    fn pool(&self, component: Component) -> Option<&Pool> {
        self.members
            .iter()
            .find(|(hosted, _)| *hosted == component)
            .map(|(_, pool)| pool)
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

    /// `component`, if this process hosts it: to be called in process, as
    /// its own service would serve the call (`Faults::call`).
    fn hosted(&self, component: Component) -> Option<(&Faults, &Pool)> {
        let pool = self.hosted.pool(component)?;
        Some((&self.hosted.plan, pool))
    }
}

impl Users for Components {
    async fn user(&mut self, id: UserId) -> Result<User, ShopError> {
        match self.hosted(Component::Users) {
            Some((plan, pool)) => {
                let call = move |users: &mut Faulty<Owned>| drive(users.user(id));
                plan.call(pool, self.deadline, call).await
            }
            None => self.remote.user(id).await,
        }
    }
}

impl Catalog for Components {
    async fn products(&mut self, ids: &[ProductId]) -> Result<Vec<Product>, ShopError> {
        match self.hosted(Component::Catalog) {
            Some((plan, pool)) => {
                let ids = ids.to_vec();
                let call = move |catalog: &mut Faulty<Owned>| drive(catalog.products(&ids));
                plan.call(pool, self.deadline, call).await
            }
            None => self.remote.products(ids).await,
        }
    }

    async fn reserve(&mut self, order: &OrderRef, lines: &[OrderLine]) -> Result<(), ShopError> {
        match self.hosted(Component::Catalog) {
            Some((plan, pool)) => {
                let (order, lines) = (order.clone(), lines.to_vec());
                let call =
                    move |catalog: &mut Faulty<Owned>| drive(catalog.reserve(&order, &lines));
                plan.call(pool, self.deadline, call).await
            }
            None => self.remote.reserve(order, lines).await,
        }
    }

    async fn release(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        match self.hosted(Component::Catalog) {
            Some((plan, pool)) => {
                let order = order.clone();
                let call = move |catalog: &mut Faulty<Owned>| drive(catalog.release(&order));
                plan.call(pool, self.deadline, call).await
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
            Some((plan, pool)) => {
                let order = order.clone();
                let call = move |payments: &mut Faulty<Owned>| {
                    drive(payments.charge(&order, user, amount))
                };
                plan.call(pool, self.deadline, call).await
            }
            None => self.remote.charge(order, user, amount).await,
        }
    }

    async fn refund(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        match self.hosted(Component::Payments) {
            Some((plan, pool)) => {
                let order = order.clone();
                let call = move |payments: &mut Faulty<Owned>| drive(payments.refund(&order));
                plan.call(pool, self.deadline, call).await
            }
            None => self.remote.refund(order).await,
        }
    }
}
