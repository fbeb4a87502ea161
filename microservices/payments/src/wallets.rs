//! `GET /users/{id}/wallet`, `POST /users/{id}/wallet/deposit` (component:
//! payments). The payments service owns no users table, so it asks the users
//! service whether the user exists: an HTTP call where the monolith
//! (`monolith/src/wallets.rs`) makes a function call.

use actix_web::{web, HttpResponse};
use shoplab_common::db::Pool;
use shoplab_common::domain::UserId;
use shoplab_common::payments::store;
use shoplab_http::routes::Routes;
use shoplab_http::wire::{Deposit, Wallet};
use shoplab_http::RequestDeadline;
use shoplab_http::{resource, ApiError, ApiJson, RequestId};
use shoplab_service::client::PeerClient;

pub fn configure(routes: &mut Routes<'_>) {
    routes
        .service(resource("/users/{id}/wallet").get(balance))
        .service(resource("/users/{id}/wallet/deposit").post(deposit));
}

async fn balance(
    pool: web::Data<Pool>,
    peers: web::Data<PeerClient>,
    request_id: RequestId,
    RequestDeadline(deadline): RequestDeadline,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = UserId::parse_segment(&id)?;
    let balance = peers
        .with_known_user(request_id, deadline, user, &pool, move |conn| {
            store::balance(conn, user)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Wallet::new(user, balance)))
}

async fn deposit(
    pool: web::Data<Pool>,
    peers: web::Data<PeerClient>,
    request_id: RequestId,
    RequestDeadline(deadline): RequestDeadline,
    id: web::Path<String>,
    json: ApiJson<Deposit>,
) -> Result<HttpResponse, ApiError> {
    let user = UserId::parse_segment(&id)?;
    let amount = json.body.parse()?;
    let balance = peers
        .with_known_user(request_id, deadline, user, &pool, move |conn| {
            store::deposit(conn, user, amount)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Wallet::new(user, balance)))
}
