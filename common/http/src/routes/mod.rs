//! Routes whose handling is the same in every deployment: users and products
//! touch only their own component, so the monolith and the users and catalog
//! services mount these very handlers; reading an order and the frame of a
//! cancel ([`orders`]) are shared by the monolith and the orders service.
//!
//! A component's routes are added through [`Routes`], which hands every one
//! of them the component's own database: so one process can host several
//! components, each on a database of its own (`microservices/group`), and
//! each handler's `web::Data<Pool>` is its own component's.

pub mod catalog;
pub mod health;
pub mod orders;
pub mod users;

use actix_web::web;

use crate::contract::Resource;
use shoplab_common::db::Pool;

/// Where a component's routes are added: the app, and the component's
/// database, which every resource added here carries as its own data
/// (resource data comes before the app's when a handler asks for it).
pub struct Routes<'a> {
    config: &'a mut web::ServiceConfig,
    pool: web::Data<Pool>,
}

impl<'a> Routes<'a> {
    /// The routes of the component whose database is `pool`.
    pub fn new(config: &'a mut web::ServiceConfig, pool: web::Data<Pool>) -> Self {
        Self { config, pool }
    }

    /// Adds `resource`, its handlers on this component's database.
    pub fn service(&mut self, resource: Resource) -> &mut Self {
        self.config.service(resource.app_data(self.pool.clone()));
        self
    }

    /// Data every handler of the app can extract, whichever component it
    /// serves (the process's client to the other components).
    pub fn app_data<U: 'static>(&mut self, data: U) -> &mut Self {
        self.config.app_data(data);
        self
    }

    /// Adds the routes `configure` adds, on the same database.
    pub fn configure(&mut self, configure: impl FnOnce(&mut Routes<'_>)) -> &mut Self {
        configure(self);
        self
    }
}
