//! The gateway: API.md on one base URL, routed to the services that own each
//! path. It keeps no data of its own. `/health` and `/audit` are the only
//! routes it answers itself, by asking every service; every other public
//! route is passed through as it came, with its `X-Request-Id`. The
//! services' `/internal/...` endpoints are not routed, so they answer 404
//! here.

mod audit;
mod health;
mod proxy;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use shoplab_common::http::resource;

pub use proxy::Upstream;

/// The services behind the gateway, and the client that reaches them.
#[derive(Clone)]
pub struct Upstreams {
    http: reqwest::Client,
    timeout: Duration,
    services: Arc<[(Upstream, String)]>,
}

impl Upstreams {
    /// `services`: each service and its base URL.
    pub fn new(services: Vec<(Upstream, String)>, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .timeout(timeout)
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self {
            http,
            timeout,
            services: services.into(),
        })
    }

    fn url(&self, upstream: Upstream) -> &str {
        self.services
            .iter()
            .find(|(service, _)| *service == upstream)
            .map(|(_, url)| url.as_str())
            .unwrap_or_default()
    }
}

/// Which service serves which public path (API.md's routes, nothing else).
const ROUTES: &[(&str, Upstream)] = &[
    ("/users", Upstream::Users),
    ("/users/{id}", Upstream::Users),
    ("/users/{id}/wallet", Upstream::Payments),
    ("/users/{id}/wallet/deposit", Upstream::Payments),
    ("/users/{id}/orders", Upstream::Orders),
    ("/products", Upstream::Catalog),
    ("/products/{id}", Upstream::Catalog),
    ("/orders", Upstream::Orders),
    ("/orders/{id}", Upstream::Orders),
    ("/orders/{id}/cancel", Upstream::Orders),
];

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .configure(health::configure)
        .configure(audit::configure);
    for &(path, upstream) in ROUTES {
        // Every method goes through: the service answers 405 for the ones it
        // does not serve, as it would if called directly.
        config.service(
            resource(path)
                .app_data(web::Data::new(upstream))
                .route(web::route().to(proxy::forward)),
        );
    }
}
