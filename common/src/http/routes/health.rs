//! `GET /health` for a process that owns a database (the monolith and each
//! service): 200 when the database answers and the process is not draining. The gateway has its own, which
//! asks every service.

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;

use crate::db::Pool;
use crate::http::wire::Health;
use crate::http::{resource, with_conn, ApiError};
use crate::ShopError;

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource("/health").get(health));
}

async fn health(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    refuse_while_draining()?;
    with_conn(&pool, |conn| {
        conn.batch_execute("SELECT 1")
            .map_err(|error| ShopError::ServiceUnavailable(format!("database: {error}")))
    })
    .await?;
    Ok(HttpResponse::Ok().json(Health::ok()))
}

/// A draining process is not healthy: it is about to stop (`drain.rs`).
/// Every process's `/health` starts with this, the gateway's too.
pub fn refuse_while_draining() -> Result<(), ShopError> {
    if crate::http::drain::draining() {
        return Err(ShopError::ServiceUnavailable(
            "draining: this process is shutting down".into(),
        ));
    }
    Ok(())
}
