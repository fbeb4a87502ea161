//! Opening a database from a `--database-url`, and the connection pool.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use super::run_migrations;
use crate::components::Component;
use crate::deadline::Deadline;
use crate::metrics::pool::PoolEvents;
use crate::ShopError;

/// A connection to either backend. Queries written against this type run on
/// both; see [`crate::on_backend!`] for the exceptions.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// How long an SQLite writer waits for the write lock unless a deadline
/// says less (see [`super::write_transaction_within`]): the default request
/// budget, so no wait outlasts the request that waits.
pub const SQLITE_BUSY_TIMEOUT: Duration = crate::deadline::DEFAULT_BUDGET;

/// A pooled connection, waiting for one no longer than `deadline` allows:
/// `timeout` if none came free in time, `service_unavailable` if the
/// database cannot be reached.
pub fn conn_within(pool: &Pool, deadline: Deadline) -> Result<PooledConnection, ShopError> {
    deadline.check("a database connection was free")?;
    pool.get_timeout(deadline.remaining()).map_err(|error| {
        if deadline.has_passed() {
            ShopError::Timeout(format!(
                "no database connection came free before the deadline: {error}"
            ))
        } else {
            ShopError::from(error)
        }
    })
}

/// Where a component keeps its data: `sqlite://PATH` (also a bare path) or
/// `postgres://...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() || path.contains("://") {
            return Err(format!(
                "unsupported database URL {raw:?}: use sqlite://PATH or postgres://USER@HOST/DB"
            ));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    /// An SQLite file inside `dir`, named for what it holds.
    pub fn sqlite_in(dir: &Path, name: &str) -> Self {
        DatabaseUrl::Sqlite(dir.join(format!("{name}.db")))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(url),
        }
    }
}

/// Opens connections of the backend the URL names (diesel's own
/// `ConnectionManager` would try each backend in turn, and SQLite accepts any
/// string as a file name, so a mistyped PostgreSQL URL would quietly become a
/// file).
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the one writer; busy_timeout makes a
                // second writer wait for the lock instead of failing at once.
                // Writers take the lock up front (`BEGIN IMMEDIATE`, see
                // transaction.rs), so waiting is always safe.
                conn.batch_execute(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = {}; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    SQLITE_BUSY_TIMEOUT.as_millis()
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// A connection that comes back with a transaction still open (a panic
    /// inside `write_transaction`) or in diesel's error state must not be
    /// handed out again: on SQLite it would still hold the write lock.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking()
            || crate::on_backend!(conn, |inner| {
                AnsiTransactionManager::is_broken_transaction_manager(inner)
            })
    }
}

/// The most connections one process's pool holds.
const POOL_SIZE: u32 = 8;

/// The `database` label of a pool's metrics: the component whose database
/// it is, or `shop` for the monolith's one database of every component.
fn database_label(components: &[Component]) -> &'static str {
    match components {
        [one] => one.name(),
        _ => "shop",
    }
}

/// Opens the database for `components`: connects once (so that a wrong URL
/// fails at start-up with the driver's own one-line reason rather than after
/// a pool's timeout), brings those components' tables up to date, and opens
/// the pool.
pub fn open(url: &DatabaseUrl, components: &[Component]) -> Result<Pool, ShopError> {
    if let DatabaseUrl::Sqlite(path) = url {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|error| {
                ShopError::internal(&format!("creating {}", dir.display()), error)
            })?;
        }
    }
    let manager = ConnectionManager { url: url.clone() };
    let mut first = manager
        .connect()
        .map_err(|error| ShopError::ServiceUnavailable(format!("cannot open {url}: {error}")))?;
    run_migrations(&mut first, components)?;
    drop(first);
    // A small pool: the lab runs several deployments on one 2-core machine,
    // and PostgreSQL's default allows 100 connections in all.
    let mut builder = r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10));
    if crate::metrics::enabled() {
        let events = PoolEvents::new(database_label(components), POOL_SIZE);
        builder = builder.event_handler(Box::new(events));
    }
    builder
        .build(manager)
        .map_err(|error| ShopError::ServiceUnavailable(format!("cannot open {url}: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_name_their_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/shop.db"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("data/shop.db")))
        );
        assert_eq!(
            DatabaseUrl::parse("shop.db"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("shop.db")))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://postgres@127.0.0.1/test"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(DatabaseUrl::parse("mysql://root@localhost/test").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }
}
