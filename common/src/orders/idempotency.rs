//! `Idempotency-Key` for `POST /orders`, kept in the database so that it holds
//! across processes and replicas.
//!
//! The first request with a key claims it by inserting a row with a lease
//! (its deadline and a little more). Placing the order records the order's
//! id on the row, in the order's own first write. When it is done, the
//! request stores its response there, or deletes the row if it kept no
//! order (a 400 or 404 does not use up its key).
//!
//! A duplicate finds the row: a different body is a conflict, a stored
//! response is replayed at once, and a row without a response means the
//! first request is still running, so the duplicate waits for it, within its
//! own deadline. If the claim's lease has run out (its request died, or gave
//! up before the order settled), the duplicate takes the claim over: it
//! resumes the order the row names — it never places a second one — or, if
//! none was recorded, places it afresh.
//!
//! Who holds the claim is decided by its fencing token
//! ([`crate::orders::saga::Token`]), one more with each take-over, never by
//! the clock alone: the take-over and the read of the order it must resume
//! are one statement, and every later write of the claim — recording the
//! order, storing the answer, freeing the key — is conditional on the
//! writer's token. So a request that stalled past its lease (frozen, or
//! slow to commit) and wakes after another took its key over changes
//! nothing: its order is not recorded (its transaction rolls back), and its
//! answer is not stored. One key, at most one order.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::idempotency_keys;
use crate::db::{write_transaction, DbConnection, Pool};
use crate::domain::{OrderId, VisibleAscii};
use crate::orders::saga::{now_ms, Lease, Token};
use crate::ShopError;

/// A response as first sent, to send again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// A key as the request that holds its claim holds it: with the token it
/// won the claim with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub key: VisibleAscii,
    pub token: Token,
}

/// What a request holding a key should do.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: place the order under it, then [`finish`].
    Owner(Held),
    /// The key is ours, taken over from a request that is gone after it
    /// placed this order: see it to its end, then [`finish`].
    Resume(OrderId, Held),
    /// The key was used before with this body: send this again.
    Replay(StoredResponse),
}

/// How the owner of a key ends its claim.
#[derive(Debug)]
pub enum Finish<'a> {
    /// An order was kept and has settled: replay this from now on.
    Kept(&'a StoredResponse),
    /// No order was kept (400, 404, a component down before pricing): the
    /// key is free again.
    NothingKept,
    /// An order was kept but has not settled (its saga is still undoing
    /// steps): the next request with the key takes over at once and resumes
    /// it, so its answer is the order's final one.
    Unsettled,
}

type KeyRow = (String, Option<i32>, Option<String>, i64, i64);

/// One attempt to claim `key` for a request whose body has `fingerprint`;
/// `None` while the key's first request is still in flight (the caller
/// looks again a little later, within its deadline: `http/place_order.rs`).
/// A claim won is held until `lease` runs out.
pub fn try_claim(
    conn: &mut DbConnection,
    key: &VisibleAscii,
    fingerprint: &str,
    lease: Lease,
) -> Result<Option<Claim>, ShopError> {
    // Look before taking the write lock: waiting duplicates only read, so they
    // do not queue for the lock the first request needs to finish.
    let row: Option<KeyRow> = idempotency_keys::table
        .find(key.as_str())
        .select((
            idempotency_keys::request_fingerprint,
            idempotency_keys::status_code,
            idempotency_keys::response_body,
            idempotency_keys::lease_until,
            idempotency_keys::claim_token,
        ))
        .first(conn)
        .optional()?;
    match row {
        Some((stored, ..)) if stored != fingerprint => Err(ShopError::IdempotencyConflict),
        Some((_, Some(status), Some(body), _, _)) => Ok(Some(Claim::Replay(StoredResponse {
            status: u16::try_from(status)
                .map_err(|error| ShopError::internal("idempotency status", error))?,
            body,
        }))),
        Some((_, _, _, seen, token)) if seen < now_ms() => {
            take_over(conn, key, Token::from_db(token), lease)
        }
        Some(_) => Ok(None),
        None => {
            let inserted = write_transaction(conn, |conn| {
                diesel::insert_into(idempotency_keys::table)
                    .values((
                        idempotency_keys::key.eq(key.as_str()),
                        idempotency_keys::request_fingerprint.eq(fingerprint),
                        idempotency_keys::lease_until.eq(lease.until_ms()),
                        idempotency_keys::claim_token.eq(Token::FIRST.get()),
                    ))
                    .execute(conn)
                    .map_err(key_taken)
            });
            match inserted {
                Ok(_) => Ok(Some(Claim::Owner(Held {
                    key: key.clone(),
                    token: Token::FIRST,
                }))),
                // Another request claimed it first: look again.
                Err(ShopError::IdempotencyConflict) => Ok(None),
                Err(error) => Err(error),
            }
        }
    }
}

/// Takes over a claim whose lease ran out, held until then under `seen`:
/// one statement moves the token on and reads the order the claim
/// recorded, so whatever its old holder committed before is resumed, and
/// whatever it tries after is fenced off. `None` if another request took it
/// over first (or its holder answered meanwhile): look again.
fn take_over(
    conn: &mut DbConnection,
    key: &VisibleAscii,
    seen: Token,
    lease: Lease,
) -> Result<Option<Claim>, ShopError> {
    let target = idempotency_keys::table
        .find(key.as_str())
        .filter(idempotency_keys::claim_token.eq(seen.get()))
        .filter(idempotency_keys::status_code.is_null())
        .filter(idempotency_keys::lease_until.lt(now_ms()));
    let changes = (
        idempotency_keys::lease_until.eq(lease.until_ms()),
        idempotency_keys::claim_token.eq(idempotency_keys::claim_token + 1),
    );
    let taken: Option<(i64, Option<i64>)> = write_transaction(conn, |conn| {
        Ok(crate::on_backend!(conn, |inner| {
            diesel::update(target)
                .set(changes)
                .returning((idempotency_keys::claim_token, idempotency_keys::order_id))
                .get_result(inner)
                .optional()
        })?)
    })?;
    Ok(taken.map(|(token, order)| {
        let held = Held {
            key: key.clone(),
            token: Token::from_db(token),
        };
        match order {
            Some(order) => Claim::Resume(OrderId::from_db(order), held),
            None => Claim::Owner(held),
        }
    }))
}

/// Records that the claim `held` placed order `id`, in the order's own
/// first write (call it inside that transaction). `ClaimLost` if the claim
/// is no longer `held`'s, or already names an order: the caller's
/// transaction must roll back, so that the key never names two orders.
pub fn record_order(conn: &mut DbConnection, held: &Held, id: i64) -> Result<(), ShopError> {
    let recorded = diesel::update(
        idempotency_keys::table
            .find(held.key.as_str())
            .filter(idempotency_keys::claim_token.eq(held.token.get()))
            .filter(idempotency_keys::order_id.is_null()),
    )
    .set(idempotency_keys::order_id.eq(id))
    .execute(conn)?;
    if recorded == 1 {
        Ok(())
    } else {
        Err(lost(held))
    }
}

fn lost(held: &Held) -> ShopError {
    ShopError::ClaimLost(format!(
        "the claim on Idempotency-Key {} was taken over by a later request",
        held.key.as_str()
    ))
}

/// A unique violation on the key's insert means the key is taken.
fn key_taken(error: DieselError) -> ShopError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            ShopError::IdempotencyConflict
        }
        other => other.into(),
    }
}

/// Ends the claim `held` (see [`Finish`]). `ClaimLost`, with nothing
/// changed, if it is no longer `held`'s: the request that took it over
/// answers for the key.
pub fn finish(pool: &Pool, held: &Held, how: Finish<'_>) -> Result<(), ShopError> {
    let mut conn = pool.get()?;
    let target = idempotency_keys::table
        .find(held.key.as_str())
        .filter(idempotency_keys::claim_token.eq(held.token.get()));
    let changed = match how {
        Finish::Kept(response) => diesel::update(target)
            .set((
                idempotency_keys::status_code.eq(i32::from(response.status)),
                idempotency_keys::response_body.eq(&response.body),
            ))
            .execute(&mut conn)?,
        Finish::NothingKept => diesel::delete(target).execute(&mut conn)?,
        Finish::Unsettled => diesel::update(target)
            .set(idempotency_keys::lease_until.eq(Lease::EXPIRED.until_ms()))
            .execute(&mut conn)?,
    };
    if changed == 1 {
        Ok(())
    } else {
        Err(lost(held))
    }
}
