//! The group's binary: which components it hosts, their databases, where
//! the others are, then `shoplab_group::build` (in `lib.rs`).

use clap::Parser;
use shoplab_common::components::Component;
use shoplab_common::db::DatabaseUrl;
use shoplab_common::grouping::parse_group;
use shoplab_group::{build, Calls, Group, NAME};
use shoplab_http::SettingsArgs;
use shoplab_orders::Tx;
use shoplab_service::balance::{ReplicaUrls, Replicas};
use shoplab_service::client::Peers;
use shoplab_service::{exit_on_error, run, CallArgs};

/// Any group of the shop's components as one process: calls between its
/// own components are function calls, calls to the others go over HTTP,
/// and every component keeps a database of its own. `--components
/// users+catalog+payments+orders` is the modular monolith, which serves
/// all of API.md itself; any smaller group stands behind the gateway.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The components this process hosts, joined with +
    /// (e.g. users+payments).
    #[arg(long, value_parser = members)]
    components: Members,
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    /// The users component's own database (default: ./data/users.db).
    #[arg(long, value_parser = DatabaseUrl::parse)]
    users_database_url: Option<DatabaseUrl>,
    /// The catalog component's own database (default: ./data/catalog.db).
    #[arg(long, value_parser = DatabaseUrl::parse)]
    catalog_database_url: Option<DatabaseUrl>,
    /// The payments component's own database (default: ./data/payments.db).
    #[arg(long, value_parser = DatabaseUrl::parse)]
    payments_database_url: Option<DatabaseUrl>,
    /// The orders component's own database (default: ./data/orders.db).
    #[arg(long, value_parser = DatabaseUrl::parse)]
    orders_database_url: Option<DatabaseUrl>,
    /// Where users runs, when this group does not host it and calls it;
    /// several URLs, comma-separated, for its replicas.
    #[arg(long)]
    users_url: Option<ReplicaUrls>,
    /// Where catalog runs, when this group does not host it and calls it.
    #[arg(long)]
    catalog_url: Option<ReplicaUrls>,
    /// Where payments runs, when this group does not host it and calls it.
    #[arg(long)]
    payments_url: Option<ReplicaUrls>,
    /// How the group calls its own components: in-process (function
    /// calls) or http (loopback HTTP to its own port: the network's cost
    /// without another process).
    #[arg(long, value_enum, default_value_t = Calls::InProcess)]
    calls: Calls,
    #[command(flatten)]
    call_args: CallArgs,
    /// How orders are held together, when the group hosts orders: `saga`
    /// or `naive` (no compensation, only to show what goes wrong).
    #[arg(long, value_enum, default_value_t = Tx::Saga)]
    tx: Tx,
    #[command(flatten)]
    recovery: shoplab_orders::RecoveryArgs,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// A group's components, as `--components` names them.
#[derive(Clone)]
struct Members(Vec<Component>);

fn members(text: &str) -> Result<Members, String> {
    parse_group(text)
        .map(Members)
        .map_err(|error| error.to_string())
}

fn main() {
    let args: Args = shoplab_http::cli::parse();
    let databases = [
        (Component::Users, args.users_database_url),
        (Component::Catalog, args.catalog_database_url),
        (Component::Payments, args.payments_database_url),
        (Component::Orders, args.orders_database_url),
    ]
    .into_iter()
    .filter_map(|(component, url)| Some((component, url?)))
    .collect();
    let replicas = |component: &str, urls: Option<ReplicaUrls>| {
        urls.map(|urls| Replicas::new(component, urls))
    };
    let group = Group {
        components: args.components.0,
        addr: args.addr,
        databases,
        peers: Peers {
            users: replicas("users", args.users_url),
            catalog: replicas("catalog", args.catalog_url),
            payments: replicas("payments", args.payments_url),
        },
        calls: args.calls,
        call_args: args.call_args,
        settings: args.settings,
        tx: args.tx,
        recovery: args.recovery,
    };
    // Built before the async runtime starts: see `build`.
    let result = build(group).and_then(run);
    exit_on_error(NAME, result);
}
