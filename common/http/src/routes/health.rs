//! `GET /health` for a process that owns databases (the monolith, each
//! service, each group of components): 200 when every one of its databases
//! answers and the process is not draining. The gateway has its own, which
//! asks every service.

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;

use crate::wire::Health;
use crate::{resource, with_conn, ApiError};
use shoplab_common::db::Pool;
use shoplab_common::ShopError;

/// The databases `/health` checks.
struct Databases(Vec<Pool>);

/// `/health`, checking each of `pools`.
pub fn configure(config: &mut web::ServiceConfig, pools: Vec<Pool>) {
    config.service(
        resource("/health")
            .app_data(web::Data::new(Databases(pools)))
            .get(health),
    );
}

async fn health(databases: web::Data<Databases>) -> Result<HttpResponse, ApiError> {
    refuse_while_draining()?;
    for pool in &databases.0 {
        with_conn(pool, |conn| {
            conn.batch_execute("SELECT 1")
                .map_err(|error| ShopError::ServiceUnavailable(format!("database: {error}")))
        })
        .await?;
    }
    Ok(HttpResponse::Ok().json(Health::ok()))
}

/// A draining process is not healthy: it is about to stop (`drain.rs`).
/// Every process's `/health` starts with this, the gateway's too.
pub fn refuse_while_draining() -> Result<(), ShopError> {
    if crate::drain::draining() {
        return Err(ShopError::ServiceUnavailable(
            "draining: this process is shutting down".into(),
        ));
    }
    Ok(())
}
