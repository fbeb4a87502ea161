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

use std::time::Duration;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::idempotency_keys;
use crate::db::{conn_within, write_transaction, DbConnection, Pool};
use crate::deadline::Deadline;
use crate::domain::{OrderId, VisibleAscii};
use crate::orders::saga::{now_ms, Lease};
use crate::ShopError;

/// A response as first sent, to send again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// What a request holding a key should do.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: place the order, then [`finish`].
    Owner,
    /// The key is ours, taken over from a request that is gone after it
    /// placed this order: see it to its end, then [`finish`].
    Resume(OrderId),
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

/// How long a duplicate waits between looks at the first request's claim.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Claims `key` for a request whose body has `fingerprint`, waiting within
/// `deadline` while another live request with the same key is in flight. A
/// claim won is held until `lease` runs out.
pub fn claim(
    pool: &Pool,
    key: &VisibleAscii,
    fingerprint: &str,
    deadline: Deadline,
    lease: Lease,
) -> Result<Claim, ShopError> {
    loop {
        let mut conn = conn_within(pool, deadline)?;
        if let Some(claim) = try_claim(&mut conn, key, fingerprint, lease)? {
            return Ok(claim);
        }
        drop(conn);
        if deadline.remaining() <= POLL_EVERY {
            return Err(ShopError::Timeout(
                "an earlier request with this Idempotency-Key is still running".into(),
            ));
        }
        std::thread::sleep(POLL_EVERY);
    }
}

type KeyRow = (String, Option<i32>, Option<String>, Option<i64>, i64);

/// One attempt; `None` while the key's first request is still in flight.
fn try_claim(
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
            idempotency_keys::order_id,
            idempotency_keys::lease_until,
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
        Some((_, _, _, order, seen)) if seen < now_ms() => {
            // The claim's request is gone: take it over, unless another
            // duplicate just did.
            let taken = write_transaction(conn, |conn| {
                Ok(diesel::update(
                    idempotency_keys::table
                        .find(key.as_str())
                        .filter(idempotency_keys::lease_until.eq(seen))
                        .filter(idempotency_keys::status_code.is_null()),
                )
                .set(idempotency_keys::lease_until.eq(lease.until_ms()))
                .execute(conn)?)
            })?;
            Ok((taken == 1).then(|| match order {
                Some(order) => Claim::Resume(OrderId::from_db(order)),
                None => Claim::Owner,
            }))
        }
        Some(_) => Ok(None),
        None => {
            let inserted = write_transaction(conn, |conn| {
                diesel::insert_into(idempotency_keys::table)
                    .values((
                        idempotency_keys::key.eq(key.as_str()),
                        idempotency_keys::request_fingerprint.eq(fingerprint),
                        idempotency_keys::lease_until.eq(lease.until_ms()),
                    ))
                    .execute(conn)
                    .map_err(key_taken)
            });
            match inserted {
                Ok(_) => Ok(Some(Claim::Owner)),
                // Another request claimed it first: look again.
                Err(ShopError::IdempotencyConflict) => Ok(None),
                Err(error) => Err(error),
            }
        }
    }
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

/// Ends the owner's claim (see [`Finish`]).
pub fn finish(pool: &Pool, key: &VisibleAscii, how: Finish<'_>) -> Result<(), ShopError> {
    let mut conn = pool.get()?;
    let target = idempotency_keys::table.find(key.as_str());
    match how {
        Finish::Kept(response) => {
            diesel::update(target)
                .set((
                    idempotency_keys::status_code.eq(i32::from(response.status)),
                    idempotency_keys::response_body.eq(&response.body),
                ))
                .execute(&mut conn)?;
        }
        Finish::NothingKept => {
            diesel::delete(target).execute(&mut conn)?;
        }
        Finish::Unsettled => {
            diesel::update(target)
                .set(idempotency_keys::lease_until.eq(Lease::EXPIRED.until_ms()))
                .execute(&mut conn)?;
        }
    }
    Ok(())
}
