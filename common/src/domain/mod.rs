//! Domain types that can only be constructed valid ("parse, don't validate").
//!
//! API.md's limits live here, once: a handler parses raw input into these
//! types at the edge, and everything further in can rely on them.

mod ids;
mod money;
mod order;
mod page;
mod product;
mod text;
mod user;

pub use ids::{Entity, OrderId, ProductId, UserId};
pub use money::{Cents, DepositAmount};
pub use order::{Order, OrderItems, OrderLine, OrderStatus, PricedLine, Quantity};
pub use page::Page;
pub use product::{NewProduct, Price, Product, ProductName, Stock};
pub use text::VisibleAscii;
pub use user::{Email, NewUser, User, UserName};
