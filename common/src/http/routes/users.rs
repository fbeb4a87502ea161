//! `POST /users`, `GET /users/{id}` (component: users).

use actix_web::{web, HttpResponse};

use crate::components::Users;
use crate::db::Pool;
use crate::deadline::Deadline;
use crate::domain::UserId;
use crate::http::routes::Routes;
use crate::http::wire::CreateUser;
use crate::http::{resource, run_blocking, with_conn, ApiError, ApiJson, Faults};
use crate::local::drive;
use crate::users::store;

pub fn configure(routes: &mut Routes) {
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
    deadline: Deadline,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = UserId::parse_segment(&id)?;
    let mut users = faults.owned(&pool, deadline);
    let user = run_blocking(move || drive(users.user(id))).await?;
    Ok(HttpResponse::Ok().json(user))
}
