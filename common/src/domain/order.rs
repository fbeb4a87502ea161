//! Orders (component: orders): which products, how many, at what price.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{bounded, ProductId};
use crate::ShopError;

/// Units of one product in an order: 1 ..= 1_000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(i64);

impl Quantity {
    pub const MAX: i64 = 1_000;

    pub fn parse(units: i64) -> Result<Self, ShopError> {
        bounded("quantity", units, 1..=Self::MAX).map(Self)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// One line of an order as the customer asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// The lines of an order: 1–50 of them, each product at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItems(Vec<OrderLine>);

impl OrderItems {
    pub const MAX_LINES: usize = 50;

    /// Parses `(product_id, quantity)` pairs in the order the customer gave them.
    pub fn parse(raw: &[(i64, i64)]) -> Result<Self, ShopError> {
        if raw.is_empty() || raw.len() > Self::MAX_LINES {
            return Err(ShopError::invalid(format!(
                "an order has 1 to {} items, got {}",
                Self::MAX_LINES,
                raw.len()
            )));
        }
        let mut seen = HashSet::with_capacity(raw.len());
        let mut lines = Vec::with_capacity(raw.len());
        for &(product_id, quantity) in raw {
            let product_id = ProductId::parse(product_id)?;
            if !seen.insert(product_id) {
                return Err(ShopError::invalid(format!(
                    "product {product_id} appears more than once in the order"
                )));
            }
            lines.push(OrderLine {
                product_id,
                quantity: Quantity::parse(quantity)?,
            });
        }
        Ok(Self(lines))
    }

    pub fn lines(&self) -> &[OrderLine] {
        &self.0
    }

    pub fn product_ids(&self) -> Vec<ProductId> {
        self.0.iter().map(|line| line.product_id).collect()
    }
}

/// A line with the unit price of the moment the order was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricedLine {
    pub product_id: i64,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

/// `pending` exists only while a microservices saga is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Completed,
    Failed,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Pending,
        OrderStatus::Completed,
        OrderStatus::Failed,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Completed => "completed",
            OrderStatus::Failed => "failed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// Reads a status column; an unknown word means the database is not ours.
    pub fn from_db(value: &str) -> Result<Self, ShopError> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| ShopError::internal("orders table", format!("unknown status {value:?}")))
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order as API.md shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    pub id: i64,
    pub user_id: i64,
    pub status: OrderStatus,
    pub total_cents: i64,
    pub items: Vec<PricedLine>,
    pub failure: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_has_one_to_fifty_distinct_lines() {
        assert!(OrderItems::parse(&[]).is_err());
        let fifty: Vec<_> = (1..=50).map(|id| (id, 1)).collect();
        assert!(OrderItems::parse(&fifty).is_ok());
        let fifty_one: Vec<_> = (1..=51).map(|id| (id, 1)).collect();
        assert!(OrderItems::parse(&fifty_one).is_err());
        assert!(OrderItems::parse(&[(1, 1), (1, 2)]).is_err());
    }

    #[test]
    fn quantities_and_product_ids_are_checked() {
        assert!(OrderItems::parse(&[(1, 0)]).is_err());
        assert!(OrderItems::parse(&[(1, 1001)]).is_err());
        assert!(OrderItems::parse(&[(0, 1)]).is_err());
        assert!(OrderItems::parse(&[(1, 1000)]).is_ok());
    }
}
