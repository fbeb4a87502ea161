//! The services' internal endpoints and their bodies. These are how the
//! orders service reserves stock and takes payment; the gateway does not
//! expose them (API.md is the public contract; these are not in it).

use serde::{Deserialize, Serialize};
use shoplab_common::http::wire::{OrderCounts, OrderItemBody};

/// `POST /internal/products/lookup` (catalog)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductIds {
    pub ids: Vec<i64>,
}

/// `POST /internal/reservations` (catalog)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reserve {
    pub order_id: i64,
    pub items: Vec<OrderItemBody>,
}

/// `POST /internal/charges` (payments)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Charge {
    pub order_id: i64,
    pub user_id: i64,
    pub amount_cents: i64,
}

/// `GET /internal/audit` of the users service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsersAudit {
    pub users: i64,
}

/// `GET /internal/audit` of the catalog service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogAudit {
    pub products: i64,
    pub stock_units: i64,
}

/// `GET /internal/audit` of the payments service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentsAudit {
    pub wallet_cents: i64,
    pub paid_cents: i64,
}

/// `GET /internal/audit` of the orders service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrdersAudit {
    pub orders: OrderCounts,
}

pub const AUDIT_PATH: &str = "/internal/audit";
