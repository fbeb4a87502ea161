//! `Idempotency-Key` for `POST /orders`, kept in the database so that it holds
//! across processes and replicas.
//!
//! The first request with a key claims it by inserting a row; it later stores
//! its response there, or deletes the row if it kept no order (a 400 or 404
//! does not use up its key). A duplicate finds the row: a different body is a
//! conflict, a stored response is replayed, and a row without a response means
//! the first request is still running, so the duplicate waits for it.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::idempotency_keys;
use crate::db::{write_transaction, DbConnection, Pool};
use crate::domain::VisibleAscii;
use crate::ShopError;

/// A response as first sent, to send again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// What a request holding a key should do.
#[derive(Debug)]
pub enum Claim {
    /// The key is ours: place the order, then [`finish`].
    Owner,
    /// The key was used before with this body: send this again.
    Replay(StoredResponse),
}

/// How long a duplicate waits for the first request before giving up with
/// `timeout`. Longer than any order can take when the components answer.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(30);
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Claims `key` for a request whose body has `fingerprint`, waiting while
/// another request with the same key is in flight.
pub fn claim(pool: &Pool, key: &VisibleAscii, fingerprint: &str) -> Result<Claim, ShopError> {
    let deadline = Instant::now() + WAIT_FOR_FIRST;
    loop {
        let mut conn = pool.get()?;
        if let Some(claim) = try_claim(&mut conn, key, fingerprint)? {
            return Ok(claim);
        }
        drop(conn);
        if Instant::now() >= deadline {
            return Err(ShopError::Timeout(
                "an earlier request with this Idempotency-Key is still running".into(),
            ));
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// One attempt; `None` while the key's first request is still in flight.
fn try_claim(
    conn: &mut DbConnection,
    key: &VisibleAscii,
    fingerprint: &str,
) -> Result<Option<Claim>, ShopError> {
    // Look before taking the write lock: waiting duplicates only read, so they
    // do not queue for the lock the first request needs to finish.
    let row: Option<(String, Option<i32>, Option<String>)> = idempotency_keys::table
        .find(key.as_str())
        .select((
            idempotency_keys::request_fingerprint,
            idempotency_keys::status_code,
            idempotency_keys::response_body,
        ))
        .first(conn)
        .optional()?;
    match row {
        Some((stored, _, _)) if stored != fingerprint => Err(ShopError::IdempotencyConflict),
        Some((_, Some(status), Some(body))) => Ok(Some(Claim::Replay(StoredResponse {
            status: u16::try_from(status)
                .map_err(|error| ShopError::internal("idempotency status", error))?,
            body,
        }))),
        Some(_) => Ok(None),
        None => {
            let inserted = write_transaction(conn, |conn| {
                diesel::insert_into(idempotency_keys::table)
                    .values((
                        idempotency_keys::key.eq(key.as_str()),
                        idempotency_keys::request_fingerprint.eq(fingerprint),
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

/// Ends the owner's claim: stores the response if the request kept an order,
/// or frees the key if it did not.
pub fn finish(
    pool: &Pool,
    key: &VisibleAscii,
    kept: Option<&StoredResponse>,
) -> Result<(), ShopError> {
    let mut conn = pool.get()?;
    let target = idempotency_keys::table.find(key.as_str());
    match kept {
        Some(response) => {
            diesel::update(target)
                .set((
                    idempotency_keys::status_code.eq(i32::from(response.status)),
                    idempotency_keys::response_body.eq(&response.body),
                ))
                .execute(&mut conn)?;
        }
        None => {
            diesel::delete(target).execute(&mut conn)?;
        }
    }
    Ok(())
}
