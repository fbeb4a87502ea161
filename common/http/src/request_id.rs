//! `X-Request-Id` on every response: the caller's if it sent a valid one
//! (1–128 visible ASCII characters), otherwise a fresh one. Handlers read it
//! with the [`RequestId`] extractor, and the microservices pass it on to every
//! service they call, so one id follows a request through every hop.

use std::future::{ready, Ready};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use shoplab_common::domain::VisibleAscii;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub VisibleAscii);

impl RequestId {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// A new random id, for a request the process starts itself (saga
    /// recovery, say).
    // A true invariant: a simple UUID is 32 hex digits, all visible ASCII.
    #[allow(clippy::expect_used)]
    pub fn fresh() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        RequestId(VisibleAscii::parse(&id).expect("a simple UUID is 32 hex digits"))
    }
}

/// The middleware: `App::new().wrap(from_fn(request_id::propagate))`.
pub async fn propagate(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(VisibleAscii::parse)
        .map(RequestId)
        .unwrap_or_else(RequestId::fresh);
    request.extensions_mut().insert(id.clone());
    let mut response = next.call(request).await?;
    // Visible ASCII (`VisibleAscii`) is always a valid header value.
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

impl FromRequest for RequestId {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        // Outside the middleware (a test wiring a bare handler) a fresh id
        // still gives every hop something to carry.
        let id = request
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(RequestId::fresh);
        ready(Ok(id))
    }
}
