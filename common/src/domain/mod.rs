//! Domain types that can only be constructed valid ("parse, don't validate").
//!
//! API.md's limits live here, once: a handler parses raw input into these
//! types at the edge, and everything further in can rely on them.

mod ids;
mod money;
mod order;
mod page;
mod product;
mod step;
mod text;
mod user;

pub use ids::{Entity, OrderId, ProductId, UserId};
pub use money::{Cents, DepositAmount};
pub use order::{Order, OrderItems, OrderLine, OrderStatus, PricedLine, Quantity};
pub use page::Page;
pub use product::{NewProduct, Price, Product, ProductName, Stock};
pub use step::{OrderRef, StepKey};
pub use text::VisibleAscii;
pub use user::{Email, NewUser, User, UserName};

/// `value` if it lies in `range`, else `invalid_request` naming `field` and
/// the limits: the one check behind every numeric limit of API.md.
fn bounded(
    field: &str,
    value: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, crate::ShopError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(crate::ShopError::invalid(format!(
            "{field} must be between {} and {}, got {value}",
            range.start(),
            range.end()
        )))
    }
}
