//! The gateway's binary: its flags, where the services are, then
//! `shoplab_gateway::build` (in `lib.rs`).

use clap::Parser;
use shoplab_common::components::Component;
use shoplab_common::http::SettingsArgs;
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
    #[command(flatten)]
    hop_delay: HopDelay,
    /// `--deadline-ms`: each request's budget, passed to the service as
    /// `X-Deadline-Ms`; the gateway itself waits a little longer, so that the
    /// service, which knows what to undo, is the one that gives up first.
    /// (`--fault-plan` is accepted like every binary's, and does nothing
    /// here: the gateway runs no component.)
    #[command(flatten)]
    settings: SettingsArgs,
}

fn main() {
    let args = Args::parse();
    let services = vec![
        (Component::Users, args.users_url),
        (Component::Catalog, args.catalog_url),
        (Component::Payments, args.payments_url),
        (Component::Orders, args.orders_url),
    ];
    let result = args
        .settings
        .load(NAME)
        .and_then(|settings| Upstreams::new(services, settings.budget, args.hop_delay))
        .and_then(|upstreams| build(&args.addr, upstreams))
        .and_then(run);
    exit_on_error(NAME, result);
}
