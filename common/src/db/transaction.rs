//! Transactions: writes that take their locks up front, savepoints, and read
//! snapshots.
//!
//! A plain `BEGIN` on SQLite starts as a reader and upgrades to a writer at its
//! first write; if another writer committed in between, the upgrade fails at
//! once (`SQLITE_BUSY`) and no busy timeout helps. `BEGIN IMMEDIATE` takes the
//! write lock at the start, so concurrent writers queue instead. PostgreSQL
//! locks rows, not the database: its conditional `UPDATE`s take row locks and
//! re-check their `WHERE` clause after waiting, and the stores take those
//! locks in one order (products by id, then wallets) so that two transactions
//! never wait for each other in a circle.

use diesel::connection::{AnsiTransactionManager, TransactionManager};

use diesel::connection::SimpleConnection;

use super::{DbConnection, SQLITE_BUSY_TIMEOUT};
use crate::deadline::Deadline;
use crate::ShopError;

/// Runs `work` in one write transaction: committed if it returns `Ok`, rolled
/// back if it returns `Err`.
pub fn write_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
) -> Result<T, ShopError> {
    match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgresql(inner) => AnsiTransactionManager::begin_transaction(inner)?,
    }
    finish(conn, work)
}

/// [`write_transaction`], waiting for SQLite's write lock no longer than
/// `deadline` allows (a lock still held then is `timeout`, see
/// `ShopError::from`). PostgreSQL takes row locks as it goes, not one lock up
/// front, so there is nothing to wait for at the start.
pub fn write_transaction_within<T>(
    conn: &mut DbConnection,
    deadline: Deadline,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
) -> Result<T, ShopError> {
    deadline.check("the write began")?;
    if matches!(conn, DbConnection::Postgresql(_)) {
        return write_transaction(conn, work);
    }
    let wait = deadline.remaining().min(SQLITE_BUSY_TIMEOUT);
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {}",
        wait.as_millis().max(1)
    ))?;
    let outcome = write_transaction(conn, work);
    // The connection goes back to the pool: give it back its usual wait.
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {}",
        SQLITE_BUSY_TIMEOUT.as_millis()
    ))?;
    outcome
}

/// Runs `work` in one read-only transaction that sees one moment of the
/// database: all of `/audit`'s figures, say, from the same snapshot. (WAL
/// gives an SQLite read transaction a snapshot; PostgreSQL needs
/// `REPEATABLE READ` for one, its default gives each statement its own.)
pub fn read_snapshot<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
) -> Result<T, ShopError> {
    match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN")?
        }
        DbConnection::Postgresql(inner) => AnsiTransactionManager::begin_transaction_sql(
            inner,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        )?,
    }
    finish(conn, work)
}

/// Runs `work` under a savepoint of the transaction `conn` is in: on `Err`
/// only `work`'s writes are undone, and the enclosing transaction goes on.
pub fn savepoint<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
) -> Result<T, ShopError> {
    // Inside a transaction, diesel's begin is a `SAVEPOINT` and its commit and
    // rollback release or roll back to it.
    match conn {
        DbConnection::Sqlite(inner) => AnsiTransactionManager::begin_transaction(inner)?,
        DbConnection::Postgresql(inner) => AnsiTransactionManager::begin_transaction(inner)?,
    }
    finish(conn, work)
}

/// Runs `work`, then commits (or releases) on `Ok` and rolls back on `Err`.
fn finish<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ShopError>,
) -> Result<T, ShopError> {
    let outcome = work(conn);
    let finished = match (&outcome, conn) {
        (Ok(_), DbConnection::Sqlite(inner)) => AnsiTransactionManager::commit_transaction(inner),
        (Ok(_), DbConnection::Postgresql(inner)) => {
            AnsiTransactionManager::commit_transaction(inner)
        }
        (Err(_), DbConnection::Sqlite(inner)) => {
            AnsiTransactionManager::rollback_transaction(inner)
        }
        (Err(_), DbConnection::Postgresql(inner)) => {
            AnsiTransactionManager::rollback_transaction(inner)
        }
    };
    finished?;
    outcome
}
