//! The gateway: API.md on one base URL, routed to the services that own each
//! path. It keeps no data of its own. `/health`, `/audit` and
//! `/audit/orders/{id}` are the only routes it answers itself, by asking the
//! services; every other public route is passed through as it came, with its
//! `X-Request-Id` and what is left of its deadline (`X-Deadline-Ms`). The
//! services' `/internal/...` endpoints are not routed, so they answer 404
//! here.

mod audit;
mod health;
mod proxy;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use shoplab_common::components::Component;
use shoplab_common::deadline::{Deadline, DEADLINE_HEADER};
use shoplab_common::http::server::{Application, CLIENT_IDLE};
use shoplab_common::http::{hop_log, internal_token, resource, Budget, REQUEST_ID_HEADER};
use shoplab_common::ShopError;
use shoplab_service::remote::transport_error;
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
    let budget = web::Data::new(upstreams.budget);
    let application = Application::bind(NAME, addr, move |app| {
        app.app_data(upstreams.clone())
            .app_data(budget.clone())
            .configure(configure);
    })?;
    Ok(application)
}

/// How much longer than a request's deadline the gateway waits for the
/// service: enough for the service's own `timeout` answer, sent when the
/// deadline passes, to arrive first.
pub const ABOVE_DEADLINE: Duration = Duration::from_millis(250);

/// The services behind the gateway, and the client that reaches them.
#[derive(Clone)]
pub struct Upstreams {
    http: reqwest::Client,
    budget: Budget,
    hop_delay: HopDelay,
    services: Arc<[(Component, String)]>,
}

impl Upstreams {
    /// `services`: each service and its base URL. `budget`: how long one
    /// request may take (`--deadline-ms`). `hop_delay`: the wait before each
    /// request to a service (`--hop-delay-us`).
    pub fn new(
        services: Vec<(Component, String)>,
        budget: Budget,
        hop_delay: HopDelay,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(CLIENT_IDLE)
            .build()?;
        Ok(Self {
            http,
            budget,
            hop_delay,
            services: services.into(),
        })
    }

    /// Sends a request to a service, after the hop delay: every request the
    /// gateway makes (passed through, `/health`, `/audit`) goes through here.
    /// It carries what is left of `deadline`, and is given up on just after
    /// it (`timeout`, 504). The wait is async (`HopDelay::wait`), so it
    /// holds up this request only, never the worker.
    async fn send(
        &self,
        upstream: Component,
        deadline: Deadline,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ShopError> {
        self.hop_delay.wait().await;
        let timeout = deadline.remaining() + ABOVE_DEADLINE;
        let mut request = request
            .header(DEADLINE_HEADER, deadline.header_value())
            .timeout(timeout);
        if let Some(token) = internal_token::current() {
            request = request.header(internal_token::HEADER, token);
        }
        let request = request
            .build()
            .map_err(|error| ShopError::internal("building a request", error))?;
        let request_id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let call =
            hop_log::Call::start(request_id, request.method().as_str(), request.url().path());
        let sent = self.http.execute(request).await;
        if let Some(call) = call {
            let status = sent
                .as_ref()
                .map_or(0, |response| response.status().as_u16());
            call.answered(upstream.name(), status);
        }
        sent.map_err(|error| transport_error(upstream, timeout, &error))
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
