//! Services trust only each other: the deployment's internal token.
//!
//! The services' `/internal/...` endpoints charge wallets and take stock.
//! The gateway does not route them, but anyone who can reach a service's
//! port could call them. With `--internal-token` (or
//! `SHOPLAB_INTERNAL_TOKEN`), a process sends the token with every call it
//! makes to another process (`X-Internal-Token`) and refuses an internal
//! call that does not carry it: 401 with API.md's error body, code
//! `unauthorized`. Public routes are unchanged. `shoplab up` makes one token
//! per deployment and hands it to every process.
//!
//! The token is the process's, set once at start-up, like its hop log.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::ResponseError;
use subtle::ConstantTimeEq;

use super::ApiError;
use shoplab_common::ShopError;

/// The header that carries the token between processes.
pub const HEADER: &str = "x-internal-token";

/// The paths only the deployment's own processes may call.
pub const INTERNAL_PREFIX: &str = "/internal/";

static TOKEN: OnceLock<String> = OnceLock::new();

/// Sets this process's token (the first call wins: a test that starts
/// several servers in one process shares one).
pub fn install(token: &str) {
    let _ = TOKEN.set(token.to_owned());
}

/// The token this process sends and requires, if it has one.
pub fn current() -> Option<&'static str> {
    TOKEN.get().map(String::as_str)
}

/// Set by a process whose port is the deployment's public base URL and
/// which still serves internal routes (the modular monolith, when it calls
/// its own components over HTTP): there, as API.md says of the public base
/// URL, an internal path called without the token is an unknown route.
static PUBLIC_FACE: AtomicBool = AtomicBool::new(false);

/// Makes this process answer an internal call without the token as an
/// unknown route (404), not 401: its port is the public base URL.
pub fn hide_behind_public_face() {
    PUBLIC_FACE.store(true, Ordering::Relaxed);
}

/// Compares in time independent of where the two first differ, so the
/// answer's timing does not reveal the token a byte at a time: `subtle`'s
/// comparison, written so that the compiler does not turn it back into an
/// early exit (a hand-written fold has no such guarantee).
fn same(sent: &[u8], expected: &[u8]) -> bool {
    bool::from(sent.ct_eq(expected))
}

/// The middleware: a request for one of this process's `/internal/...`
/// routes without the token is refused before its handler runs. A path no
/// route of the process matches goes on to its 404, so the monolith and the
/// gateway, which have no internal routes, answer every `/internal/...` path
/// as API.md answers an unknown route.
pub async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let allowed = match current() {
        Some(expected)
            if request.path().starts_with(INTERNAL_PREFIX) && request.match_pattern().is_some() =>
        {
            request
                .headers()
                .get(HEADER)
                .is_some_and(|sent| same(sent.as_bytes(), expected.as_bytes()))
        }
        _ => true,
    };
    if allowed {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    let refusal = if PUBLIC_FACE.load(Ordering::Relaxed) {
        ApiError::RouteNotFound(format!("{} {}", request.method(), request.path()))
    } else {
        ApiError::Shop(ShopError::Unauthorized(
            "internal endpoints answer only the deployment's own services".into(),
        ))
    }
    .error_response();
    Ok(request.into_response(refusal).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_token_is_the_same() {
        assert!(same(b"abc123", b"abc123"));
        assert!(!same(b"abc124", b"abc123"));
        assert!(!same(b"abc12", b"abc123"));
        assert!(!same(b"", b"abc123"));
    }
}
