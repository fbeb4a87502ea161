//! The orders service's binary: its flags, where its peers are, then
//! `shoplab_orders::build` (in `lib.rs`). Compare with the monolith's
//! `monolith/src/main.rs`: the routes and rules are the same code; here the
//! orders component reaches users, catalog and payments over HTTP
//! (`microservices/service/src/remote.rs`), and an order is a saga
//! (`checkout.rs`).

use clap::Parser;
use shoplab_orders::{build, RecoveryArgs, Tx, NAME};
use shoplab_service::balance::{ReplicaUrls, Replicas};
use shoplab_service::client::Peers;
use shoplab_service::{exit_on_error, run, CallArgs, ServiceArgs};

/// The orders component as its own service (owns orders and idempotency keys).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    /// Base URL of the users service; several, comma-separated, for its
    /// replicas (calls are spread over them and skip one that is down).
    #[arg(long)]
    users_url: ReplicaUrls,
    /// Base URL of the catalog service; several, comma-separated, for its
    /// replicas (calls are spread over them and skip one that is down).
    #[arg(long)]
    catalog_url: ReplicaUrls,
    /// Base URL of the payments service; several, comma-separated, for its
    /// replicas (calls are spread over them and skip one that is down).
    #[arg(long)]
    payments_url: ReplicaUrls,
    #[command(flatten)]
    calls: CallArgs,
    /// How orders are held together: `saga` (recorded state, compensations,
    /// recovery) or `naive` (the same calls with none of that, only to show
    /// what goes wrong without them).
    #[arg(long, value_enum, default_value_t = Tx::Saga)]
    tx: Tx,
    #[command(flatten)]
    recovery: RecoveryArgs,
}

fn main() {
    let args: Args = shoplab_http::cli::parse();
    let peers = Peers {
        users: Some(Replicas::new("users", args.users_url)),
        catalog: Some(Replicas::new("catalog", args.catalog_url)),
        payments: Some(Replicas::new("payments", args.payments_url)),
    };
    // Built before the async runtime starts: see `build`.
    let result = build(args.service, peers, &args.calls, args.tx, args.recovery).and_then(run);
    exit_on_error(NAME, result);
}
