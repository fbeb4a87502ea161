//! `GET /audit` and `GET /audit/orders/{id}` of the gateway: each figure from
//! the service that owns it. The monolith reads them all from one database
//! in one go (`monolith/src/audit.rs`); here the answers are separate
//! moments, so the invariants of API.md hold only when no order is in
//! flight, as API.md says.

use actix_web::{web, HttpResponse};
use serde::de::DeserializeOwned;
use shoplab_common::components::Component;
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::{Entity, OrderId};
use shoplab_common::ShopError;
use shoplab_http::error::{shop_error_from_body, ErrorBody};
use shoplab_http::wire::{Audit, OrderAudit};
use shoplab_http::RequestDeadline;
use shoplab_http::{resource, ApiError, RequestId, REQUEST_ID_HEADER};
use shoplab_service::internal::{
    audit_path, CatalogAudit, ChargedCents, HeldUnits, OrderSteps, OrdersAudit, PaymentsAudit,
    UsersAudit,
};

use crate::{Retry, Upstreams};

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/audit").get(audit))
        .service(resource("/audit/orders/{id}").get(order_audit));
}

async fn audit(
    upstreams: web::Data<Upstreams>,
    request_id: RequestId,
    RequestDeadline(deadline): RequestDeadline,
) -> Result<HttpResponse, ApiError> {
    let ask = |upstream| Ask {
        upstreams: &upstreams,
        upstream,
        request_id: &request_id,
        deadline,
    };
    let (users, catalog, payments, orders) = tokio::try_join!(
        ask(Component::Users).get::<UsersAudit>(audit_path(Component::Users)),
        ask(Component::Catalog).get::<CatalogAudit>(audit_path(Component::Catalog)),
        ask(Component::Payments).get::<PaymentsAudit>(audit_path(Component::Payments)),
        ask(Component::Orders).get::<OrdersAudit>(audit_path(Component::Orders)),
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

/// The order from the orders service (its status, total and step key), then
/// what the catalog and payments services hold under its step key.
async fn order_audit(
    upstreams: web::Data<Upstreams>,
    request_id: RequestId,
    RequestDeadline(deadline): RequestDeadline,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = OrderId::parse_segment(&id)?;
    let ask = |upstream| Ask {
        upstreams: &upstreams,
        upstream,
        request_id: &request_id,
        deadline,
    };
    let order: OrderSteps = ask(Component::Orders)
        .get_found(&format!("/internal/orders/{id}"))
        .await?
        .ok_or(ShopError::NotFound(Entity::Order(id)))?;
    let key = &order.step_key;
    let (reservation, charge) = (
        format!("/internal/reservations/{key}"),
        format!("/internal/charges/{key}"),
    );
    let (held, charged) = tokio::try_join!(
        ask(Component::Catalog).get::<HeldUnits>(&reservation),
        ask(Component::Payments).get::<ChargedCents>(&charge),
    )?;
    Ok(HttpResponse::Ok().json(OrderAudit {
        order_id: order.order_id,
        status: order.status,
        total_cents: order.total_cents,
        charged_cents: charged.charged_cents,
        reserved_units: held.reserved_units,
    }))
}

/// One question to one service, on behalf of one request.
struct Ask<'a> {
    upstreams: &'a Upstreams,
    upstream: Component,
    request_id: &'a RequestId,
    deadline: Deadline,
}

impl Ask<'_> {
    async fn get<T: DeserializeOwned>(self, path: &str) -> Result<T, ShopError> {
        let upstream = self.upstream;
        self.get_found(path).await?.ok_or_else(|| {
            ShopError::ServiceUnavailable(format!("the {upstream} service does not serve {path}"))
        })
    }

    /// `None` for a 404.
    async fn get_found<T: DeserializeOwned>(self, path: &str) -> Result<Option<T>, ShopError> {
        let (upstreams, upstream) = (self.upstreams, self.upstream);
        let request = |base: &str| {
            upstreams
                .http
                .get(format!("{base}{path}"))
                .header(REQUEST_ID_HEADER, self.request_id.as_str())
        };
        let response = upstreams
            .send(upstream, self.deadline, Retry::Safe, request)
            .await?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = upstreams
            .answer_body(upstream, self.deadline, response)
            .await
            .map_err(|error| ShopError::ServiceUnavailable(error.to_string()))?;
        let unreadable = |error: serde_json::Error| {
            ShopError::Unconfirmed(format!(
                "the {upstream} service sent an unreadable answer: {error}"
            ))
        };
        if !status.is_success() {
            let body: ErrorBody = serde_json::from_slice(&body).map_err(unreadable)?;
            return Err(shop_error_from_body(status.as_u16(), &body));
        }
        serde_json::from_slice(&body).map(Some).map_err(unreadable)
    }
}
