//! `POST /orders` around whichever way a deployment places an order: parse
//! the body, honour `Idempotency-Key`, answer 201 with the order or the error
//! that refused it. Both deployments' handlers are this function with their
//! own [`Checkout`].

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use super::error::status_of;
use super::wire::PlaceOrderBody;
use super::{run_blocking, ApiError, ApiJson};
use crate::db::Pool;
use crate::deadline::Deadline;
use crate::domain::VisibleAscii;
use crate::orders::checkout::{Checkout, Placed};
use crate::orders::idempotency::{self, Claim, Finish, StoredResponse};
use crate::orders::saga::Lease;
use crate::ShopError;

pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// How much longer than its request's deadline a claim on an
/// Idempotency-Key (or a saga) is leased: enough for the request to write
/// down how it ended after its last wait.
pub const LEASE_GRACE: Duration = Duration::from_secs(1);

/// Serves one `POST /orders`. `checkout` runs on the blocking pool; `pool`
/// is the database holding the orders component's tables (and its keys).
pub async fn serve<C: Checkout>(
    request: &HttpRequest,
    pool: &Pool,
    json: ApiJson<PlaceOrderBody>,
    deadline: Deadline,
    mut checkout: C,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(request)?;
    let mut order = json.body.parse()?;
    let fingerprint = fingerprint(&json.value);
    let pool = pool.clone();
    let response = run_blocking(move || {
        let Some(key) = key else {
            return Ok(respond(checkout.place(order)).0);
        };
        let lease = Lease::for_next(deadline.remaining() + LEASE_GRACE);
        let (outcome, resumed) =
            match idempotency::claim(&pool, &key, &fingerprint, deadline, lease)? {
                Claim::Replay(stored) => return Ok(stored),
                Claim::Owner => {
                    order.idempotency_key = Some(key.clone());
                    (checkout.place(order), false)
                }
                Claim::Resume(id) => (checkout.resume(id), true),
            };
        let (response, mut ending) = respond(outcome);
        if resumed && matches!(ending, Ending::NothingKept) {
            // An order exists under this key whatever went wrong reading
            // it: the key stays its own.
            ending = Ending::Unsettled;
        }
        if let Err(error) = idempotency::finish(&pool, &key, ending.with(&response)) {
            // The order is placed either way: answer it. The claim's lease
            // runs out, and the next request with the key resumes the order.
            eprintln!(
                "Idempotency-Key {}: could not record the answer: {error}",
                key.as_str()
            );
        }
        Ok(response)
    })
    .await?;
    let status = StatusCode::from_u16(response.status)
        .map_err(|error| ShopError::internal("stored status", error))?;
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .body(response.body))
}

/// The header, if sent: 1–128 visible ASCII characters, else 400.
fn idempotency_key(request: &HttpRequest) -> Result<Option<VisibleAscii>, ShopError> {
    let Some(raw) = request.headers().get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .and_then(VisibleAscii::parse)
        .map(Some)
        .ok_or_else(|| {
            ShopError::invalid("Idempotency-Key must be 1 to 128 visible ASCII characters")
        })
}

/// How the key's claim ends for an outcome, before the response exists.
enum Ending {
    Kept,
    NothingKept,
    Unsettled,
}

impl Ending {
    fn with(self, response: &StoredResponse) -> Finish<'_> {
        match self {
            Ending::Kept => Finish::Kept(response),
            Ending::NothingKept => Finish::NothingKept,
            Ending::Unsettled => Finish::Unsettled,
        }
    }
}

/// The response for an outcome: 201 with the order, or the error that refused
/// it (for a kept `failed` order too: the caller sees why). An outcome that
/// kept no order (a 400, a 404, a component down before the order was priced)
/// frees the key; one that kept a settled order, in any status, is replayed
/// from now on; one whose order has not settled leaves the key to the next
/// request, which resumes it.
fn respond(outcome: Result<Placed, ShopError>) -> (StoredResponse, Ending) {
    let (status, body, ending) = match outcome {
        Ok(Placed::Completed(order)) => (
            StatusCode::CREATED,
            serde_json::to_string(&order),
            Ending::Kept,
        ),
        Ok(Placed::Failed { error, .. }) => error_body(error, Ending::Kept),
        Ok(Placed::Pending { error, .. }) => error_body(error, Ending::Unsettled),
        Err(error) => error_body(error, Ending::NothingKept),
    };
    let response = StoredResponse {
        status: status.as_u16(),
        // Serializing our own plain structs cannot fail.
        body: body.unwrap_or_else(|_| String::from("{}")),
    };
    (response, ending)
}

fn error_body(
    error: ShopError,
    ending: Ending,
) -> (StatusCode, serde_json::Result<String>, Ending) {
    let status = status_of(&error);
    (
        status,
        serde_json::to_string(&ApiError::Shop(error).body()),
        ending,
    )
}

/// The request body as compared for `Idempotency-Key`: the same JSON value
/// gives the same text whatever its whitespace or key order, because
/// serde_json keeps object keys sorted (its `preserve_order` feature is off;
/// the test below fails if a dependency ever turns it on).
fn fingerprint(body: &serde_json::Value) -> String {
    body.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_body_with_other_key_order_and_spacing_has_one_fingerprint() {
        let one: serde_json::Value =
            serde_json::from_str(r#"{"user_id": 1, "items": [{"product_id": 2, "quantity": 3}]}"#)
                .expect("valid JSON");
        let other: serde_json::Value =
            serde_json::from_str(r#"{ "items":[{"quantity":3,"product_id":2}],"user_id":1 }"#)
                .expect("valid JSON");
        assert_eq!(fingerprint(&one), fingerprint(&other));
    }
}
