//! The [`RequestDeadline`] extractor: the caller's `X-Deadline-Ms` if it
//! sent one (never longer than this process's budget), otherwise the budget
//! (`--deadline-ms`, held as app data; 5 s if unset). A handler takes
//! `RequestDeadline(deadline): RequestDeadline` and hands the domain's
//! [`Deadline`] on: the domain type knows no HTTP, so the extractor is a
//! type of the edge's own.

use std::future::{ready, Ready};
use std::time::Duration;

use actix_web::{web, FromRequest, HttpRequest};

use shoplab_common::deadline::{Deadline, DEADLINE_HEADER, DEFAULT_BUDGET};

/// A process's budget for one request (`--deadline-ms`), as app data.
#[derive(Debug, Clone, Copy)]
pub struct Budget(pub Duration);

impl Default for Budget {
    fn default() -> Self {
        Self(DEFAULT_BUDGET)
    }
}

impl Budget {
    /// The deadline of `request`, arriving now.
    pub fn of(request: &HttpRequest) -> Deadline {
        let budget = request
            .app_data::<web::Data<Budget>>()
            .map_or(DEFAULT_BUDGET, |budget| budget.0);
        let header = request
            .headers()
            .get(DEADLINE_HEADER)
            .and_then(|value| value.to_str().ok());
        Deadline::from_header(header, budget)
    }
}

/// A request's deadline, as a handler's argument.
#[derive(Debug, Clone, Copy)]
pub struct RequestDeadline(pub Deadline);

impl FromRequest for RequestDeadline {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Ok(Self(Budget::of(request))))
    }
}
