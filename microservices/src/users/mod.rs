//! The users service: API.md's users routes (the monolith's very handlers,
//! from `common/src/http/routes/users.rs`) plus its share of `/audit`.

use actix_web::{web, HttpResponse};
use shoplab_common::db::Pool;
use shoplab_common::http::{resource, routes, with_conn, ApiError};
use shoplab_common::users::store;

use crate::internal::{UsersAudit, AUDIT_PATH};

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .configure(routes::users::configure)
        .service(resource(AUDIT_PATH).route(web::get().to(audit)));
}

async fn audit(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let users = with_conn(&pool, store::count).await?;
    Ok(HttpResponse::Ok().json(UsersAudit { users }))
}
