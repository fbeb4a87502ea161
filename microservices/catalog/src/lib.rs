//! The catalog service: API.md's product routes (the monolith's very
//! handlers, from `common/src/http/routes/catalog.rs`), and the internal
//! endpoints through which the orders service looks up products and reserves
//! and releases stock.
//!
//! Each internal write is its own transaction here. In the monolith the same
//! store functions run inside the order's one transaction
//! (`monolith/src/checkout.rs`).

use actix_web::{web, HttpResponse};
use shoplab_common::catalog::store;
use shoplab_common::components::Component;
use shoplab_common::db::{write_transaction, Pool};
use shoplab_common::domain::{OrderId, OrderItems, ProductId};
use shoplab_common::http::server::Application;
use shoplab_common::http::{resource, routes, with_conn, ApiError, ApiJson};
use shoplab_common::ShopError;
use shoplab_service::internal::{CatalogAudit, ProductIds, Reserve, AUDIT_PATH};
use shoplab_service::ServiceArgs;

/// The service's name, as it announces itself and prefixes its errors.
pub const NAME: &str = "shoplab-catalog";

/// Opens the service's own database (products and reservations only) and
/// binds its address (port 0 picks a free port; [`Application::port`] says
/// which). Call it outside an async runtime or on a blocking thread: see
/// [`shoplab_service::build`].
pub fn build(service: ServiceArgs) -> anyhow::Result<Application> {
    shoplab_service::build(Component::Catalog, service, configure)
}

fn configure(config: &mut web::ServiceConfig) {
    config
        .configure(routes::catalog::configure)
        .service(resource("/internal/products/lookup").route(web::post().to(lookup)))
        .service(resource("/internal/reservations").route(web::post().to(reserve)))
        .service(
            resource("/internal/reservations/{order_id}/release").route(web::post().to(release)),
        )
        .service(resource(AUDIT_PATH).route(web::get().to(audit)));
}

async fn lookup(
    pool: web::Data<Pool>,
    json: ApiJson<ProductIds>,
) -> Result<HttpResponse, ApiError> {
    let ids = json
        .body
        .ids
        .iter()
        .map(|&id| ProductId::parse(id))
        .collect::<Result<Vec<_>, ShopError>>()?;
    let found = with_conn(&pool, move |conn| store::find_existing(conn, &ids)).await?;
    Ok(HttpResponse::Ok().json(found))
}

async fn reserve(pool: web::Data<Pool>, json: ApiJson<Reserve>) -> Result<HttpResponse, ApiError> {
    let order = OrderId::parse(json.body.order_id)?;
    let pairs: Vec<(i64, i64)> = json
        .body
        .items
        .iter()
        .map(|item| (item.product_id, item.quantity))
        .collect();
    let items = OrderItems::parse(&pairs)?;
    with_conn(&pool, move |conn| {
        write_transaction(conn, |conn| store::reserve(conn, order, items.lines()))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn release(
    pool: web::Data<Pool>,
    order: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order = OrderId::parse_segment(&order)?;
    with_conn(&pool, move |conn| {
        write_transaction(conn, |conn| store::release(conn, order))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn audit(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let (products, stock_units) = with_conn(&pool, store::audit).await?;
    Ok(HttpResponse::Ok().json(CatalogAudit {
        products,
        stock_units,
    }))
}
