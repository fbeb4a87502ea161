//! The orders routes of the monolith. Same routes, same wire types and same
//! idempotency handling as the orders service
//! (`microservices/orders/src/lib.rs`); only the [`Checkout`] differs.
//!
//! [`Checkout`]: shoplab_common::orders::checkout::Checkout

use actix_web::{web, HttpRequest, HttpResponse};
use shoplab_common::components::Users;
use shoplab_common::db::Pool;
use shoplab_common::domain::UserId;
use shoplab_common::local::drive;
use shoplab_common::orders::store;
use shoplab_http::routes::orders;
use shoplab_http::routes::Routes;
use shoplab_http::wire::PlaceOrderBody;
use shoplab_http::RequestDeadline;
use shoplab_http::{place_order, resource, with_conn, ApiError, ApiJson, Faults};

use crate::checkout::{self, OneTransaction};

/// Adds these routes, on the monolith's one database.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .service(resource("/orders").post(place))
        .service(resource("/orders/{id}").get(orders::get))
        .service(resource("/orders/{id}/cancel").post(cancel))
        .service(resource("/users/{id}/orders").get(list_for_user));
}

async fn place(
    request: HttpRequest,
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    json: ApiJson<PlaceOrderBody>,
) -> Result<HttpResponse, ApiError> {
    let checkout = OneTransaction {
        pool: pool.get_ref().clone(),
        faults: faults.0,
        deadline,
    };
    place_order::serve(&request, &pool, json, deadline, checkout).await
}

async fn cancel(
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let checkout = OneTransaction {
        pool: pool.get_ref().clone(),
        faults: faults.0,
        deadline,
    };
    orders::cancel(checkout, &id).await
}

async fn list_for_user(
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = UserId::parse_segment(&id)?;
    let orders = with_conn(&pool, move |conn| {
        drive(checkout::shop(conn, faults.0, deadline).user(user))?;
        store::list_for_user(conn, user)
    })
    .await?;
    Ok(HttpResponse::Ok().json(orders))
}
