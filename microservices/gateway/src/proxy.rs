//! Passing a request through to the service that owns its path (to one of
//! its replicas). A refused connection is retried on another replica only
//! for a read or an order with its Idempotency-Key: API.md makes those safe
//! to send twice.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use shoplab_common::components::Component;
use shoplab_common::deadline::Deadline;
use shoplab_common::http::json::{declared_length, read_limited};
use shoplab_common::http::place_order::IDEMPOTENCY_KEY_HEADER;
use shoplab_common::http::{ApiError, RequestId, REQUEST_ID_HEADER};
use shoplab_common::ShopError;
use shoplab_service::remote::transport_error;

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
    deadline: Deadline,
) -> Result<HttpResponse, ApiError> {
    // The same 64 KiB limit as the services, checked here so that an oversized
    // body is refused before it crosses another hop.
    let body = read_limited(declared_length(&request), payload.into_inner()).await?;
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
    let response = upstreams.send(name, deadline, retry, outgoing).await?;
    let status = StatusCode::from_u16(response.status().as_u16())
        .map_err(|error| ShopError::internal("upstream status", error))?;
    let mut reply = HttpResponse::build(status);
    for name in RETURNED_HEADERS {
        if let Some(value) = response.headers().get(name) {
            reply.insert_header((name, value.as_bytes()));
        }
    }
    let body = response
        .bytes()
        .await
        .map_err(|error| transport_error(name.name(), deadline.remaining(), &error))?;
    Ok(reply.body(body))
}
