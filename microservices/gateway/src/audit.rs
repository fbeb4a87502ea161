//! `GET /audit` of the gateway: each figure from the service that owns it,
//! asked at once. The monolith reads them all from one database in one go
//! (`monolith/src/audit.rs`); here the four answers are four moments, so the
//! invariants of API.md hold only when no order is in flight, as API.md says.

use actix_web::{web, HttpResponse};
use serde::de::DeserializeOwned;
use shoplab_common::components::Component;
use shoplab_common::http::error::{shop_error_from_body, ErrorBody};
use shoplab_common::http::wire::Audit;
use shoplab_common::http::{resource, ApiError, RequestId, REQUEST_ID_HEADER};
use shoplab_common::ShopError;
use shoplab_service::internal::{CatalogAudit, OrdersAudit, PaymentsAudit, UsersAudit, AUDIT_PATH};
use shoplab_service::remote::transport_error;

use crate::Upstreams;

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(resource("/audit").route(web::get().to(audit)));
}

async fn audit(
    upstreams: web::Data<Upstreams>,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    let (users, catalog, payments, orders) = tokio::try_join!(
        ask::<UsersAudit>(&upstreams, Component::Users, &request_id),
        ask::<CatalogAudit>(&upstreams, Component::Catalog, &request_id),
        ask::<PaymentsAudit>(&upstreams, Component::Payments, &request_id),
        ask::<OrdersAudit>(&upstreams, Component::Orders, &request_id),
    )?;
    Ok(HttpResponse::Ok().json(Audit {
        users: users.users,
        products: catalog.products,
        stock_units: catalog.stock_units,
        wallet_cents: payments.wallet_cents,
        paid_cents: payments.paid_cents,
        orders: orders.orders,
    }))
}

async fn ask<T: DeserializeOwned>(
    upstreams: &Upstreams,
    upstream: Component,
    request_id: &RequestId,
) -> Result<T, ShopError> {
    let name = upstream;
    let failed = |error: reqwest::Error| transport_error(name, upstreams.timeout, &error);
    let request = upstreams
        .http
        .get(format!("{}{AUDIT_PATH}", upstreams.url(upstream)))
        .header(REQUEST_ID_HEADER, request_id.as_str());
    let response = upstreams.send(request).await.map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        let body: ErrorBody = response.json().await.map_err(failed)?;
        return Err(shop_error_from_body(status.as_u16(), &body));
    }
    response.json().await.map_err(failed)
}
