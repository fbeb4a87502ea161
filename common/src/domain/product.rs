//! Products (component: catalog): a name, a price and the units in stock.

use serde::{Deserialize, Serialize};

use super::{bounded, user::trimmed_name, Cents};
use crate::ShopError;

/// 1–200 characters after trimming, stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName(String);

impl ProductName {
    pub fn parse(raw: &str) -> Result<Self, ShopError> {
        trimmed_name(raw, "name").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A product's price: 1 ..= 100_000_000 cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price(Cents);

impl Price {
    pub const MAX: i64 = 100_000_000;

    pub fn parse(cents: i64) -> Result<Self, ShopError> {
        bounded("price_cents", cents, 1..=Self::MAX).map(|cents| Self(Cents::from_db(cents)))
    }

    pub fn cents(self) -> Cents {
        self.0
    }
}

/// Units in stock when a product is created: 0 ..= 1_000_000_000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock(i64);

impl Stock {
    pub const MAX: i64 = 1_000_000_000;

    pub fn parse(units: i64) -> Result<Self, ShopError> {
        bounded("stock", units, 0..=Self::MAX).map(Self)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A product to create, valid by construction.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub name: ProductName,
    pub price: Price,
    pub stock: Stock,
}

/// A product as API.md shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub price_cents: i64,
    pub stock: i64,
}

impl Product {
    pub fn price(&self) -> Cents {
        Cents::from_db(self.price_cents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_and_stock_have_the_documented_bounds() {
        assert!(Price::parse(1).is_ok() && Price::parse(100_000_000).is_ok());
        assert!(Price::parse(0).is_err() && Price::parse(100_000_001).is_err());
        assert!(Stock::parse(0).is_ok() && Stock::parse(1_000_000_000).is_ok());
        assert!(Stock::parse(-1).is_err() && Stock::parse(1_000_000_001).is_err());
    }
}
