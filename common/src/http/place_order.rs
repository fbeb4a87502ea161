//! `POST /orders` around whichever way a deployment places an order: parse
//! the body, honour `Idempotency-Key`, answer 201 with the order or the error
//! that refused it. Both deployments' handlers are this function with their
//! own `place`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use super::error::status_of;
use super::wire::PlaceOrderBody;
use super::{run_blocking, ApiError, ApiJson};
use crate::db::Pool;
use crate::domain::VisibleAscii;
use crate::orders::checkout::{PlaceOrder, Placed};
use crate::orders::idempotency::{self, Claim, StoredResponse};
use crate::ShopError;

pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Serves one `POST /orders`. `place` runs on the blocking pool; `pool` is
/// the database holding the orders component's tables (and its keys).
pub async fn serve<F>(
    request: &HttpRequest,
    pool: &Pool,
    json: ApiJson<PlaceOrderBody>,
    place: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(PlaceOrder) -> Result<Placed, ShopError> + Send + 'static,
{
    let key = idempotency_key(request)?;
    let order = json.body.parse()?;
    let fingerprint = fingerprint(&json.value);
    let pool = pool.clone();
    let response = run_blocking(move || match key {
        None => Ok(respond(place(order))),
        Some(key) => match idempotency::claim(&pool, &key, &fingerprint)? {
            Claim::Replay(stored) => Ok(stored),
            Claim::Owner => {
                let outcome = place(order);
                let kept = outcome.is_ok();
                let response = respond(outcome);
                // An outcome that kept no order (a 400, a 404, a component
                // down before the order was priced) frees the key; one that
                // kept an order, in any status, is replayed from now on.
                if let Err(error) = idempotency::finish(&pool, &key, kept.then_some(&response)) {
                    // The order is placed either way: answer it. The key stays
                    // claimed, and a retry waits and then times out.
                    eprintln!(
                        "Idempotency-Key {}: could not record the answer: {error}",
                        key.as_str()
                    );
                }
                Ok(response)
            }
        },
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

/// The response for an outcome: 201 with the order, or the error that refused
/// it (for a kept `failed` order too: the caller sees why).
fn respond(outcome: Result<Placed, ShopError>) -> StoredResponse {
    let (status, body) = match outcome {
        Ok(Placed::Completed(order)) => (StatusCode::CREATED, serde_json::to_string(&order)),
        Ok(Placed::Failed { error, .. } | Placed::Pending { error, .. }) | Err(error) => {
            let status = status_of(&error);
            (status, serde_json::to_string(&ApiError::Shop(error).body()))
        }
    };
    StoredResponse {
        status: status.as_u16(),
        // Serializing our own plain structs cannot fail.
        body: body.unwrap_or_else(|_| String::from("{}")),
    }
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
