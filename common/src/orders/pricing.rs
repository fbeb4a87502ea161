//! The pricing rule: an order is charged the sum of quantity × current unit
//! price, and keeps the prices of the moment it was placed.

use crate::domain::{Cents, OrderItems, PricedLine, Product, UserId};
use crate::ShopError;

/// An order priced and ready to place: who pays, what, and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub user: UserId,
    pub lines: Vec<PricedLine>,
    pub total: Cents,
}

/// Prices `items` with `products`, which must be the items' products in the
/// same order (as [`crate::components::Catalog::products`] returns them).
pub fn price(user: UserId, items: &OrderItems, products: &[Product]) -> Result<Quote, ShopError> {
    let mut total = Cents::ZERO;
    let mut lines = Vec::with_capacity(products.len());
    for (line, product) in items.lines().iter().zip(products) {
        if product.id != line.product_id.get() {
            return Err(ShopError::internal(
                "pricing",
                format!("expected product {}, got {}", line.product_id, product.id),
            ));
        }
        let cost = product.price().checked_mul(line.quantity.get());
        total = cost
            .and_then(|cost| total.checked_add(cost))
            .ok_or_else(|| ShopError::invalid("the order's total is too large"))?;
        lines.push(PricedLine {
            product_id: product.id,
            quantity: line.quantity.get(),
            unit_price_cents: product.price_cents,
        });
    }
    if lines.len() != items.lines().len() {
        return Err(ShopError::internal("pricing", "a product is missing"));
    }
    Ok(Quote { user, lines, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: i64, price_cents: i64) -> Product {
        Product {
            id,
            name: format!("product {id}"),
            price_cents,
            stock: 0,
        }
    }

    #[test]
    fn the_total_is_quantity_times_unit_price_summed() {
        let items = OrderItems::parse(&[(1, 2), (2, 3)]).expect("valid items");
        let user = UserId::parse(7).expect("positive");
        let quote = price(user, &items, &[product(1, 1250), product(2, 100)]).expect("priced");
        assert_eq!(quote.total, Cents::from_db(2 * 1250 + 3 * 100));
        assert_eq!(quote.lines[0].unit_price_cents, 1250);
        assert_eq!(quote.lines[1].quantity, 3);
    }
}
