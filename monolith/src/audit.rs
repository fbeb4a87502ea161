//! `GET /audit` of the monolith: every figure from the one database, in one
//! read. The gateway gathers the same figures from four services
//! (`microservices/gateway/src/audit.rs`).

use actix_web::{web, HttpResponse};
use shoplab_common::db::{read_snapshot, Pool};
use shoplab_common::domain::OrderId;
use shoplab_common::{catalog, orders, payments, users};
use shoplab_http::routes::Routes;
use shoplab_http::wire::{Audit, OrderAudit, OrderCounts};
use shoplab_http::{resource, with_conn, ApiError};

/// Adds these routes, on the monolith's one database.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .service(resource("/audit").get(audit))
        .service(resource("/audit/orders/{id}").get(order_audit));
}

/// `GET /audit/orders/{id}`: what the catalog and payments tables hold for
/// one order, read in one snapshot with the order itself.
async fn order_audit(
    pool: web::Data<Pool>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = OrderId::parse_segment(&id)?;
    let audit = with_conn(&pool, move |conn| {
        read_snapshot(conn, |conn| {
            let order = orders::store::find(conn, id)?;
            let reference = orders::store::find_ref(conn, id)?;
            Ok(OrderAudit {
                order_id: order.id,
                status: order.status,
                total_cents: order.total_cents,
                charged_cents: payments::store::charged_cents(conn, &reference.key)?,
                reserved_units: catalog::store::held_units(conn, &reference.key)?,
            })
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(audit))
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
