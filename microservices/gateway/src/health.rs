//! `GET /health` of the gateway: 200 while every service (or, in front of
//! monoliths, the monolith) has at least one replica whose own `/health`
//! answers 200; otherwise 503 naming the ones that have none. Each answer
//! also updates the balancer's marks of the replicas it asked.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use shoplab_common::deadline::Deadline;
use shoplab_common::ShopError;
use shoplab_http::routes::health::refuse_while_draining;
use shoplab_http::wire::Health;
use shoplab_http::{resource, ApiError, RequestId, REQUEST_ID_HEADER};
use shoplab_service::balance::Replicas;

use crate::Upstreams;

/// A process that cannot say it is healthy within this is not.
const HEALTH_WITHIN: Duration = Duration::from_secs(2);

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource("/health").get(health));
}

async fn health(
    upstreams: web::Data<Upstreams>,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    refuse_while_draining()?;
    let checks = upstreams
        .behind
        .pools()
        .into_iter()
        .map(|pool| any_healthy(&upstreams, pool, &request_id));
    let results = futures_util::future::join_all(checks).await;
    let unhealthy: Vec<&str> = results
        .iter()
        .filter(|(_, healthy)| !healthy)
        .map(|(service, _)| *service)
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

/// Asks every replica of `pool` at once; `(service, whether any is healthy)`.
async fn any_healthy<'p>(
    upstreams: &Upstreams,
    pool: &'p Replicas,
    request_id: &RequestId,
) -> (&'p str, bool) {
    let checks = pool.urls().map(|url| async move {
        let request = upstreams
            .http
            .get(format!("{url}/health"))
            .header(REQUEST_ID_HEADER, request_id.as_str());
        let deadline = Deadline::after(HEALTH_WITHIN);
        let healthy = matches!(
            upstreams.send_to(pool.service(), deadline, request).await,
            Ok(Ok(response)) if response.status().is_success()
        );
        pool.mark(url, healthy);
        healthy
    });
    let healthy = futures_util::future::join_all(checks).await;
    (pool.service(), healthy.contains(&true))
}
