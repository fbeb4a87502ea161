//! The gateway: API.md on one base URL, routed to the services that own each
//! path. It keeps no data of its own. `/health`, `/audit` and
//! `/audit/orders/{id}` are the only routes it answers itself, by asking the
//! services; every other public route is passed through as it came, with its
//! `X-Request-Id` and what is left of its deadline (`X-Deadline-Ms`). The
//! services' `/internal/...` endpoints are not routed, so they answer 404
//! here.
//!
//! It is also the lab's load balancer: each service may run as several
//! replicas (`--catalog-url A,B,C`), spread over as `balance.rs` in
//! `shoplab-service` says, and in front of several monolith processes on one
//! database (`--monolith-url A,B,C`) it passes every route, `/audit` too, to
//! one of them and answers only `/health` itself.

mod audit;
mod health;
mod proxy;
mod upstreams;

use std::time::Duration;

use actix_web::web;
use shoplab_common::components::Component;
use shoplab_http::resource;
use shoplab_http::server::Application;
use shoplab_service::balance::Replicas;

pub use upstreams::{Retry, Upstreams, ABOVE_DEADLINE};

/// The gateway's name, as it announces itself and prefixes its errors.
pub const NAME: &str = "shoplab-gateway";

/// Binds `addr` (port 0 picks a free port; [`Application::port`] says which)
/// to API.md's routes, served through `upstreams`. Nothing serves until the
/// application runs. The gateway opens no database and its client is
/// reqwest's async one, so unlike the services' `build` this may be called
/// from inside a runtime as well as outside.
pub fn build(addr: &str, upstreams: Upstreams) -> anyhow::Result<Application> {
    let upstreams = web::Data::new(upstreams);
    let budget = web::Data::new(upstreams.budget);
    let application = Application::bind(NAME, addr, move |app| {
        app.app_data(upstreams.clone()).app_data(budget.clone());
        configure(app, &upstreams.behind);
    })?;
    Ok(application)
}

/// The gateway's defences against clients and services that send too
/// slowly or too much: one slow client must not hold a handler, one huge
/// answer must not fill the gateway's memory.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct EdgeLimits {
    /// How long a client may take to send a request's whole body; past it
    /// the request is cut off with 408 `request_timeout`, unsent.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_BODY_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub body_timeout_ms: u64,
    /// The largest answer the gateway passes back from a service; a larger
    /// one becomes 502 `bad_gateway`.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_ANSWER_BYTES,
          value_parser = clap::value_parser!(u64).range(1024..=1 << 30))]
    pub max_answer_bytes: u64,
}

pub const DEFAULT_BODY_TIMEOUT_MS: u64 = 5_000;
/// 16 MiB: `GET /products?limit=500` is about 50 KB; a user's whole order
/// history, tens of thousands of orders, fits.
pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 16 << 20;

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            body_timeout_ms: DEFAULT_BODY_TIMEOUT_MS,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
        }
    }
}

impl EdgeLimits {
    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }
}

/// What stands behind the gateway.
#[derive(Clone)]
pub enum Behind {
    /// The four services, each with its replicas: a path goes to the
    /// service that owns it.
    Services(Services),
    /// Monolith processes on one database: every path goes to one of them,
    /// `/audit` too. The gateway is then only a load balancer.
    Monolith(Replicas),
}

/// Each service's replicas.
#[derive(Clone)]
pub struct Services {
    pub users: Replicas,
    pub catalog: Replicas,
    pub payments: Replicas,
    pub orders: Replicas,
}

impl Services {
    /// The four services, one process each, at these base URLs.
    pub fn one_each(users: &str, catalog: &str, payments: &str, orders: &str) -> Self {
        Self {
            users: Replicas::one("users", users),
            catalog: Replicas::one("catalog", catalog),
            payments: Replicas::one("payments", payments),
            orders: Replicas::one("orders", orders),
        }
    }

    fn of(&self, service: Component) -> &Replicas {
        match service {
            Component::Users => &self.users,
            Component::Catalog => &self.catalog,
            Component::Payments => &self.payments,
            Component::Orders => &self.orders,
        }
    }
}

impl Behind {
    /// Every pool of replicas, once each.
    fn pools(&self) -> Vec<&Replicas> {
        match self {
            Behind::Services(services) => Component::ALL
                .iter()
                .map(|&service| services.of(service))
                .collect(),
            Behind::Monolith(monoliths) => vec![monoliths],
        }
    }
}

/// Which service serves which public path (API.md's routes, nothing else).
const ROUTES: &[(&str, Component)] = &[
    ("/users", Component::Users),
    ("/users/{id}", Component::Users),
    ("/users/{id}/wallet", Component::Payments),
    ("/users/{id}/wallet/deposit", Component::Payments),
    ("/users/{id}/orders", Component::Orders),
    ("/products", Component::Catalog),
    ("/products/{id}", Component::Catalog),
    ("/orders", Component::Orders),
    ("/orders/{id}", Component::Orders),
    ("/orders/{id}/cancel", Component::Orders),
];

/// The routes the monolith serves beyond the shared ones: behind a gateway
/// in front of monoliths they are passed through too.
const MONOLITH_ROUTES: &[(&str, Component)] = &[
    ("/audit", Component::Orders),
    ("/audit/orders/{id}", Component::Orders),
];

fn configure(config: &mut web::ServiceConfig, behind: &Behind) {
    config.configure(health::configure);
    let mut passed_through = ROUTES.to_vec();
    match behind {
        Behind::Services(_) => {
            config.configure(audit::configure);
        }
        Behind::Monolith(_) => passed_through.extend_from_slice(MONOLITH_ROUTES),
    }
    for (path, upstream) in passed_through {
        // Every method goes through: the service answers 405 (and `Allow`)
        // for the ones it does not serve, as it would if called directly.
        config.service(
            resource(path)
                .app_data(web::Data::new(upstream))
                .any(proxy::forward),
        );
    }
}
