//! The monolith: every component in one process, over one database.
//!
//! The routes and the rules are `common`'s, the same code the services run;
//! what is the monolith's own is the wiring: the orders component reaches
//! users, catalog and payments by function calls (`common/src/local.rs`)
//! inside one transaction (`checkout.rs`). Compare the orders service's
//! `microservices/orders/src/lib.rs`.

mod audit;
mod checkout;
mod orders;
mod wallets;

use actix_web::web;
use shoplab_common::components::Component;
use shoplab_common::db::{self, DatabaseUrl};
use shoplab_http::routes::{self, Routes};
use shoplab_http::server::Application;
use shoplab_http::Settings;

/// The monolith's name, as it announces itself and prefixes its errors.
pub const NAME: &str = "shoplab-monolith";

/// Opens (and migrates) the one database that holds every component's
/// tables, then binds `addr` (port 0 picks a free port; [`Application::port`]
/// says which) to all of API.md, under `settings` (fault plan, request
/// budget). Nothing serves until the application runs.
///
/// Call it outside an async runtime, or on a blocking thread
/// (`tokio::task::spawn_blocking`): opening the database blocks, as diesel
/// does.
pub fn build(
    addr: &str,
    database_url: &DatabaseUrl,
    settings: &Settings,
) -> anyhow::Result<Application> {
    let pool = web::Data::new(db::open(database_url, &Component::ALL)?);
    let settings = settings.clone();
    let application = Application::bind(NAME, addr, move |app| {
        settings.register(app);
        routes::health::configure(app, vec![pool.get_ref().clone()]);
        // Every component's routes on the one database, added the way a
        // service or a group adds its own (`Routes`).
        Routes::new(app, pool.clone())
            .configure(routes::users::configure)
            .configure(routes::catalog::configure)
            .configure(wallets::configure)
            .configure(orders::configure)
            .configure(audit::configure);
    })?;
    Ok(application)
}
