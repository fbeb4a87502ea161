//! The catalog service: API.md's product routes (the monolith's very
//! handlers, from `common/http/src/routes/catalog.rs`), and the internal
//! endpoints through which the orders service looks up products and reserves
//! and releases stock.
//!
//! Each internal write is its own transaction here (`common::local::Owned`,
//! under the process's fault plan: this handler is where a plan strikes the
//! catalog). In the monolith the same store functions run inside the order's
//! one transaction (`monolith/src/checkout.rs`).

use actix_web::{web, HttpResponse};
use shoplab_common::catalog::store;
use shoplab_common::components::{Catalog, Component};
use shoplab_common::db::{conn_within, Pool};
use shoplab_common::domain::{OrderItems, OrderRef, ProductId, StepKey};
use shoplab_common::faults::Op;
use shoplab_common::local::drive;
use shoplab_common::ShopError;
use shoplab_http::routes::{self, Routes};
use shoplab_http::server::Application;
use shoplab_http::RequestDeadline;
use shoplab_http::{resource, run_blocking, with_conn, ApiError, ApiJson, Faults};
use shoplab_service::internal::{
    audit_path, CatalogAudit, HeldUnits, OrderIdBody, ProductIds, Reserve,
};
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

/// The product routes, the internal endpoints and the service's share of
/// `/audit`, on the catalog database; a group of components
/// (`microservices/group`) mounts them too.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .configure(routes::catalog::configure)
        .service(resource("/internal/products/lookup").post(lookup))
        .service(resource("/internal/reservations").post(reserve))
        .service(resource("/internal/reservations/{step_key}").get(held))
        .service(resource("/internal/reservations/{step_key}/release").post(release))
        .service(resource(audit_path(Component::Catalog)).get(audit));
}

async fn lookup(
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    json: ApiJson<ProductIds>,
) -> Result<HttpResponse, ApiError> {
    let ids = json
        .body
        .ids
        .iter()
        .map(|&id| ProductId::parse(id))
        .collect::<Result<Vec<_>, ShopError>>()?;
    // Every product found is sent; the caller puts them in order and names
    // a missing one (`Catalog::products` of `remote.rs`). It is that
    // operation, so the fault plan strikes it as `catalog.products`.
    let plan = faults.0;
    let found = run_blocking(move || {
        drive(plan.around(Op::CatalogProducts, deadline, async {
            store::find_existing(&mut *conn_within(&pool, deadline)?, &ids)
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(found))
}

async fn reserve(
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    json: ApiJson<Reserve>,
) -> Result<HttpResponse, ApiError> {
    let order = OrderRef::parse(json.body.order_id, &json.body.step_key)?;
    let pairs: Vec<(i64, i64)> = json
        .body
        .items
        .iter()
        .map(|item| (item.product_id, item.quantity))
        .collect();
    let items = OrderItems::parse(&pairs)?;
    faults
        .call(&pool, deadline, move |catalog| {
            drive(catalog.reserve(&order, items.lines()))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn release(
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    key: web::Path<String>,
    json: ApiJson<OrderIdBody>,
) -> Result<HttpResponse, ApiError> {
    let order = OrderRef::parse(json.body.order_id, &key)?;
    faults
        .call(&pool, deadline, move |catalog| {
            drive(catalog.release(&order))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn held(pool: web::Data<Pool>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = StepKey::parse(&key)?;
    let reserved_units = with_conn(&pool, move |conn| store::held_units(conn, &key)).await?;
    Ok(HttpResponse::Ok().json(HeldUnits { reserved_units }))
}

async fn audit(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let (products, stock_units) = with_conn(&pool, store::audit).await?;
    Ok(HttpResponse::Ok().json(CatalogAudit {
        products,
        stock_units,
    }))
}
