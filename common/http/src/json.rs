//! `ApiJson<T>`: a JSON body held to API.md's rules.
//!
//! actix-web's own `web::Json` would accept a JSON array for a struct (serde
//! reads structs from sequences too) and answers its errors in its own shape.
//! This extractor reads at most 64 KiB (413 beyond), requires
//! `Content-Type: application/json`, requires a JSON object, and lets serde's
//! `deny_unknown_fields` refuse unknown, missing, `null` or mistyped fields,
//! each as API.md's error body.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ApiError;
use shoplab_common::ShopError;

/// The largest request body API.md accepts.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A parsed JSON body, and the JSON value it came from (for idempotency
/// fingerprints: the same value, whatever the whitespace or key order).
#[derive(Debug)]
pub struct ApiJson<T> {
    pub body: T,
    pub value: Value,
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(request);
        let declared_length = declared_length(request);
        let payload = payload.take();
        Box::pin(async move {
            let bytes = read_limited(declared_length, payload).await?;
            if !content_type_ok {
                return Err(ShopError::invalid(
                    "the body must be sent with Content-Type: application/json",
                )
                .into());
            }
            let object: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|error| {
                ShopError::invalid(format!("the body must be a JSON object: {error}"))
            })?;
            let value = Value::Object(object);
            let body = T::deserialize(&value)
                .map_err(|error| ShopError::invalid(format!("invalid body: {error}")))?;
            Ok(ApiJson { body, value })
        })
    }
}

/// `application/json`, with or without parameters such as `charset`.
fn is_json(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// The `Content-Length` the caller declared, if any.
pub fn declared_length(request: &HttpRequest) -> Option<usize> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok())
}

/// Reads a whole body of at most [`BODY_LIMIT`] bytes; 413 past it, without
/// reading further than the limit.
pub async fn read_limited(
    declared_length: Option<usize>,
    mut payload: Payload,
) -> Result<Vec<u8>, ApiError> {
    if declared_length.is_some_and(|length| length > BODY_LIMIT) {
        return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            ShopError::invalid(format!("could not read the request body: {error}"))
        })?;
        if bytes.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
