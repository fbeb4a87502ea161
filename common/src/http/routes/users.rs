//! `POST /users`, `GET /users/{id}` (component: users).

use actix_web::{web, HttpResponse};

use crate::db::Pool;
use crate::domain::UserId;
use crate::http::wire::CreateUser;
use crate::http::{resource, with_conn, ApiError, ApiJson};
use crate::users::store;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/users").route(web::post().to(create)))
        .service(resource("/users/{id}").route(web::get().to(get)));
}

async fn create(
    pool: web::Data<Pool>,
    json: ApiJson<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let user = json.body.parse()?;
    let created = with_conn(&pool, move |conn| store::create(conn, &user)).await?;
    Ok(HttpResponse::Created().json(created))
}

async fn get(pool: web::Data<Pool>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = UserId::parse_segment(&id)?;
    let user = with_conn(&pool, move |conn| store::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(user))
}
