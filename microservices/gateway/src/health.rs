//! `GET /health` of the gateway: 200 only when every service answers its own
//! `/health`; otherwise 503 naming the ones that do not.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use shoplab_common::components::Component;
use shoplab_common::deadline::Deadline;
use shoplab_common::http::wire::Health;
use shoplab_common::http::{resource, ApiError, RequestId, REQUEST_ID_HEADER};
use shoplab_common::ShopError;

use crate::Upstreams;

/// A service that cannot say it is healthy within this is not.
const HEALTH_WITHIN: Duration = Duration::from_secs(2);

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource("/health").route(web::get().to(health)));
}

async fn health(
    upstreams: web::Data<Upstreams>,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    let checks = Component::ALL.map(|upstream| {
        let (upstreams, request_id) = (upstreams.clone(), request_id.clone());
        async move {
            let url = format!("{}/health", upstreams.url(upstream));
            let request = upstreams
                .http
                .get(url)
                .header(REQUEST_ID_HEADER, request_id.as_str());
            let deadline = Deadline::after(HEALTH_WITHIN);
            let healthy = matches!(
                upstreams.send(upstream, deadline, request).await,
                Ok(response) if response.status().is_success()
            );
            (upstream, healthy)
        }
    });
    let results = futures_util::future::join_all(checks).await;
    let unhealthy: Vec<&str> = results
        .iter()
        .filter(|(_, healthy)| !healthy)
        .map(|(upstream, _)| upstream.name())
        .collect();
    if unhealthy.is_empty() {
        Ok(HttpResponse::Ok().json(Health::ok()))
    } else {
        Err(
            ShopError::ServiceUnavailable(format!("unhealthy services: {}", unhealthy.join(", ")))
                .into(),
        )
    }
}
