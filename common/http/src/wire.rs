//! The API's request and response bodies (API.md), and how each request body
//! parses into domain types. `deny_unknown_fields` everywhere: a body has
//! exactly the documented fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use shoplab_common::domain::{
    Cents, DepositAmount, Email, NewProduct, NewUser, OrderItems, OrderStatus, Page, Price,
    ProductName, Stock, UserId, UserName,
};
use shoplab_common::orders::checkout::PlaceOrder;
use shoplab_common::ShopError;

/// `POST /users`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub name: String,
    pub email: String,
}

impl CreateUser {
    pub fn parse(&self) -> Result<NewUser, ShopError> {
        Ok(NewUser {
            name: UserName::parse(&self.name)?,
            email: Email::parse(&self.email)?,
        })
    }
}

/// `POST /products`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    pub name: String,
    pub price_cents: i64,
    pub stock: i64,
}

impl CreateProduct {
    pub fn parse(&self) -> Result<NewProduct, ShopError> {
        Ok(NewProduct {
            name: ProductName::parse(&self.name)?,
            price: Price::parse(self.price_cents)?,
            stock: Stock::parse(self.stock)?,
        })
    }
}

/// `GET /products?limit=&offset=`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl PageQuery {
    pub fn parse(&self) -> Result<Page, ShopError> {
        Page::parse(self.limit, self.offset)
    }
}

/// `POST /users/{id}/wallet/deposit`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deposit {
    pub amount_cents: i64,
}

impl Deposit {
    pub fn parse(&self) -> Result<DepositAmount, ShopError> {
        DepositAmount::parse(self.amount_cents)
    }
}

/// A wallet: `GET /users/{id}/wallet` and the deposit's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wallet {
    pub user_id: i64,
    pub balance_cents: i64,
}

impl Wallet {
    pub fn new(user: UserId, balance: Cents) -> Self {
        Wallet {
            user_id: user.get(),
            balance_cents: balance.get(),
        }
    }
}

/// `POST /orders`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderBody {
    pub user_id: i64,
    pub items: Vec<OrderItemBody>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderItemBody {
    pub product_id: i64,
    pub quantity: i64,
}

impl PlaceOrderBody {
    pub fn parse(&self) -> Result<PlaceOrder, ShopError> {
        let user = UserId::parse(self.user_id)?;
        let pairs: Vec<(i64, i64)> = self
            .items
            .iter()
            .map(|item| (item.product_id, item.quantity))
            .collect();
        Ok(PlaceOrder {
            user,
            items: OrderItems::parse(&pairs)?,
            idempotency_key: None,
        })
    }
}

/// `GET /health`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
}

impl Health {
    pub fn ok() -> Self {
        Health {
            status: "ok".to_owned(),
        }
    }
}

/// `GET /audit/orders/{id}`: what each component holds for one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAudit {
    pub order_id: i64,
    pub status: OrderStatus,
    pub total_cents: i64,
    /// Charges less refunds, as the payments component records them.
    pub charged_cents: i64,
    /// Units reserved less released, as the catalog component records them.
    pub reserved_units: i64,
}

/// `GET /audit`: the ground truth of the consistency experiments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    pub users: i64,
    pub products: i64,
    pub stock_units: i64,
    pub wallet_cents: i64,
    pub paid_cents: i64,
    pub orders: OrderCounts,
}

/// Orders by status, every status present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderCounts {
    pub pending: i64,
    pub completed: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl OrderCounts {
    pub fn from_map(counts: &BTreeMap<OrderStatus, i64>) -> Self {
        let get = |status| counts.get(&status).copied().unwrap_or(0);
        OrderCounts {
            pending: get(OrderStatus::Pending),
            completed: get(OrderStatus::Completed),
            failed: get(OrderStatus::Failed),
            cancelled: get(OrderStatus::Cancelled),
        }
    }
}
