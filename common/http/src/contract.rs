//! What every deployment's app shares: the unknown-route 404, the 405 (with
//! `Allow`) for a known path with the wrong method, and the 400 for a bad
//! query string.

use std::borrow::Cow;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{AppService, HttpServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, Handler, HttpRequest, HttpResponse, Responder, ResponseError};

use super::json::{declared_length, BODY_LIMIT};
use super::ApiError;
use shoplab_common::ShopError;

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

/// One path of the API and the methods it serves: `resource("/orders")
/// .post(place)`. A method it does not serve is answered 405 with API.md's
/// body and an `Allow` header naming the methods it does (RFC 9110 requires
/// one; actix-web's own default is an empty 405 without it).
pub struct Resource {
    inner: actix_web::Resource,
    allowed: Vec<Method>,
}

/// The route template a request was routed to (`/products/{id}`), kept
/// on its resource, so that once a request has been answered its template
/// is read, not worked out again from its path (`metrics.rs`).
#[derive(Debug, Clone, Copy)]
pub struct RouteTemplate(pub &'static str);

impl RouteTemplate {
    /// The template `request` (answered) was served by: the one its
    /// resource keeps, or, for a request answered before routing (a
    /// refusal by a middleware), worked out from its path, the slow way
    /// (a regex per route), as that is rare. `None`: no route matches.
    pub fn of(request: &HttpRequest) -> Option<Cow<'static, str>> {
        match request.app_data::<RouteTemplate>() {
            Some(RouteTemplate(template)) => Some(Cow::Borrowed(template)),
            None => request.match_pattern().map(Cow::Owned),
        }
    }
}

/// The resource at `path`, serving no method yet.
pub fn resource(path: &'static str) -> Resource {
    Resource {
        inner: web::resource(path).app_data(RouteTemplate(path)),
        allowed: Vec::new(),
    }
}

impl Resource {
    /// `GET` is served by `handler`.
    pub fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.serve(Method::GET, handler)
    }

    /// `POST` is served by `handler`.
    pub fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.serve(Method::POST, handler)
    }

    fn serve<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.inner = self.inner.route(web::method(method.clone()).to(handler));
        self.allowed.push(method);
        self
    }

    /// Every method is passed to `handler`: the gateway's way, where the
    /// service behind it answers for the methods it does not serve.
    pub fn any<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.inner = self.inner.route(web::route().to(handler));
        self
    }

    /// Data its handlers (and only its) can extract.
    pub fn app_data<U: 'static>(mut self, data: U) -> Self {
        self.inner = self.inner.app_data(data);
        self
    }
}

impl HttpServiceFactory for Resource {
    fn register(self, config: &mut AppService) {
        let allow = self
            .allowed
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        self.inner
            .default_service(web::to(move |request: HttpRequest| {
                let allow = allow.clone();
                async move { method_not_allowed(&request, &allow) }
            }))
            .register(config);
    }
}

async fn route_not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound(format!(
        "{} {}",
        request.method(),
        request.path()
    )))
}

/// 405 with API.md's body, and `Allow: <the methods the path serves>`.
fn method_not_allowed(request: &HttpRequest, allow: &str) -> HttpResponse {
    let mut response = ApiError::MethodNotAllowed {
        method: request.method().to_string(),
        path: request.path().to_owned(),
    }
    .error_response();
    // Method names are header-safe tokens, so this cannot fail.
    if let Ok(allow) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}
