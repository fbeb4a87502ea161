//! The orders and order_items tables.

use std::collections::BTreeMap;

use diesel::prelude::*;

use crate::db::schema::{order_items, orders};
use crate::db::DbConnection;
use crate::domain::{Entity, Order, OrderId, OrderRef, OrderStatus, PricedLine, StepKey, UserId};
use crate::orders::idempotency::{self, Held};
use crate::orders::pricing::Quote;
use crate::orders::saga::{Lease, Step, Token};
use crate::ShopError;

#[derive(Queryable, Selectable)]
#[diesel(table_name = orders)]
struct OrderRow {
    id: i64,
    user_id: i64,
    status: String,
    total_cents: i64,
    failure: Option<String>,
}

/// Records a new `pending` order with its lines and a fresh step key. Call
/// inside a write transaction, so that an order is never seen without its
/// lines. `idempotency_key`: the key the request holds, which from now on
/// names this order (so a request taking over the claim resumes it instead
/// of placing another); `ClaimLost` if the request no longer holds it, and
/// the transaction must roll back. `saga`: the saga that will run the
/// order, starting at its first step, held by its caller (with
/// [`Token::FIRST`]) until the lease runs out.
pub fn insert(
    conn: &mut DbConnection,
    quote: &Quote,
    idempotency_key: Option<&Held>,
    saga: Option<Lease>,
) -> Result<(Order, OrderRef), ShopError> {
    let key = StepKey::generate();
    let row = (
        orders::user_id.eq(quote.user.get()),
        orders::status.eq(OrderStatus::Pending.as_str()),
        orders::total_cents.eq(quote.total.get()),
        orders::step_key.eq(key.as_str()),
        orders::saga.eq(saga.map(|_| Step::Reserve.as_str())),
        orders::saga_lease_until.eq(saga.map_or(0, Lease::until_ms)),
        orders::saga_token.eq(saga.map_or(0, |_| Token::FIRST.get())),
    );
    let id: i64 = crate::on_backend!(conn, |inner| {
        diesel::insert_into(orders::table)
            .values(row)
            .returning(orders::id)
            .get_result(inner)
    })?;
    let items: Vec<_> = quote
        .lines
        .iter()
        .zip(0..)
        .map(|(line, line_no): (&PricedLine, i32)| {
            (
                order_items::order_id.eq(id),
                order_items::line_no.eq(line_no),
                order_items::product_id.eq(line.product_id),
                order_items::quantity.eq(line.quantity),
                order_items::unit_price_cents.eq(line.unit_price_cents),
            )
        })
        .collect();
    crate::on_backend!(conn, |inner| diesel::insert_into(order_items::table)
        .values(&items)
        .execute(inner))?;
    if let Some(held) = idempotency_key {
        idempotency::record_order(conn, held, id)?;
    }
    let order = Order {
        id,
        user_id: quote.user.get(),
        status: OrderStatus::Pending,
        total_cents: quote.total.get(),
        items: quote.lines.clone(),
        failure: None,
    };
    let reference = OrderRef {
        id: OrderId::from_db(id),
        key,
    };
    Ok((order, reference))
}

/// The order as its steps name it: its id and step key.
pub fn find_ref(conn: &mut DbConnection, id: OrderId) -> Result<OrderRef, ShopError> {
    let key: String = orders::table
        .find(id.get())
        .select(orders::step_key)
        .first(conn)
        .optional()?
        .ok_or(ShopError::NotFound(Entity::Order(id)))?;
    Ok(OrderRef {
        id,
        key: StepKey::from_db(key),
    })
}

/// Moves an order from `from` to `to` if it is still in `from`; returns
/// whether it moved. The `WHERE status = from` makes two racing transitions
/// (two cancels, say) safe: exactly one wins.
pub fn transition(
    conn: &mut DbConnection,
    id: OrderId,
    from: OrderStatus,
    to: OrderStatus,
    failure: Option<&str>,
) -> Result<bool, ShopError> {
    let moved = diesel::update(
        orders::table
            .filter(orders::id.eq(id.get()))
            .filter(orders::status.eq(from.as_str())),
    )
    .set((orders::status.eq(to.as_str()), orders::failure.eq(failure)))
    .execute(conn)?;
    Ok(moved == 1)
}

pub fn find(conn: &mut DbConnection, id: OrderId) -> Result<Order, ShopError> {
    let row: OrderRow = orders::table
        .find(id.get())
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ShopError::NotFound(Entity::Order(id)))?;
    with_items(conn, vec![row])?
        .pop()
        .ok_or_else(|| ShopError::internal("orders", "an order vanished while read"))
}

/// All of a user's orders, any status, in ascending id order.
pub fn list_for_user(conn: &mut DbConnection, user: UserId) -> Result<Vec<Order>, ShopError> {
    let rows: Vec<OrderRow> = orders::table
        .filter(orders::user_id.eq(user.get()))
        .order(orders::id.asc())
        .select(OrderRow::as_select())
        .load(conn)?;
    with_items(conn, rows)
}

fn with_items(conn: &mut DbConnection, rows: Vec<OrderRow>) -> Result<Vec<Order>, ShopError> {
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let items: Vec<(i64, i64, i64, i64)> = order_items::table
        .filter(order_items::order_id.eq_any(&ids))
        .order((order_items::order_id.asc(), order_items::line_no.asc()))
        .select((
            order_items::order_id,
            order_items::product_id,
            order_items::quantity,
            order_items::unit_price_cents,
        ))
        .load(conn)?;
    let mut by_order: BTreeMap<i64, Vec<PricedLine>> = BTreeMap::new();
    for (order_id, product_id, quantity, unit_price_cents) in items {
        by_order.entry(order_id).or_default().push(PricedLine {
            product_id,
            quantity,
            unit_price_cents,
        });
    }
    rows.into_iter()
        .map(|row| {
            Ok(Order {
                id: row.id,
                user_id: row.user_id,
                status: OrderStatus::from_db(&row.status)?,
                total_cents: row.total_cents,
                items: by_order.remove(&row.id).unwrap_or_default(),
                failure: row.failure,
            })
        })
        .collect()
}

/// How many orders are in each status, for `/audit`.
pub fn count_by_status(conn: &mut DbConnection) -> Result<BTreeMap<OrderStatus, i64>, ShopError> {
    let counts: Vec<(String, i64)> = orders::table
        .group_by(orders::status)
        .select((orders::status, diesel::dsl::count_star()))
        .load(conn)?;
    let mut by_status: BTreeMap<OrderStatus, i64> = OrderStatus::ALL
        .into_iter()
        .map(|status| (status, 0))
        .collect();
    for (status, count) in counts {
        by_status.insert(OrderStatus::from_db(&status)?, count);
    }
    Ok(by_status)
}
