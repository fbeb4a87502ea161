//! `GET /audit` of the monolith: every figure from the one database, in one
//! read. The gateway gathers the same figures from four services
//! (`microservices/gateway/src/audit.rs`).

use actix_web::{web, HttpResponse};
use shoplab_common::db::{read_snapshot, Pool};
use shoplab_common::http::wire::{Audit, OrderCounts};
use shoplab_common::http::{resource, with_conn, ApiError};
use shoplab_common::{catalog, orders, payments, users};

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource("/audit").route(web::get().to(audit)));
}

async fn audit(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let audit = with_conn(&pool, |conn| {
        read_snapshot(conn, |conn| {
            let users = users::store::count(conn)?;
            let (products, stock_units) = catalog::store::audit(conn)?;
            let (wallet_cents, paid_cents) = payments::store::audit(conn)?;
            let orders = OrderCounts::from_map(&orders::store::count_by_status(conn)?);
            Ok(Audit {
                users,
                products,
                stock_units,
                wallet_cents,
                paid_cents,
                orders,
            })
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(audit))
}
