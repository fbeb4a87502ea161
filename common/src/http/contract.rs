//! What every deployment's app shares: the unknown-route 404, the 405 for a
//! known path with the wrong method, and the 400 for a bad query string.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use super::json::{declared_length, BODY_LIMIT};
use super::ApiError;
use crate::ShopError;

/// App-wide settings of API.md: `App::new().configure(contract)`.
pub fn contract(config: &mut web::ServiceConfig) {
    config
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            ApiError::from(ShopError::invalid(format!("bad query string: {error}"))).into()
        }))
        .default_service(web::to(route_not_found));
}

/// Refuses a request that declares a body over 64 KiB, on every route, before
/// any handler runs: so a route that ignores its body (a cancel) answers the
/// same 413 in the monolith as through the gateway, which reads every body it
/// passes on. Bodies without a declared length are held to the limit as they
/// are read (`json.rs`).
pub async fn refuse_oversized(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if declared_length(request.request()).is_some_and(|length| length > BODY_LIMIT) {
        let refusal = ApiError::PayloadTooLarge { limit: BODY_LIMIT }.error_response();
        return Ok(request.into_response(refusal).map_into_right_body());
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// A resource that answers 405 (with API.md's body) to the methods it has no
/// route for; actix-web's own default is an empty 405.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn route_not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound(format!(
        "{} {}",
        request.method(),
        request.path()
    )))
}

async fn method_not_allowed(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        method: request.method().to_string(),
        path: request.path().to_owned(),
    })
}
