//! Storage: one code path for SQLite (bundled, the default) and PostgreSQL.
//!
//! Queries are written once against [`DbConnection`], diesel's
//! `MultiConnection` over both backends. The few statements whose SQL differs
//! between them (an `INSERT ... RETURNING`, an upsert) go through
//! [`on_backend!`](crate::on_backend), which repeats one expression for each
//! concrete connection type.

mod connection;
mod migrations;
pub mod schema;
mod transaction;

pub use connection::{
    conn_within, open, DatabaseUrl, DbConnection, Pool, PooledConnection, SQLITE_BUSY_TIMEOUT,
};
pub use migrations::run_migrations;
pub use transaction::{read_snapshot, savepoint, write_transaction, write_transaction_within};

/// Runs one expression with the concrete connection of either backend, for
/// the statements diesel's `MultiConnection` cannot express (`RETURNING`,
/// `ON CONFLICT`). The expression is the same text in both arms: only the
/// types differ.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$inner:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($inner) => $body,
            $crate::db::DbConnection::Postgresql($inner) => $body,
        }
    };
}

/// `SUM(column)` as a plain `BIGINT`, 0 over no rows. diesel's `sum` gives
/// `NUMERIC` on PostgreSQL and an integer on SQLite; casting in SQL gives both
/// backends one Rust type. `column` is always a literal of ours, never input.
pub fn sum_as_bigint(
    column: &'static str,
) -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    diesel::dsl::sql(&format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"))
}
