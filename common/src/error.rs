//! The one error type of the domain.
//!
//! Every component operation returns `Result<_, ShopError>`, in process and
//! over HTTP alike: the HTTP clients in `microservices/service/src/remote.rs` map a
//! service's answer back to the same variant, so both deployments answer a
//! failure with the same status and code (see `http/error.rs` for the mapping).

use crate::domain::Entity;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShopError {
    /// Input broke a rule of API.md's "Limits"; the text says which.
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0} not found")]
    NotFound(Entity),
    #[error("a user with this email is already registered")]
    EmailTaken,
    /// An order asks for more units than are in stock; the text says which.
    #[error("{0}")]
    InsufficientStock(String),
    /// The wallet cannot pay an order's total; the text says how much.
    #[error("{0}")]
    InsufficientFunds(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("this Idempotency-Key was used with a different request body")]
    IdempotencyConflict,
    /// An internal endpoint called without the deployment's token.
    #[error("{0}")]
    Unauthorized(String),
    /// A component the request needs is down or failing (microservices).
    #[error("{0}")]
    ServiceUnavailable(String),
    /// A component the request needs could not be reached at all (nothing
    /// listens, the connection was refused): the request was never
    /// delivered, so it certainly did nothing. To the caller this is API.md's
    /// 503, like `ServiceUnavailable`; a saga need not undo it.
    #[error("{0}")]
    Unreachable(String),
    /// A component the request needs did not answer in time.
    #[error("{0}")]
    Timeout(String),
    /// A component was asked, but its answer was lost on the way (the
    /// connection broke after the request was sent, or the answer could not
    /// be read): the step may or may not have taken effect. To the caller
    /// this is API.md's 503; to a saga it means "undo it, to be sure".
    #[error("{0}")]
    Unconfirmed(String),
    /// A request's claim on an Idempotency-Key was taken over by a later
    /// request with the same key, after its lease ran out: it must change
    /// nothing more (`orders/idempotency.rs`). Never an answer: the request
    /// looks at the key again, and answers as the key's holder did.
    #[error("{0}")]
    ClaimLost(String),
    /// A bug or a broken database: never the caller's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ShopError {
    /// The error an API error code stands for, with `message`: how a
    /// service's error body, or a `failed` order's `failure`, becomes a
    /// domain error again. `None` for `not_found` (only the caller knows what
    /// was not found) and for codes API.md does not list.
    pub fn from_code(code: &str, message: String) -> Option<Self> {
        Some(match code {
            "invalid_request" => ShopError::InvalidRequest(message),
            "email_taken" => ShopError::EmailTaken,
            "insufficient_stock" => ShopError::InsufficientStock(message),
            "insufficient_funds" => ShopError::InsufficientFunds(message),
            "invalid_state" => ShopError::InvalidState(message),
            "idempotency_conflict" => ShopError::IdempotencyConflict,
            "unauthorized" => ShopError::Unauthorized(message),
            "service_unavailable" => ShopError::ServiceUnavailable(message),
            "timeout" => ShopError::Timeout(message),
            _ => return None,
        })
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ShopError::InvalidRequest(message.into())
    }

    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        ShopError::Internal(format!("{context}: {error}"))
    }

    /// The snake_case code of API.md's error body.
    pub fn code(&self) -> &'static str {
        match self {
            ShopError::InvalidRequest(_) => "invalid_request",
            ShopError::NotFound(_) => "not_found",
            ShopError::EmailTaken => "email_taken",
            ShopError::InsufficientStock(_) => "insufficient_stock",
            ShopError::InsufficientFunds(_) => "insufficient_funds",
            ShopError::InvalidState(_) => "invalid_state",
            ShopError::IdempotencyConflict => "idempotency_conflict",
            ShopError::Unauthorized(_) => "unauthorized",
            ShopError::ServiceUnavailable(_)
            | ShopError::Unreachable(_)
            | ShopError::Unconfirmed(_)
            | ShopError::ClaimLost(_) => "service_unavailable",
            ShopError::Timeout(_) => "timeout",
            ShopError::Internal(_) => "internal",
        }
    }

    /// Whether a failed order is kept for this error (API.md, Orders): an order
    /// refused for stock, funds or an unreachable component is recorded as
    /// `failed`; a bad body or an unknown user or product keeps nothing.
    pub fn keeps_failed_order(&self) -> bool {
        matches!(
            self,
            ShopError::InsufficientStock(_)
                | ShopError::InsufficientFunds(_)
                | ShopError::ServiceUnavailable(_)
                | ShopError::Unreachable(_)
                | ShopError::Unconfirmed(_)
                | ShopError::Timeout(_)
        )
    }
}

impl From<diesel::result::Error> for ShopError {
    /// A lock wait that ran out (SQLite's busy timeout, PostgreSQL's lock or
    /// statement timeout) is `timeout`, not a bug: a write that cannot get
    /// the database in time answers 504, never 500.
    fn from(error: diesel::result::Error) -> Self {
        let message = error.to_string();
        if message.contains("database is locked")
            || message.contains("database is busy")
            || message.contains("canceling statement due to")
        {
            return ShopError::Timeout(format!("the database was busy: {message}"));
        }
        ShopError::internal("database", error)
    }
}

impl From<diesel::r2d2::PoolError> for ShopError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        ShopError::ServiceUnavailable(format!("database unavailable: {error}"))
    }
}

/// An error chain as one line, for a command line's last words: drivers such
/// as libpq put line breaks in their messages.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
