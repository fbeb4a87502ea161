//! `POST /users`, `GET /users/{id}` (component: users).

use actix_web::{web, HttpResponse};

use crate::routes::Routes;
use crate::wire::CreateUser;
use crate::RequestDeadline;
use crate::{resource, with_conn, ApiError, ApiJson, Faults};
use shoplab_common::components::Users;
use shoplab_common::db::Pool;
use shoplab_common::domain::UserId;
use shoplab_common::local::drive;
use shoplab_common::users::store;

pub fn configure(routes: &mut Routes<'_>) {
    routes
        .service(resource("/users").post(create))
        .service(resource("/users/{id}").get(get));
}

async fn create(
    pool: web::Data<Pool>,
    json: ApiJson<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let user = json.body.parse()?;
    let created = with_conn(&pool, move |conn| store::create(conn, &user)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Through the users component's `user` operation, so that a fault plan
/// that strikes users strikes this read too, in both deployments.
async fn get(
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = UserId::parse_segment(&id)?;
    let user = faults
        .call(&pool, deadline, move |users| drive(users.user(id)))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}
