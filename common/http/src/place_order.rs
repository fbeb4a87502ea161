//! `POST /orders` around whichever way a deployment places an order: parse
//! the body, honour `Idempotency-Key`, answer 201 with the order or the error
//! that refused it. Both deployments' handlers are this function with their
//! own [`Checkout`].

use std::future::Future;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use tokio::sync::oneshot;

mod waiting;

use self::waiting::Waiting;
use super::error::status_of;
use super::hop_log;
use super::wire::PlaceOrderBody;
use super::{run_blocking, ApiError, ApiJson};
use shoplab_common::db::{conn_within, Pool};
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::VisibleAscii;
use shoplab_common::orders::checkout::{Checkout, PlaceOrder, Placed};
use shoplab_common::orders::idempotency::{self, Claim, Finish, StoredResponse};
use shoplab_common::orders::saga::Lease;
use shoplab_common::ShopError;

pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// How much longer than its request's deadline a claim on an
/// Idempotency-Key (or a saga) is leased: enough for the request to write
/// down how it ended after its last wait.
pub const LEASE_GRACE: Duration = Duration::from_secs(1);

/// How long a duplicate first waits between looks at the first request's
/// claim, and the longest it waits: each look doubles the wait.
const POLL_FIRST: Duration = Duration::from_millis(10);
const POLL_MAX: Duration = Duration::from_millis(200);

/// How long past its deadline a request waits for its order's outcome
/// before it answers 504. An order is only ever marked completed within its
/// deadline (`orders::checkout::in_time_to_complete`), so an
/// outcome not known by then is not a completed order: the order ends
/// `failed`, charging nothing, and the 504 is true. The gateway waits 250 ms
/// past the deadline, so this answer reaches it first.
pub const ANSWER_GRACE: Duration = Duration::from_millis(100);

/// The most requests that wait on one Idempotency-Key in one process at
/// once; one more is refused at once (503 `service_unavailable`, nothing
/// changed). A client retrying through an incident cannot pile up more.
pub const MAX_WAITERS_PER_KEY: usize = 64;

/// Serves one `POST /orders`. `pool` is the database holding the orders
/// component's tables (and its keys). The order is placed by a task of its
/// own, so a client that hangs up does not cut it short between two steps:
/// it runs to its end (and its key records how) whoever is still waiting.
/// A duplicate of a request in flight waits here, in the request's own
/// future, so a duplicate whose client hangs up stops waiting.
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
    let keyed = match key {
        None => None,
        Some(key) => {
            let lease = Lease::for_next(deadline.remaining() + LEASE_GRACE);
            match claim(pool, &key, &fingerprint, deadline, lease).await? {
                Claim::Replay(stored) => return stored_response(stored),
                claim => Some(Keyed {
                    key,
                    fingerprint,
                    claim,
                }),
            }
        }
    };
    let (answer, answered) = oneshot::channel();
    let pool = pool.clone();
    let placing = async move {
        let mut answer = Answer(Some(answer));
        let placed = place(pool, keyed, order, deadline, checkout, &mut answer).await;
        answer.give(placed);
    };
    tokio::spawn(hop_log::within(hop_log::current(), placing));
    let response = answered
        .await
        .map_err(|error| ShopError::internal("the order's task", error))??;
    stored_response(response)
}

/// An answer, just made or stored under a key, as the HTTP response.
fn stored_response(response: StoredResponse) -> Result<HttpResponse, ApiError> {
    let status = StatusCode::from_u16(response.status)
        .map_err(|error| ShopError::internal("stored status", error))?;
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .body(response.body))
}

/// A request's Idempotency-Key, with the body it came with and the claim
/// it won on it.
struct Keyed {
    key: VisibleAscii,
    fingerprint: String,
    claim: Claim,
}

/// Where the order's task sends its answer, once: as soon as the order is
/// decided, before the key records a kept order, so that the bookkeeping after the
/// decision (a write that may wait on the database's lock) never makes the
/// answer late. An answer that arrives after the gateway gave up (its 504)
/// would contradict it (docs/SAGA.md, "Answers that tell the truth").
struct Answer(Option<oneshot::Sender<Result<StoredResponse, ShopError>>>);

impl Answer {
    /// Sends `outcome`, unless an answer was sent already. A client that
    /// hung up is no one to send to: the order is settled all the same.
    fn give(&mut self, outcome: Result<StoredResponse, ShopError>) {
        if let Some(answer) = self.0.take() {
            let _ = answer.send(outcome);
        }
    }
}

/// Places `order` (or resumes the order its key's claim names), answers
/// through `answer`, then records the answer under the key.
async fn place<C: Checkout>(
    pool: Pool,
    keyed: Option<Keyed>,
    mut order: PlaceOrder,
    deadline: Deadline,
    mut checkout: C,
    answer: &mut Answer,
) -> Result<StoredResponse, ShopError> {
    let Some(Keyed {
        key,
        fingerprint,
        mut claim,
    }) = keyed
    else {
        return Ok(respond(decided(checkout.place(order), deadline, answer).await).0);
    };
    loop {
        let (outcome, held, resumed) = match claim {
            Claim::Replay(stored) => return Ok(stored),
            Claim::Owner(held) => {
                order.idempotency_key = Some(held.clone());
                let placing = checkout.place(order.clone());
                (decided(placing, deadline, answer).await, held, false)
            }
            Claim::Resume(id, held) => (
                decided(checkout.resume(id), deadline, answer).await,
                held,
                true,
            ),
        };
        if let Err(ShopError::ClaimLost(why)) = &outcome {
            // This request stalled past its lease and a later one with the
            // same key took it over: nothing of ours was recorded. The key
            // is the other request's now; look again, and answer as it does.
            tracing::warn!(key = key.as_str(), "{why}; looking at the key again");
            let lease = Lease::for_next(deadline.remaining() + LEASE_GRACE);
            claim = self::claim(&pool, &key, &fingerprint, deadline, lease).await?;
            continue;
        }
        let (response, mut ending) = respond(outcome);
        if resumed && matches!(ending, Ending::NothingKept) {
            // An order exists under this key whatever went wrong reading
            // it: the key stays its own.
            ending = Ending::Unsettled;
        }
        // A key freed is freed before the answer, so that a client answered
        // 404 may use it at once, even with another body (freeing it late
        // cannot make the answer untrue: nothing was charged).
        let frees = matches!(ending, Ending::NothingKept);
        if !frees {
            answer.give(Ok(response.clone()));
        }
        let (stored, finished) = (response.clone(), held.clone());
        let finished =
            run_blocking(move || idempotency::finish(&pool, &finished, ending.with(&stored))).await;
        answer.give(Ok(response.clone()));
        if let Err(error) = finished {
            // The order is placed either way, and answered. If the claim was
            // lost, the request that took it over answers for the key; else
            // its lease runs out, and the next request with the key resumes
            // the order.
            tracing::warn!(
                "Idempotency-Key {}: could not record the answer: {error}",
                key.as_str()
            );
        }
        return Ok(response);
    }
}

/// The order's outcome. If it is not known [`ANSWER_GRACE`] past the
/// deadline, the caller is answered 504 then (through `answer`), and the
/// outcome, which can no longer be a completed order, is still awaited for
/// the key's record.
async fn decided(
    placing: impl Future<Output = Result<Placed, ShopError>>,
    deadline: Deadline,
    answer: &mut Answer,
) -> Result<Placed, ShopError> {
    let mut placing = std::pin::pin!(placing);
    let late = tokio::time::sleep_until(deadline.extended(ANSWER_GRACE).instant().into());
    tokio::select! {
        outcome = &mut placing => return outcome,
        () = late => {}
    }
    let undecided = ShopError::Timeout(
        "the order was not completed by its deadline, and will not be: nothing is charged".into(),
    );
    answer.give(Ok(respond(Err(undecided)).0));
    placing.await
}

/// Claims `key`. While another live request with the same key is in
/// flight, it waits within `deadline`: in this process one waiter at a time
/// looks at the key (the others wait their turn, not the database), each
/// look one short read (or write) on the blocking pool, the wait between
/// looks doubling from 10 ms to 200 ms; at most [`MAX_WAITERS_PER_KEY`]
/// wait at once.
async fn claim(
    pool: &Pool,
    key: &VisibleAscii,
    fingerprint: &str,
    deadline: Deadline,
    lease: Lease,
) -> Result<Claim, ShopError> {
    let look = || {
        let (pool, key, fingerprint) = (pool.clone(), key.clone(), fingerprint.to_owned());
        run_blocking(move || {
            let mut conn = conn_within(&pool, deadline)?;
            idempotency::try_claim(&mut conn, &key, &fingerprint, lease)
        })
    };
    // Most requests with a key are no duplicate: one look, no queue.
    if let Some(claim) = look().await? {
        return Ok(claim);
    }
    let waiting = Waiting::join(key)?;
    let still_running = || {
        ShopError::Timeout("an earlier request with this Idempotency-Key is still running".into())
    };
    let _turn = tokio::time::timeout(deadline.remaining(), waiting.turn.lock())
        .await
        .map_err(|_| still_running())?;
    let mut wait = POLL_FIRST;
    loop {
        if let Some(claim) = look().await? {
            return Ok(claim);
        }
        if deadline.remaining() <= wait {
            return Err(still_running());
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(POLL_MAX);
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
