//! Passing a request through to the service that owns its path (to one of
//! its replicas). A refused connection is retried on another replica only
//! for a read or an order with its Idempotency-Key: API.md makes those safe
//! to send twice.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use shoplab_common::components::Component;
use shoplab_common::ShopError;
use shoplab_http::json::{declared_length, read_limited};
use shoplab_http::place_order::IDEMPOTENCY_KEY_HEADER;
use shoplab_http::RequestDeadline;
use shoplab_http::{ApiError, RequestId, REQUEST_ID_HEADER};

use crate::{Retry, Upstreams};

/// The request headers a service needs; everything else stays at the edge.
const FORWARDED_HEADERS: [&str; 2] = ["content-type", IDEMPOTENCY_KEY_HEADER];

/// The response headers a client needs from the service: its body's type,
/// and on a 405 the methods the path serves.
const RETURNED_HEADERS: [&str; 2] = ["content-type", "allow"];

pub async fn forward(
    request: HttpRequest,
    payload: web::Payload,
    upstream: web::Data<Component>,
    upstreams: web::Data<Upstreams>,
    request_id: RequestId,
    RequestDeadline(deadline): RequestDeadline,
) -> Result<HttpResponse, ApiError> {
    // The same 64 KiB limit as the services, checked here so that an oversized
    // body is refused before it crosses another hop.
    // Within --body-timeout-ms: a client that sends its body slowly holds
    // this handler no longer than that.
    let limit = upstreams.limits.body_timeout();
    let body = tokio::time::timeout(
        limit,
        read_limited(declared_length(&request), payload.into_inner()),
    )
    .await
    .map_err(|_| ApiError::BodyTimeout {
        limit_ms: upstreams.limits.body_timeout_ms,
    })??;
    let path = request
        .uri()
        .path_and_query()
        .map(|path| path.as_str())
        .unwrap_or("/");
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
        .map_err(|error| ShopError::invalid(format!("bad method: {error}")))?;
    let retry = if method == reqwest::Method::GET
        || method == reqwest::Method::HEAD
        || request.headers().contains_key(IDEMPOTENCY_KEY_HEADER)
    {
        Retry::Safe
    } else {
        Retry::Never
    };
    let outgoing = |base: &str| {
        let mut outgoing = upstreams
            .http
            .request(method.clone(), format!("{base}{path}"))
            .header(REQUEST_ID_HEADER, request_id.as_str())
            .body(body.clone());
        for name in FORWARDED_HEADERS {
            if let Some(value) = request.headers().get(name) {
                outgoing = outgoing.header(name, value.as_bytes());
            }
        }
        outgoing
    };
    let name = **upstream;
    let reads = method == reqwest::Method::GET || method == reqwest::Method::HEAD;
    let response = upstreams
        .send(name, deadline, retry, outgoing)
        .await
        .map_err(|error| outcome_unknown(error, reads))?;
    let status = StatusCode::from_u16(response.status().as_u16())
        .map_err(|error| ShopError::internal("upstream status", error))?;
    let mut reply = HttpResponse::build(status);
    for name in RETURNED_HEADERS {
        if let Some(value) = response.headers().get(name) {
            reply.insert_header((name, value.as_bytes()));
        }
    }
    let body = upstreams.answer_body(name, deadline, response).await?;
    Ok(reply.body(body))
}

/// What the client is told when a service took a request and gave no answer
/// (the gateway gave up past the deadline, or the connection broke): a read
/// changed nothing either way, so it stays 504 or 503; a write may have
/// taken effect, and a 503 or 504 would say it did not (API.md), so it is
/// 502 `bad_gateway`, saying the outcome is unknown. (A service decides an
/// order by its deadline and answers at once, and the gateway waits past
/// that, so this is a service that froze or died mid-request.)
fn outcome_unknown(error: ShopError, reads: bool) -> ApiError {
    match error {
        ShopError::Timeout(why) | ShopError::Unconfirmed(why) if !reads => {
            ApiError::OutcomeUnknown(why)
        }
        error => ApiError::Shop(error),
    }
}
