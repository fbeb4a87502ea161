//! The orders routes whose handling is the same in every deployment: reading
//! an order, and the frame of a cancel around a deployment's own
//! [`Checkout`] (one transaction, a saga, or no coordination). Placing an
//! order has a module of its own (`place_order.rs`); a user's orders differ
//! in how the user is checked, so each deployment writes that handler.

use actix_web::{web, HttpResponse};

use crate::{with_conn, ApiError};
use shoplab_common::db::Pool;
use shoplab_common::domain::OrderId;
use shoplab_common::orders::checkout::Checkout;
use shoplab_common::orders::store;

/// `GET /orders/{id}`, on the orders component's database.
pub async fn get(pool: web::Data<Pool>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = OrderId::parse_segment(&id)?;
    let order = with_conn(&pool, move |conn| store::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(order))
}

/// `POST /orders/{id}/cancel`, once the deployment has made its
/// `checkout`: the id is read, the order cancelled the deployment's way,
/// and answered as API.md says (200 and the order).
pub async fn cancel(mut checkout: impl Checkout, id: &str) -> Result<HttpResponse, ApiError> {
    let id = OrderId::parse_segment(id)?;
    let order = checkout.cancel(id).await?;
    Ok(HttpResponse::Ok().json(order))
}
