//! The monolith: every component in one process, over one database.
//!
//! Compare with the orders service's wiring in
//! `microservices/src/bin/orders.rs`: the routes and the rules are the same
//! code; here the orders component reaches users, catalog and payments by
//! function calls (`common/src/local.rs`) inside one transaction.

mod audit;
mod checkout;
mod orders;
mod wallets;

use actix_web::{web, HttpServer};
use anyhow::Context;
use clap::Parser;
use shoplab_common::components::Component;
use shoplab_common::db::{self, DatabaseUrl};
use shoplab_common::error::one_line;
use shoplab_common::http::routes;
use shoplab_common::http::server::{announce, shop_app, SERVER_KEEP_ALIVE};

/// The whole shop in one process: serves all of API.md from one database.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// The database: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, default_value = "sqlite://data/monolith.db", value_parser = DatabaseUrl::parse)]
    database_url: DatabaseUrl,
}

fn main() {
    let args = Args::parse();
    if let Err(error) = run(args) {
        eprintln!("shoplab-monolith: {}", one_line(&format!("{error:#}")));
        std::process::exit(1);
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    // One database holds every component's tables. Opened (and migrated)
    // before the async runtime starts, as diesel is blocking.
    let pool = db::open(&args.database_url, &Component::ALL)?;
    let pool = web::Data::new(pool);
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            let pool = pool.clone();
            shop_app(move |app| {
                app.app_data(pool)
                    .configure(routes::health::configure)
                    .configure(routes::users::configure)
                    .configure(routes::catalog::configure)
                    .configure(wallets::configure)
                    .configure(orders::configure)
                    .configure(audit::configure);
            })
        })
        .keep_alive(SERVER_KEEP_ALIVE)
        .bind(&args.addr)
        .with_context(|| format!("cannot listen on {}", args.addr))?;
        announce("shoplab-monolith", &server.addrs());
        server.run().await.context("the server stopped")
    })
}
