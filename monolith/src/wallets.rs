//! `GET /users/{id}/wallet`, `POST /users/{id}/wallet/deposit` (component:
//! payments). The user check is an in-process call to the users component on
//! the same connection (under the fault plan, like every component call); the payments service makes it over HTTP instead
//! (`microservices/payments/src/wallets.rs`).

use actix_web::{web, HttpResponse};
use shoplab_common::components::Users;
use shoplab_common::db::Pool;
use shoplab_common::domain::UserId;
use shoplab_common::local::drive;
use shoplab_common::payments::store;
use shoplab_http::routes::Routes;
use shoplab_http::wire::{Deposit, Wallet};
use shoplab_http::RequestDeadline;
use shoplab_http::{resource, with_conn, ApiError, ApiJson, Faults};

use crate::checkout;

/// Adds these routes, on the monolith's one database.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .service(resource("/users/{id}/wallet").get(balance))
        .service(resource("/users/{id}/wallet/deposit").post(deposit));
}

async fn balance(
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = UserId::parse_segment(&id)?;
    let balance = with_conn(&pool, move |conn| {
        drive(checkout::shop(conn, faults.0, deadline).user(user))?;
        store::balance(conn, user)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Wallet::new(user, balance)))
}

async fn deposit(
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    id: web::Path<String>,
    json: ApiJson<Deposit>,
) -> Result<HttpResponse, ApiError> {
    let user = UserId::parse_segment(&id)?;
    let amount = json.body.parse()?;
    let balance = with_conn(&pool, move |conn| {
        drive(checkout::shop(conn, faults.0, deadline).user(user))?;
        store::deposit(conn, user, amount)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Wallet::new(user, balance)))
}
