//! The payments service's binary: its flags, where its peer is, then
//! `shoplab_payments::build` (in `lib.rs`). It asks the users service
//! whether a wallet's user exists.

use clap::Parser;
use shoplab_payments::{build, NAME};
use shoplab_service::balance::{ReplicaUrls, Replicas};
use shoplab_service::client::Peers;
use shoplab_service::{exit_on_error, run, CallArgs, ServiceArgs};

/// The payments component as its own service (owns wallets and payments).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    /// Base URL of the users service, e.g. http://127.0.0.1:8081; several,
    /// comma-separated, for its replicas.
    #[arg(long)]
    users_url: ReplicaUrls,
    #[command(flatten)]
    calls: CallArgs,
}

fn main() {
    let args: Args = shoplab_http::cli::parse();
    let peers = Peers {
        users: Some(Replicas::new("users", args.users_url)),
        ..Peers::default()
    };
    // Built before the async runtime starts: see `build`.
    let result = build(args.service, peers, &args.calls).and_then(run);
    exit_on_error(NAME, result);
}
