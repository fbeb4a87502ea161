//! The payments service: wallets and payments, with its own database. It asks
//! the users service whether a wallet's user exists.

use actix_web::web;
use clap::Parser;
use shoplab_common::components::Component;
use shoplab_microservices::payments;
use shoplab_microservices::remote::{PeerClient, Peers};
use shoplab_microservices::service::{exit_on_error, serve, CallArgs, ServiceArgs};

/// The payments component as its own service (owns wallets and payments).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    /// Base URL of the users service, e.g. http://127.0.0.1:8081
    #[arg(long)]
    users_url: String,
    #[command(flatten)]
    calls: CallArgs,
}

fn main() {
    let args = Args::parse();
    let peers = Peers {
        users: Some(args.users_url),
        ..Peers::default()
    };
    // Built before the async runtime starts: see remote.rs.
    let result = PeerClient::new(peers, args.calls.timeout()).and_then(|peers| {
        let peers = web::Data::new(peers);
        serve(Component::Payments, args.service, move |app| {
            app.app_data(peers.clone()).configure(payments::configure);
        })
    });
    exit_on_error("shoplab-payments", result);
}
