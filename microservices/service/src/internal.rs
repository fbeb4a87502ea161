//! The services' internal endpoints and their bodies. These are how the
//! orders service reserves stock and takes payment; the gateway does not
//! expose them (API.md is the public contract; these are not in it).

use serde::{Deserialize, Serialize};
use shoplab_common::components::Component;
use shoplab_http::wire::{OrderCounts, OrderItemBody};

/// `POST /internal/products/lookup` (catalog)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductIds {
    pub ids: Vec<i64>,
}

/// `POST /internal/reservations` (catalog): take the stock for the order
/// whose steps are named `step_key`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reserve {
    pub order_id: i64,
    pub step_key: String,
    pub items: Vec<OrderItemBody>,
}

/// `POST /internal/charges` (payments)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Charge {
    pub order_id: i64,
    pub step_key: String,
    pub user_id: i64,
    pub amount_cents: i64,
}

/// The body of `POST /internal/reservations/{step_key}/release` (catalog)
/// and `POST /internal/charges/{step_key}/refund` (payments): the order's
/// id, recorded beside a compensation that finds nothing to undo.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderIdBody {
    pub order_id: i64,
}

/// `GET /internal/reservations/{step_key}` (catalog), for
/// `/audit/orders/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldUnits {
    pub reserved_units: i64,
}

/// `GET /internal/charges/{step_key}` (payments), for `/audit/orders/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChargedCents {
    pub charged_cents: i64,
}

/// `GET /internal/orders/{id}` (orders): the order as the audit needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderSteps {
    pub order_id: i64,
    pub status: shoplab_common::domain::OrderStatus,
    pub total_cents: i64,
    pub step_key: String,
}

/// `GET /internal/audit/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsersAudit {
    pub users: i64,
}

/// `GET /internal/audit/catalog`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogAudit {
    pub products: i64,
    pub stock_units: i64,
}

/// `GET /internal/audit/payments`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentsAudit {
    pub wallet_cents: i64,
    pub paid_cents: i64,
}

/// `GET /internal/audit/orders`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrdersAudit {
    pub orders: OrderCounts,
    /// Orders with a saga in flight, cancels included (cancelling orders
    /// still show `completed`).
    #[serde(default)]
    pub sagas_in_flight: i64,
}

/// `GET /internal/audit/{component}`: a component's share of API.md's
/// `/audit`, each at a path of its own, so a process that hosts several
/// components (`microservices/group`) serves each one's.
pub fn audit_path(component: Component) -> &'static str {
    match component {
        Component::Users => "/internal/audit/users",
        Component::Catalog => "/internal/audit/catalog",
        Component::Payments => "/internal/audit/payments",
        Component::Orders => "/internal/audit/orders",
    }
}
