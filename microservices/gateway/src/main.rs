//! The gateway's binary: its flags, where the services are, then
//! `shoplab_gateway::build` (in `lib.rs`).

use std::time::Duration;

use clap::Parser;
use shoplab_common::components::Component;
use shoplab_gateway::{build, Upstreams, NAME};
use shoplab_service::{exit_on_error, run, HopDelay};

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
    #[command(flatten)]
    hop_delay: HopDelay,
}

fn main() {
    let args = Args::parse();
    let services = vec![
        (Component::Users, args.users_url),
        (Component::Catalog, args.catalog_url),
        (Component::Payments, args.payments_url),
        (Component::Orders, args.orders_url),
    ];
    let timeout = Duration::from_millis(args.timeout_ms);
    let result = Upstreams::new(services, timeout, args.hop_delay)
        .and_then(|upstreams| build(&args.addr, upstreams))
        .and_then(run);
    exit_on_error(NAME, result);
}
