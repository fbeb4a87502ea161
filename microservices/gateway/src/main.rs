//! The gateway's binary: its flags, where the services are, then
//! `shoplab_gateway::build` (in `lib.rs`).

use clap::Parser;
use shoplab_gateway::{build, Behind, EdgeLimits, Services, Upstreams, NAME};
use shoplab_http::SettingsArgs;
use shoplab_service::balance::{HealthArgs, ReplicaUrls, Replicas};
use shoplab_service::guard::GuardArgs;
use shoplab_service::{exit_on_error, run, HopDelay};

/// API.md on one base URL, in front of the users, catalog, payments and
/// orders services, or, with --monolith-url, a load balancer in front of
/// several monolith processes. Any --*-url takes a comma-separated list of
/// replicas.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Base URL(s) of the users service.
    #[arg(long, required_unless_present = "monolith_url")]
    users_url: Option<ReplicaUrls>,
    /// Base URL(s) of the catalog service.
    #[arg(long, required_unless_present = "monolith_url")]
    catalog_url: Option<ReplicaUrls>,
    /// Base URL(s) of the payments service.
    #[arg(long, required_unless_present = "monolith_url")]
    payments_url: Option<ReplicaUrls>,
    /// Base URL(s) of the orders service.
    #[arg(long, required_unless_present = "monolith_url")]
    orders_url: Option<ReplicaUrls>,
    /// Instead of the services: base URLs of monolith processes on one
    /// database. Every route then goes to one of them.
    #[arg(long, conflicts_with_all = ["users_url", "catalog_url", "payments_url", "orders_url"])]
    monolith_url: Option<ReplicaUrls>,
    #[command(flatten)]
    hop_delay: HopDelay,
    #[command(flatten)]
    health: HealthArgs,
    #[command(flatten)]
    guard: GuardArgs,
    #[command(flatten)]
    limits: EdgeLimits,
    /// `--deadline-ms`: each request's budget, passed to the service as
    /// `X-Deadline-Ms`; the gateway itself waits a little longer, so that the
    /// service, which knows what to undo, is the one that gives up first.
    /// (`--fault-plan` is accepted like every binary's, and does nothing
    /// here: the gateway runs no component.)
    #[command(flatten)]
    settings: SettingsArgs,
}

impl Args {
    /// What the flags put behind the gateway.
    fn behind(&self) -> Behind {
        let pool = |service: &str, urls: &Option<ReplicaUrls>| {
            // clap requires all four when --monolith-url is absent.
            Replicas::new(service, urls.clone().unwrap_or(ReplicaUrls(Vec::new())))
        };
        match &self.monolith_url {
            Some(urls) => Behind::Monolith(Replicas::new("monolith", urls.clone())),
            None => Behind::Services(Services {
                users: pool("users", &self.users_url),
                catalog: pool("catalog", &self.catalog_url),
                payments: pool("payments", &self.payments_url),
                orders: pool("orders", &self.orders_url),
            }),
        }
    }
}

fn main() {
    let args: Args = shoplab_http::cli::parse();
    let behind = args.behind();
    let result = args
        .settings
        .load(NAME)
        .and_then(|settings| {
            Upstreams::new(
                behind,
                settings.budget,
                args.hop_delay,
                args.health.interval(),
                args.guard,
                args.limits,
            )
        })
        .and_then(|upstreams| build(&args.addr, upstreams))
        .and_then(run);
    exit_on_error(NAME, result);
}
