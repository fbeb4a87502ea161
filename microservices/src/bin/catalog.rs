//! The catalog service: products and stock, with its own database.

use clap::Parser;
use shoplab_common::components::Component;
use shoplab_microservices::catalog;
use shoplab_microservices::service::{exit_on_error, serve, ServiceArgs};

/// The catalog component as its own service (owns products and reservations).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
}

fn main() {
    let args = Args::parse();
    let result = serve(Component::Catalog, args.service, catalog::configure);
    exit_on_error("shoplab-catalog", result);
}
