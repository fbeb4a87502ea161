//! The wallets and payments tables.
//!
//! A charge is one conditional `UPDATE ... WHERE balance_cents >= amount`, so
//! the database, not the process, decides whether the money is there.
//! `charge` and `refund` must run inside a
//! [`write_transaction`](crate::db::write_transaction) the caller opens.

use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::{payments, wallets};
use crate::db::{sum_as_bigint, DbConnection};
use crate::domain::{Cents, DepositAmount, OrderRef, StepKey, UserId};
use crate::ShopError;

const CAPTURED: &str = "captured";
const REFUNDED: &str = "refunded";

/// The balance of a user's wallet; 0 for a wallet never used. (Whether the
/// user exists is the users component's to say: see the wallet routes.)
pub fn balance(conn: &mut DbConnection, user: UserId) -> Result<Cents, ShopError> {
    let balance: Option<i64> = wallets::table
        .find(user.get())
        .select(wallets::balance_cents)
        .first(conn)
        .optional()?;
    Ok(Cents::from_db(balance.unwrap_or(0)))
}

/// Adds to a wallet in one statement (an upsert), returning the new balance.
pub fn deposit(
    conn: &mut DbConnection,
    user: UserId,
    amount: DepositAmount,
) -> Result<Cents, ShopError> {
    let cents = amount.cents().get();
    let balance: i64 = crate::on_backend!(conn, |inner| {
        diesel::insert_into(wallets::table)
            .values((
                wallets::user_id.eq(user.get()),
                wallets::balance_cents.eq(cents),
            ))
            .on_conflict(wallets::user_id)
            .do_update()
            .set(
                wallets::balance_cents
                    .eq(wallets::balance_cents + excluded(wallets::balance_cents)),
            )
            .returning(wallets::balance_cents)
            .get_result(inner)
    })?;
    Ok(Cents::from_db(balance))
}

/// Takes `amount` from the wallet for `order`, or fails with
/// `InsufficientFunds` having taken nothing. The payment row is written
/// first: its primary key, the order's step key, makes a second charge for
/// the same order (a retry, or a race) find it instead of taking the money
/// again. A charge for an order already refunded is refused.
pub fn charge(
    conn: &mut DbConnection,
    order: &OrderRef,
    user: UserId,
    amount: Cents,
) -> Result<(), ShopError> {
    if !record_payment(conn, order, Some(user), amount, CAPTURED)? {
        return match payment_status(conn, &order.key)?.as_deref() {
            Some(CAPTURED) => Ok(()), // a retry: already paid
            _ => Err(ShopError::InvalidState(format!(
                "the payment for {order} was already refunded"
            ))),
        };
    }
    let taken = diesel::update(
        wallets::table
            .filter(wallets::user_id.eq(user.get()))
            .filter(wallets::balance_cents.ge(amount.get())),
    )
    .set(wallets::balance_cents.eq(wallets::balance_cents - amount.get()))
    .execute(conn)?;
    if taken == 0 {
        // The caller's transaction rolls back the payment row with this.
        return Err(ShopError::InsufficientFunds(format!(
            "the wallet of user {user} cannot pay {} cents",
            amount.get()
        )));
    }
    Ok(())
}

/// Inserts `order`'s payment row; false if it already had one.
fn record_payment(
    conn: &mut DbConnection,
    order: &OrderRef,
    user: Option<UserId>,
    amount: Cents,
    status: &str,
) -> Result<bool, ShopError> {
    let row = (
        payments::step_key.eq(order.key.as_str()),
        payments::order_id.eq(order.id.get()),
        payments::user_id.eq(user.map(UserId::get)),
        payments::amount_cents.eq(amount.get()),
        payments::status.eq(status),
    );
    let inserted = crate::on_backend!(conn, |inner| {
        diesel::insert_into(payments::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(inner)
    })?;
    Ok(inserted == 1)
}

fn payment_status(conn: &mut DbConnection, key: &StepKey) -> Result<Option<String>, ShopError> {
    Ok(payments::table
        .find(key.as_str())
        .select(payments::status)
        .first(conn)
        .optional()?)
}

/// Gives back what `order` paid. Refunding twice, or two refunds at once,
/// pay back once: only the one that moves the payment from `captured` to
/// `refunded` credits the wallet. Refunding an order never charged leaves a
/// `refunded` row of 0 behind, so that a charge arriving late cannot take
/// money for an order that already gave up.
pub fn refund(conn: &mut DbConnection, order: &OrderRef) -> Result<(), ShopError> {
    loop {
        let target = payments::table
            .filter(payments::step_key.eq(order.key.as_str()))
            .filter(payments::status.eq(CAPTURED));
        let moved: Option<(Option<i64>, i64)> = crate::on_backend!(conn, |inner| {
            diesel::update(target)
                .set(payments::status.eq(REFUNDED))
                .returning((payments::user_id, payments::amount_cents))
                .get_result(inner)
                .optional()
        })?;
        if let Some((user, amount)) = moved {
            // A captured payment always names its payer.
            let user =
                user.ok_or_else(|| ShopError::internal("payments", "a charge without a user"))?;
            diesel::update(wallets::table.find(user))
                .set(wallets::balance_cents.eq(wallets::balance_cents + amount))
                .execute(conn)?;
            return Ok(());
        }
        if record_payment(conn, order, None, Cents::ZERO, REFUNDED)? {
            return Ok(()); // nothing was charged; now nothing can be
        }
        if payment_status(conn, &order.key)?.as_deref() != Some(CAPTURED) {
            return Ok(()); // already refunded
        }
        // A charge committed between our update and our insert: refund it.
    }
}

/// What the order with `key` has paid and not been refunded, for
/// `/audit/orders/{id}`.
pub fn charged_cents(conn: &mut DbConnection, key: &StepKey) -> Result<i64, ShopError> {
    let captured: Option<i64> = payments::table
        .find(key.as_str())
        .filter(payments::status.eq(CAPTURED))
        .select(payments::amount_cents)
        .first(conn)
        .optional()?;
    Ok(captured.unwrap_or(0))
}

/// `(wallet_cents, paid_cents)` for `/audit`: every balance, and every payment
/// still captured.
pub fn audit(conn: &mut DbConnection) -> Result<(i64, i64), ShopError> {
    let wallet_cents: i64 = wallets::table
        .select(sum_as_bigint("balance_cents"))
        .first(conn)?;
    let paid_cents: i64 = payments::table
        .filter(payments::status.eq(CAPTURED))
        .select(sum_as_bigint("amount_cents"))
        .first(conn)?;
    Ok((wallet_cents, paid_cents))
}
