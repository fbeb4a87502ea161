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
use crate::domain::{Cents, DepositAmount, OrderId, UserId};
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
/// `InsufficientFunds` having taken nothing. A second charge for the same
/// order does nothing; a charge for an order already refunded is refused.
pub fn charge(
    conn: &mut DbConnection,
    order: OrderId,
    user: UserId,
    amount: Cents,
) -> Result<(), ShopError> {
    let existing: Option<String> = payments::table
        .find(order.get())
        .select(payments::status)
        .first(conn)
        .optional()?;
    match existing.as_deref() {
        Some(CAPTURED) => return Ok(()), // a retry: already paid
        Some(_) => {
            return Err(ShopError::InvalidState(format!(
                "the payment for order {order} was already refunded"
            )))
        }
        None => {}
    }
    let taken = diesel::update(
        wallets::table
            .filter(wallets::user_id.eq(user.get()))
            .filter(wallets::balance_cents.ge(amount.get())),
    )
    .set(wallets::balance_cents.eq(wallets::balance_cents - amount.get()))
    .execute(conn)?;
    if taken == 0 {
        return Err(ShopError::InsufficientFunds(format!(
            "the wallet of user {user} cannot pay {} cents",
            amount.get()
        )));
    }
    diesel::insert_into(payments::table)
        .values((
            payments::order_id.eq(order.get()),
            payments::user_id.eq(user.get()),
            payments::amount_cents.eq(amount.get()),
            payments::status.eq(CAPTURED),
        ))
        .execute(conn)?;
    Ok(())
}

/// Gives back what `order` paid. Refunding twice, or refunding an order never
/// charged, moves no money; the latter leaves a `refunded` row with amount 0
/// behind, so a charge arriving late cannot take money for an order that
/// already gave up.
pub fn refund(conn: &mut DbConnection, order: OrderId) -> Result<(), ShopError> {
    let existing: Option<(i64, i64, String)> = payments::table
        .find(order.get())
        .select((payments::user_id, payments::amount_cents, payments::status))
        .first(conn)
        .optional()?;
    match existing {
        Some((user, amount, status)) if status == CAPTURED => {
            diesel::update(wallets::table.find(user))
                .set(wallets::balance_cents.eq(wallets::balance_cents + amount))
                .execute(conn)?;
            diesel::update(payments::table.find(order.get()))
                .set(payments::status.eq(REFUNDED))
                .execute(conn)?;
        }
        Some(_) => {} // already refunded
        None => {
            diesel::insert_into(payments::table)
                .values((
                    payments::order_id.eq(order.get()),
                    payments::user_id.eq(0_i64),
                    payments::amount_cents.eq(0_i64),
                    payments::status.eq(REFUNDED),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
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
