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
use shoplab_common::components::Component;
use shoplab_common::http::resource;
use shoplab_common::http::server::{Application, CLIENT_IDLE};
use shoplab_service::HopDelay;

/// The gateway's name, as it announces itself and prefixes its errors.
pub const NAME: &str = "shoplab-gateway";

/// Binds `addr` (port 0 picks a free port; [`Application::port`] says which)
/// to API.md's routes, served through `upstreams`. Nothing serves until the
/// application runs. The gateway opens no database and its client is
/// reqwest's async one, so unlike the services' `build` this may be called
/// from inside a runtime as well as outside.
pub fn build(addr: &str, upstreams: Upstreams) -> anyhow::Result<Application> {
    let upstreams = web::Data::new(upstreams);
    let application = Application::bind(NAME, addr, move |app| {
        app.app_data(upstreams.clone()).configure(configure);
    })?;
    Ok(application)
}

/// The services behind the gateway, and the client that reaches them.
#[derive(Clone)]
pub struct Upstreams {
    http: reqwest::Client,
    timeout: Duration,
    hop_delay: HopDelay,
    services: Arc<[(Component, String)]>,
}

impl Upstreams {
    /// `services`: each service and its base URL. `timeout`: how long a
    /// service may take to answer. `hop_delay`: the wait before each request
    /// to a service (`--hop-delay-us`).
    pub fn new(
        services: Vec<(Component, String)>,
        timeout: Duration,
        hop_delay: HopDelay,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .timeout(timeout)
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(CLIENT_IDLE)
            .build()?;
        Ok(Self {
            http,
            timeout,
            hop_delay,
            services: services.into(),
        })
    }

    /// Sends a request to a service, after the hop delay: every request the
    /// gateway makes (passed through, `/health`, `/audit`) goes through here.
    /// The wait is async (`HopDelay::wait`), so it holds up this request
    /// only, never the worker.
    async fn send(&self, request: reqwest::RequestBuilder) -> reqwest::Result<reqwest::Response> {
        self.hop_delay.wait().await;
        request.send().await
    }

    fn url(&self, upstream: Component) -> &str {
        self.services
            .iter()
            .find(|(service, _)| *service == upstream)
            .map(|(_, url)| url.as_str())
            .unwrap_or_default()
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

fn configure(config: &mut web::ServiceConfig) {
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
