//! What a call to another process that went wrong means, in the domain's
//! errors: a transport failure (no answer in time, no connection, an answer
//! lost) and a peer that refuses the internal token. The services' calls to
//! each other (`remote.rs`) and the gateway's to the services say the same
//! of the same failure through these.

use std::time::Duration;

use shoplab_common::ShopError;

/// A request that got no answer: `Timeout` if the peer was too slow,
/// `Unreachable` if it could not be reached at all (the request was never
/// delivered), `Unconfirmed` if the connection broke after it was sent.
/// Shared with the gateway, so both say the same of the same failure.
pub fn transport_error(component: &str, timeout: Duration, error: &reqwest::Error) -> ShopError {
    if error.is_timeout() {
        ShopError::Timeout(format!(
            "the {component} service did not answer within {} ms",
            timeout.as_millis()
        ))
    } else if error.is_connect() {
        ShopError::Unreachable(format!("the {component} service is unreachable: {error}"))
    } else {
        ShopError::Unconfirmed(format!(
            "the {component} service's answer was lost: {error}"
        ))
    }
}

/// A peer answered 401: it refused this process's internal token, so the
/// deployment's processes were given different tokens. That is a
/// misconfigured peer, not the caller's fault, and never a public 401
/// (API.md): the call is refused before anything ran, `Unreachable`, which
/// the public sees as 503 `service_unavailable` and a saga as a step that
/// did nothing. Shared with the gateway.
pub fn token_refused(component: &str) -> ShopError {
    ShopError::Unreachable(format!(
        "the {component} service refused the internal token: the deployment's \
         processes were given different tokens"
    ))
}
