//! The orders service, with its own database. Compare with the monolith's
//! wiring in `monolith/src/main.rs`: the routes and rules are the same code;
//! here the orders component reaches users, catalog and payments over HTTP
//! (`src/remote.rs`), and an order is a saga (`src/orders/checkout.rs`).

use actix_web::web;
use clap::Parser;
use shoplab_common::components::Component;
use shoplab_microservices::orders;
use shoplab_microservices::remote::{PeerClient, Peers};
use shoplab_microservices::service::{exit_on_error, serve, CallArgs, ServiceArgs};

/// The orders component as its own service (owns orders and idempotency keys).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    /// Base URL of the users service.
    #[arg(long)]
    users_url: String,
    /// Base URL of the catalog service.
    #[arg(long)]
    catalog_url: String,
    /// Base URL of the payments service.
    #[arg(long)]
    payments_url: String,
    #[command(flatten)]
    calls: CallArgs,
}

fn main() {
    let args = Args::parse();
    let peers = Peers {
        users: Some(args.users_url),
        catalog: Some(args.catalog_url),
        payments: Some(args.payments_url),
    };
    // Built before the async runtime starts: see remote.rs.
    let result = PeerClient::new(peers, args.calls.timeout()).and_then(|peers| {
        let peers = web::Data::new(peers);
        serve(Component::Orders, args.service, move |app| {
            app.app_data(peers.clone()).configure(orders::configure);
        })
    });
    exit_on_error("shoplab-orders", result);
}
