//! diesel is synchronous: every query runs on actix's blocking thread pool,
//! never on the async executor (one slow query there would stall every
//! request on that worker).

use actix_web::web;

use super::hop_log;
use shoplab_common::db::{DbConnection, Pool};
use shoplab_common::metrics::BusyThread;
use shoplab_common::ShopError;

/// Runs `work` on the blocking pool, its thread counted busy meanwhile
/// (`shoplab_blocking_threads_busy`, when metrics are on) and inside the
/// request's hop (what it logs hangs under it, `hop_log.rs`).
pub async fn run_blocking<T, F>(work: F) -> Result<T, ShopError>
where
    F: FnOnce() -> Result<T, ShopError> + Send + 'static,
    T: Send + 'static,
{
    let hop = hop_log::current();
    web::block(move || {
        let _busy = BusyThread::enter();
        let _hop = hop_log::enter(hop);
        work()
    })
    .await
    .map_err(|error| ShopError::internal("blocking task", error))?
}

/// Runs `work` on the blocking pool with a pooled connection.
pub async fn with_conn<T, F>(pool: &Pool, work: F) -> Result<T, ShopError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ShopError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    run_blocking(move || {
        let mut conn = pool.get()?;
        work(&mut conn)
    })
    .await
}
