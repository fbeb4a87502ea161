//! What every deployment's app shares: the unknown-route 404, the 405 for a
//! known path with the wrong method, and the 400 for a bad query string.

use actix_web::{web, HttpRequest, HttpResponse};

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
