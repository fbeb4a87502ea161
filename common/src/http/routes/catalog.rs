//! `POST /products`, `GET /products`, `GET /products/{id}` (component: catalog).

use actix_web::{web, HttpResponse};

use crate::catalog::store;
use crate::db::Pool;
use crate::domain::ProductId;
use crate::http::wire::{CreateProduct, PageQuery};
use crate::http::{resource, with_conn, ApiError, ApiJson};

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            resource("/products")
                .route(web::post().to(create))
                .route(web::get().to(list)),
        )
        .service(resource("/products/{id}").route(web::get().to(get)));
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

async fn get(pool: web::Data<Pool>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = ProductId::parse_segment(&id)?;
    let product = with_conn(&pool, move |conn| store::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(product))
}
