//! The products, reservations and reservation_lines tables.
//!
//! Stock is taken with one conditional `UPDATE ... WHERE stock >= quantity`
//! per line: the database decides, so two processes (or replicas) can never
//! both take the last unit. `reserve` and `release` must run inside a
//! [`write_transaction`](crate::db::write_transaction), which the caller
//! opens: the monolith's covers the whole order, a catalog service's covers
//! just this call.

use diesel::prelude::*;

use crate::db::schema::{products, reservation_lines, reservations};
use crate::db::DbConnection;
use crate::domain::{Entity, NewProduct, OrderLine, OrderRef, Page, Product, ProductId, StepKey};
use crate::ShopError;

const HELD: &str = "held";
const RELEASED: &str = "released";

#[derive(Queryable, Selectable)]
#[diesel(table_name = products)]
struct ProductRow {
    id: i64,
    name: String,
    price_cents: i64,
    stock: i64,
}

impl From<ProductRow> for Product {
    fn from(row: ProductRow) -> Self {
        Product {
            id: row.id,
            name: row.name,
            price_cents: row.price_cents,
            stock: row.stock,
        }
    }
}

pub fn create(conn: &mut DbConnection, product: &NewProduct) -> Result<Product, ShopError> {
    let row = (
        products::name.eq(product.name.as_str()),
        products::price_cents.eq(product.price.cents().get()),
        products::stock.eq(product.stock.get()),
    );
    let inserted: ProductRow = crate::on_backend!(conn, |inner| {
        diesel::insert_into(products::table)
            .values(row)
            .returning(ProductRow::as_returning())
            .get_result(inner)
    })?;
    Ok(inserted.into())
}

pub fn find(conn: &mut DbConnection, id: ProductId) -> Result<Product, ShopError> {
    products::table
        .find(id.get())
        .select(ProductRow::as_select())
        .first(conn)
        .optional()?
        .map(Product::from)
        .ok_or(ShopError::NotFound(Entity::Product(id)))
}

/// The products in the order of `ids`; `NotFound` names the first missing one.
pub fn find_all(conn: &mut DbConnection, ids: &[ProductId]) -> Result<Vec<Product>, ShopError> {
    // One id (a product read, a one-line order) is the common case: a lookup
    // by primary key is a statement diesel prepares once and caches, where
    // `IN (...)` is prepared anew each time (its length varies).
    if let [id] = ids {
        return Ok(vec![find(conn, *id)?]);
    }
    let found = find_existing(conn, ids)?;
    in_order_of(ids, found)
}

/// Those of `ids` that name a product, in no particular order.
pub fn find_existing(
    conn: &mut DbConnection,
    ids: &[ProductId],
) -> Result<Vec<Product>, ShopError> {
    let raw_ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    Ok(products::table
        .filter(products::id.eq_any(&raw_ids))
        .select(ProductRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Product::from)
        .collect())
}

/// Puts `found` in the order of `ids`; `NotFound` names the first id with no
/// product. Shared by the in-process and the HTTP catalog, so that both name
/// the same missing product.
pub fn in_order_of(ids: &[ProductId], found: Vec<Product>) -> Result<Vec<Product>, ShopError> {
    ids.iter()
        .map(|&id| {
            found
                .iter()
                .find(|product| product.id == id.get())
                .cloned()
                .ok_or(ShopError::NotFound(Entity::Product(id)))
        })
        .collect()
}

pub fn list(conn: &mut DbConnection, page: Page) -> Result<Vec<Product>, ShopError> {
    Ok(products::table
        .order(products::id.asc())
        .limit(page.limit())
        .offset(page.offset())
        .select(ProductRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Product::from)
        .collect())
}

/// Takes the stock of every line for `order`, or fails with
/// `InsufficientStock` naming the first line that could not be served (the
/// caller's transaction then rolls back the lines already taken).
///
/// The reservation row is written first: its primary key, the order's step
/// key, makes a second reserve for the same order (a retry, or a race) find
/// it instead of taking the stock again.
pub fn reserve(
    conn: &mut DbConnection,
    order: &OrderRef,
    lines: &[OrderLine],
) -> Result<(), ShopError> {
    if !mark_reservation(conn, order, HELD)? {
        return match reservation_status(conn, &order.key)?.as_deref() {
            Some(HELD) => Ok(()), // a retry: the stock is already taken
            _ => Err(ShopError::InvalidState(format!(
                "the reservation for {order} was already released"
            ))),
        };
    }
    // Rows are locked in product id order, whatever the order of the lines,
    // so that two orders for the same products cannot deadlock on PostgreSQL.
    let mut lines = lines.to_vec();
    lines.sort_by_key(|line| line.product_id);
    for line in lines {
        let quantity = line.quantity.get();
        let taken = diesel::update(
            products::table
                .filter(products::id.eq(line.product_id.get()))
                .filter(products::stock.ge(quantity)),
        )
        .set(products::stock.eq(products::stock - quantity))
        .execute(conn)?;
        if taken == 0 {
            // The product exists (the order checked), so the stock is short.
            return Err(ShopError::InsufficientStock(format!(
                "not enough stock for product {} ({quantity} asked)",
                line.product_id
            )));
        }
        diesel::insert_into(reservation_lines::table)
            .values((
                reservation_lines::step_key.eq(order.key.as_str()),
                reservation_lines::product_id.eq(line.product_id.get()),
                reservation_lines::quantity.eq(quantity),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Inserts `order`'s reservation row with `status`; false if it already had one.
fn mark_reservation(
    conn: &mut DbConnection,
    order: &OrderRef,
    status: &str,
) -> Result<bool, ShopError> {
    let row = (
        reservations::step_key.eq(order.key.as_str()),
        reservations::order_id.eq(order.id.get()),
        reservations::status.eq(status),
    );
    let inserted = crate::on_backend!(conn, |inner| {
        diesel::insert_into(reservations::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(inner)
    })?;
    Ok(inserted == 1)
}

/// `held`, `released`, or `None` if the order never reserved.
fn reservation_status(conn: &mut DbConnection, key: &StepKey) -> Result<Option<String>, ShopError> {
    Ok(reservations::table
        .find(key.as_str())
        .select(reservations::status)
        .first(conn)
        .optional()?)
}

/// Returns the stock `order` holds. Releasing twice, or two releases at once,
/// return it once: only the one that moves the row from `held` to `released`
/// puts the stock back. Releasing an order that reserved nothing leaves a
/// `released` row behind, so that a reserve arriving late (a retried or slow
/// request in the microservices) cannot take stock for an order that gave up.
pub fn release(conn: &mut DbConnection, order: &OrderRef) -> Result<(), ShopError> {
    loop {
        let moved = diesel::update(
            reservations::table
                .filter(reservations::step_key.eq(order.key.as_str()))
                .filter(reservations::status.eq(HELD)),
        )
        .set(reservations::status.eq(RELEASED))
        .execute(conn)?;
        if moved == 1 {
            let lines: Vec<(i64, i64)> = reservation_lines::table
                .filter(reservation_lines::step_key.eq(order.key.as_str()))
                .order(reservation_lines::product_id.asc()) // the lock order of `reserve`
                .select((reservation_lines::product_id, reservation_lines::quantity))
                .load(conn)?;
            for (product_id, quantity) in lines {
                diesel::update(products::table.find(product_id))
                    .set(products::stock.eq(products::stock + quantity))
                    .execute(conn)?;
            }
            return Ok(());
        }
        if mark_reservation(conn, order, RELEASED)? {
            return Ok(()); // nothing was reserved; now nothing can be
        }
        if reservation_status(conn, &order.key)?.as_deref() != Some(HELD) {
            return Ok(()); // already released
        }
        // A reserve committed between our update and our insert: release it.
    }
}

/// The units the order with `key` holds (reserved less released), for
/// `/audit/orders/{id}`.
pub fn held_units(conn: &mut DbConnection, key: &StepKey) -> Result<i64, ShopError> {
    if reservation_status(conn, key)?.as_deref() != Some(HELD) {
        return Ok(0);
    }
    Ok(reservation_lines::table
        .filter(reservation_lines::step_key.eq(key.as_str()))
        .select(crate::db::sum_as_bigint("quantity"))
        .first(conn)?)
}

/// `(products, stock_units)` for `/audit`.
pub fn audit(conn: &mut DbConnection) -> Result<(i64, i64), ShopError> {
    let count: i64 = products::table.count().get_result(conn)?;
    let units: i64 = products::table
        .select(crate::db::sum_as_bigint("stock"))
        .first(conn)?;
    Ok((count, units))
}
