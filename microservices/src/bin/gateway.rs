//! The gateway: serves API.md on one base URL by routing to the services.

use std::time::Duration;

use actix_web::{web, HttpServer};
use anyhow::Context;
use clap::Parser;
use shoplab_common::components::Component;
use shoplab_common::http::server::{announce, shop_app, SERVER_KEEP_ALIVE};
use shoplab_microservices::gateway::{self, Upstreams};
use shoplab_microservices::service::exit_on_error;

/// API.md on one base URL, in front of the users, catalog, payments and
/// orders services.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Base URL of the users service.
    #[arg(long)]
    users_url: String,
    /// Base URL of the catalog service.
    #[arg(long)]
    catalog_url: String,
    /// Base URL of the payments service.
    #[arg(long)]
    payments_url: String,
    /// Base URL of the orders service.
    #[arg(long)]
    orders_url: String,
    /// How long a service may take to answer before the caller gets 504. Well
    /// beyond an order's worst case in the orders service (a handful of 3 s
    /// calls and waits for its database), so that the orders service, which
    /// knows what to undo, is the one that gives up first.
    #[arg(long, default_value_t = 60_000)]
    timeout_ms: u64,
}

fn main() {
    let args = Args::parse();
    let result = actix_web::rt::System::new().block_on(run(args));
    exit_on_error("shoplab-gateway", result);
}

async fn run(args: Args) -> anyhow::Result<()> {
    let upstreams = Upstreams::new(
        vec![
            (Component::Users, args.users_url),
            (Component::Catalog, args.catalog_url),
            (Component::Payments, args.payments_url),
            (Component::Orders, args.orders_url),
        ],
        Duration::from_millis(args.timeout_ms),
    )?;
    let upstreams = web::Data::new(upstreams);
    let server = HttpServer::new(move || {
        let upstreams = upstreams.clone();
        shop_app(move |app| {
            app.app_data(upstreams).configure(gateway::configure);
        })
    })
    .keep_alive(SERVER_KEEP_ALIVE)
    .bind(&args.addr)
    .with_context(|| format!("cannot listen on {}", args.addr))?;
    announce("shoplab-gateway", &server.addrs());
    server.run().await.context("the server stopped")
}
