//! `POST /products`, `GET /products`, `GET /products/{id}` (component: catalog).

use actix_web::{web, HttpResponse};

use crate::routes::Routes;
use crate::wire::{CreateProduct, PageQuery};
use crate::RequestDeadline;
use crate::{resource, with_conn, ApiError, ApiJson, Faults};
use shoplab_common::catalog::store;
use shoplab_common::components::Catalog;
use shoplab_common::db::Pool;
use shoplab_common::domain::ProductId;
use shoplab_common::local::drive;
use shoplab_common::ShopError;

pub fn configure(routes: &mut Routes<'_>) {
    routes
        .service(resource("/products").post(create).get(list))
        .service(resource("/products/{id}").get(get));
}

async fn create(
    pool: web::Data<Pool>,
    json: ApiJson<CreateProduct>,
) -> Result<HttpResponse, ApiError> {
    let product = json.body.parse()?;
    let created = with_conn(&pool, move |conn| store::create(conn, &product)).await?;
    Ok(HttpResponse::Created().json(created))
}

async fn list(
    pool: web::Data<Pool>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    let products = with_conn(&pool, move |conn| store::list(conn, page)).await?;
    Ok(HttpResponse::Ok().json(products))
}

/// Through the catalog's `products` operation, so that a fault plan that
/// strikes the catalog strikes its reads too, in both deployments.
async fn get(
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ProductId::parse_segment(&id)?;
    let mut found = faults
        .call(&pool, deadline, move |catalog| {
            drive(catalog.products(&[id]))
        })
        .await?;
    let product = found
        .pop()
        .ok_or_else(|| ShopError::internal("catalog", "a product vanished while read"))?;
    Ok(HttpResponse::Ok().json(product))
}
