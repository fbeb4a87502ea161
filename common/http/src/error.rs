//! API.md's error body and status codes, mapped in this one place.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};

use shoplab_common::ShopError;

/// `{"error": {"code": "...", "message": "..."}}`: every error, no other shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// A failure as the HTTP layer sees it: a domain error, or one of the few
/// that only exist in HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Shop(#[from] ShopError),
    #[error("no route for {0}")]
    RouteNotFound(String),
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("the request body is over {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The gateway's: a body that did not arrive in time.
    #[error("the request body did not arrive within {limit_ms} ms")]
    BodyTimeout { limit_ms: u64 },
    /// The gateway's: a service took a write and gave no answer, so it may
    /// or may not have taken effect.
    #[error("{0}: the request may or may not have taken effect")]
    OutcomeUnknown(String),
    /// The gateway's: a service's answer over its limit.
    #[error("the {service} service's answer is over {limit} bytes")]
    AnswerTooLarge { service: &'static str, limit: u64 },
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Shop(error) => error.code(),
            ApiError::RouteNotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::BodyTimeout { .. } => "request_timeout",
            ApiError::AnswerTooLarge { .. } | ApiError::OutcomeUnknown(_) => "bad_gateway",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
            },
        }
    }
}

/// The status API.md gives a domain error.
pub fn status_of(error: &ShopError) -> StatusCode {
    match error {
        ShopError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
        ShopError::NotFound(_) => StatusCode::NOT_FOUND,
        ShopError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        ShopError::EmailTaken
        | ShopError::InsufficientStock(_)
        | ShopError::InsufficientFunds(_)
        | ShopError::InvalidState(_)
        | ShopError::IdempotencyConflict => StatusCode::CONFLICT,
        ShopError::ServiceUnavailable(_)
        | ShopError::Unreachable(_)
        | ShopError::Unconfirmed(_)
        | ShopError::ClaimLost(_) => StatusCode::SERVICE_UNAVAILABLE,
        ShopError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        ShopError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Shop(error) => status_of(error),
            ApiError::RouteNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::AnswerTooLarge { .. } | ApiError::OutcomeUnknown(_) => {
                StatusCode::BAD_GATEWAY
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Shop(ShopError::Internal(detail)) = self {
            // The caller gets the body; the operator gets the detail.
            tracing::error!("internal error: {detail}");
        }
        HttpResponse::build(self.status_code()).json(self.body())
    }
}

/// Maps a service's error body back to the domain error it stands for: how
/// the HTTP clients of `microservices` give their callers the same errors an
/// in-process call would. (`not_found` is the caller's to map: only it knows
/// which user or product it asked for.)
pub fn shop_error_from_body(status: u16, body: &ErrorBody) -> ShopError {
    let message = body.error.message.clone();
    match ShopError::from_code(&body.error.code, message.clone()) {
        Some(error) => error,
        // A peer that says "internal" or anything unknown is failing: to our
        // caller, that component is unavailable (API.md's 503).
        None if status >= 500 => ShopError::ServiceUnavailable(message),
        None => ShopError::ServiceUnavailable(format!("unexpected answer {status}: {message}")),
    }
}
