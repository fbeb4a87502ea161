//! `POST /orders` around whichever way a deployment places an order: parse
//! the body, honour `Idempotency-Key`, answer 201 with the order or the error
//! that refused it. Both deployments' handlers are this function with their
//! own [`Checkout`].

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use super::error::status_of;
use super::hop_log;
use super::wire::PlaceOrderBody;
use super::{run_blocking, ApiError, ApiJson};
use crate::db::{conn_within, Pool};
use crate::deadline::Deadline;
use crate::domain::VisibleAscii;
use crate::orders::checkout::{Checkout, PlaceOrder, Placed};
use crate::orders::idempotency::{self, Claim, Finish, StoredResponse};
use crate::orders::saga::Lease;
use crate::ShopError;

pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// How much longer than its request's deadline a claim on an
/// Idempotency-Key (or a saga) is leased: enough for the request to write
/// down how it ended after its last wait.
pub const LEASE_GRACE: Duration = Duration::from_secs(1);

/// How long a duplicate waits between looks at the first request's claim.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Serves one `POST /orders`. `pool` is the database holding the orders
/// component's tables (and its keys). The order is placed by a task of its
/// own, so a client that hangs up does not cut it short between two steps:
/// it runs to its end (and its key records how) whoever is still waiting.
pub async fn serve<C: Checkout>(
    request: &HttpRequest,
    pool: &Pool,
    json: ApiJson<PlaceOrderBody>,
    deadline: Deadline,
    checkout: C,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(request)?;
    let order = json.body.parse()?;
    let fingerprint = fingerprint(&json.value);
    let placing = place(pool.clone(), key, fingerprint, order, deadline, checkout);
    let response = tokio::spawn(hop_log::within(hop_log::current(), placing))
        .await
        .map_err(|error| ShopError::internal("the order's task", error))??;
    let status = StatusCode::from_u16(response.status)
        .map_err(|error| ShopError::internal("stored status", error))?;
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .body(response.body))
}

/// Places `order`, under its Idempotency-Key if it has one, and answers.
async fn place<C: Checkout>(
    pool: Pool,
    key: Option<VisibleAscii>,
    fingerprint: String,
    mut order: PlaceOrder,
    deadline: Deadline,
    mut checkout: C,
) -> Result<StoredResponse, ShopError> {
    let Some(key) = key else {
        return Ok(respond(checkout.place(order).await).0);
    };
    loop {
        let lease = Lease::for_next(deadline.remaining() + LEASE_GRACE);
        let (outcome, held, resumed) =
            match claim(&pool, &key, &fingerprint, deadline, lease).await? {
                Claim::Replay(stored) => return Ok(stored),
                Claim::Owner(held) => {
                    order.idempotency_key = Some(held.clone());
                    (checkout.place(order.clone()).await, held, false)
                }
                Claim::Resume(id, held) => (checkout.resume(id).await, held, true),
            };
        if let Err(ShopError::ClaimLost(why)) = &outcome {
            // This request stalled past its lease and a later one with the
            // same key took it over: nothing of ours was recorded. The key
            // is the other request's now; look again, and answer as it does.
            eprintln!("{why}; looking at the key again");
            continue;
        }
        let (response, mut ending) = respond(outcome);
        if resumed && matches!(ending, Ending::NothingKept) {
            // An order exists under this key whatever went wrong reading
            // it: the key stays its own.
            ending = Ending::Unsettled;
        }
        let (stored, finished) = (response.clone(), held.clone());
        let finished =
            run_blocking(move || idempotency::finish(&pool, &finished, ending.with(&stored))).await;
        if let Err(error) = finished {
            // The order is placed either way: answer it. If the claim was
            // lost, the request that took it over answers for the key; else
            // its lease runs out, and the next request with the key resumes
            // the order.
            eprintln!(
                "Idempotency-Key {}: could not record the answer: {error}",
                key.as_str()
            );
        }
        return Ok(response);
    }
}

/// Claims `key`, waiting within `deadline` while another live request with
/// the same key is in flight: each look is one short read (or write) on the
/// blocking pool, and between looks no thread is held.
async fn claim(
    pool: &Pool,
    key: &VisibleAscii,
    fingerprint: &str,
    deadline: Deadline,
    lease: Lease,
) -> Result<Claim, ShopError> {
    loop {
        let (pool, key, fingerprint) = (pool.clone(), key.clone(), fingerprint.to_owned());
        let claimed = run_blocking(move || {
            let mut conn = conn_within(&pool, deadline)?;
            idempotency::try_claim(&mut conn, &key, &fingerprint, lease)
        })
        .await?;
        if let Some(claim) = claimed {
            return Ok(claim);
        }
        if deadline.remaining() <= POLL_EVERY {
            return Err(ShopError::Timeout(
                "an earlier request with this Idempotency-Key is still running".into(),
            ));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
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
