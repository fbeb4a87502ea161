//! A saga's record, kept on its order's row in the orders database: which
//! step is next, why it is being undone, and who runs it until when.
//!
//! The microservices' orders service writes it before each step
//! (`microservices/orders/src/checkout.rs` runs the steps), so that whoever
//! finds an unfinished saga — the request that started it, a retry of its
//! Idempotency-Key, or the recovery loop after a crash — knows where it
//! stands. Every move is a compare-and-set on the step (and, for a take-over,
//! on the lease), so of two runners that race, exactly one moves it on. The
//! monolith never writes it: its order is one transaction.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::dsl;
use diesel::prelude::*;

use crate::db::schema::orders;
use crate::db::DbConnection;
use crate::domain::{Cents, Entity, OrderId, OrderRef, OrderStatus, StepKey, UserId};
use crate::ShopError;

/// The step a saga takes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Placing: take the stock (catalog).
    Reserve,
    /// Placing: take the money (payments).
    Charge,
    /// Placing failed: give back the stock, then the money, then mark the
    /// order `failed`.
    Compensate,
    /// Cancelling a `completed` order: give back the stock, then the money,
    /// then mark it `cancelled`.
    Cancel,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Reserve => "reserve",
            Step::Charge => "charge",
            Step::Compensate => "compensate",
            Step::Cancel => "cancel",
        }
    }

    fn from_db(value: &str) -> Result<Self, ShopError> {
        match value {
            "reserve" => Ok(Step::Reserve),
            "charge" => Ok(Step::Charge),
            "compensate" => Ok(Step::Compensate),
            "cancel" => Ok(Step::Cancel),
            other => Err(ShopError::internal(
                "saga",
                format!("unknown step {other:?}"),
            )),
        }
    }
}

/// Until when a saga (or an Idempotency-Key's claim) belongs to whoever
/// runs it, in wall-clock milliseconds, so that every process and replica
/// sharing the database reads it alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease(i64);

impl Lease {
    /// A lease that runs out `length` from now.
    pub fn for_next(length: Duration) -> Self {
        Self(now_ms().saturating_add(i64::try_from(length.as_millis()).unwrap_or(i64::MAX)))
    }

    /// A lease already run out: the next reader may take over at once.
    pub const EXPIRED: Lease = Lease(0);

    pub fn until_ms(self) -> i64 {
        self.0
    }
}

/// The fencing token of whoever holds a saga or a claim on an
/// Idempotency-Key: the database adds one to it with each new holder, and
/// every write the holder makes is conditional on it, so a writer that lost
/// its hold (taken over after its lease ran out) changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token(i64);

impl Token {
    /// The token of a saga's (or a claim's) first holder.
    pub const FIRST: Token = Token(1);

    pub fn from_db(value: i64) -> Self {
        Self(value)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// An unfinished saga, as recovery or a take-over finds it.
#[derive(Debug, Clone)]
pub struct Saga {
    pub order: OrderRef,
    pub user: UserId,
    pub total: Cents,
    pub status: OrderStatus,
    pub step: Option<Step>,
    /// The error code a `failed` order will carry.
    pub failure: Option<String>,
    pub attempts: i32,
    pub lease: Lease,
    /// Its holder's token when it was read.
    pub holder: Token,
}

type SagaRow = (
    i64,
    String,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    i32,
    i64,
    i64,
);

/// The saga of order `id` (with `step: None` if it has none in flight).
pub fn load(conn: &mut DbConnection, id: OrderId) -> Result<Saga, ShopError> {
    let row: SagaRow = orders::table
        .find(id.get())
        .select((
            orders::id,
            orders::step_key,
            orders::user_id,
            orders::total_cents,
            orders::status,
            orders::saga,
            orders::saga_failure,
            orders::saga_attempts,
            orders::saga_lease_until,
            orders::saga_token,
        ))
        .first(conn)
        .optional()?
        .ok_or(ShopError::NotFound(Entity::Order(id)))?;
    let (id, key, user, total, status, step, failure, attempts, lease, holder) = row;
    Ok(Saga {
        order: OrderRef {
            id: OrderId::from_db(id),
            key: StepKey::from_db(key),
        },
        user: UserId::from_db(user),
        total: Cents::from_db(total),
        status: OrderStatus::from_db(&status)?,
        step: step.as_deref().map(Step::from_db).transpose()?,
        failure,
        attempts,
        lease: Lease(lease),
        holder: Token(holder),
    })
}

/// The order's row while `holder` runs its saga at `from`: what every
/// fenced move of the saga updates, so a runner that lost its lease (or a
/// saga that moved on) changes nothing.
type HeldAt = dsl::Filter<
    dsl::Filter<
        dsl::Filter<orders::table, dsl::Eq<orders::id, i64>>,
        dsl::Eq<orders::saga, &'static str>,
    >,
    dsl::Eq<orders::saga_token, i64>,
>;

fn held_at(id: OrderId, holder: Token, from: Step) -> HeldAt {
    orders::table
        .filter(orders::id.eq(id.get()))
        .filter(orders::saga.eq(from.as_str()))
        .filter(orders::saga_token.eq(holder.0))
}

/// Moves the saga from `from` to `to`, recording `failure` when it starts
/// compensating; false if it was no longer at `from`, or no longer
/// `holder`'s (a take-over moved it).
pub fn advance(
    conn: &mut DbConnection,
    id: OrderId,
    holder: Token,
    from: Step,
    to: Step,
    failure: Option<&str>,
) -> Result<bool, ShopError> {
    let moved = diesel::update(held_at(id, holder, from))
        .set((
            orders::saga.eq(to.as_str()),
            orders::saga_failure.eq(failure),
        ))
        .execute(conn)?;
    Ok(moved == 1)
}

/// Ends the saga at `from`: the order takes `status` (and `failure`) and the
/// saga is gone, in one write. False if it was no longer at `from`, or no
/// longer `holder`'s.
pub fn end(
    conn: &mut DbConnection,
    id: OrderId,
    holder: Token,
    from: Step,
    status: OrderStatus,
    failure: Option<&str>,
) -> Result<bool, ShopError> {
    let moved = diesel::update(held_at(id, holder, from))
        .set((
            orders::status.eq(status.as_str()),
            orders::failure.eq(failure),
            orders::saga.eq(None::<String>),
            orders::saga_failure.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(moved == 1)
}

/// Records the intent to cancel a `completed` order, before any step: the
/// saga `cancel`, held by its caller (the token returned) until `lease`.
/// `None` if the order is not `completed` or already has a saga in flight.
pub fn begin_cancel(
    conn: &mut DbConnection,
    id: OrderId,
    lease: Lease,
) -> Result<Option<Token>, ShopError> {
    let target = orders::table
        .filter(orders::id.eq(id.get()))
        .filter(orders::status.eq(OrderStatus::Completed.as_str()))
        .filter(orders::saga.is_null());
    let changes = (
        orders::saga.eq(Step::Cancel.as_str()),
        orders::saga_lease_until.eq(lease.until_ms()),
        orders::saga_attempts.eq(0),
        orders::saga_token.eq(orders::saga_token + 1),
    );
    let token: Option<i64> = crate::on_backend!(conn, |inner| {
        diesel::update(target)
            .set(changes)
            .returning(orders::saga_token)
            .get_result(inner)
            .optional()
    })?;
    Ok(token.map(Token))
}

/// Takes over a saga whose lease has run out, as `seen` (when read): it is
/// the caller's (the token returned) until `lease`. A placing saga whose
/// runner is gone can only be undone — its caller was answered with an
/// error, or nothing — so it moves to `compensate`, failing the order with
/// `service_unavailable` unless a failure was already recorded. A cancel
/// goes on forward. An order left `pending` with no saga at all (placed
/// naively, `--tx naive`, or before sagas were recorded) is undone the same
/// way. `None` if another runner took it first, it has ended, or its lease
/// has not run out after all.
pub fn take_over(
    conn: &mut DbConnection,
    seen: &Saga,
    lease: Lease,
) -> Result<Option<Token>, ShopError> {
    let next = match seen.step {
        Some(Step::Cancel) => Step::Cancel,
        Some(Step::Reserve | Step::Charge | Step::Compensate) | None => Step::Compensate,
    };
    let failure = match next {
        Step::Cancel => None,
        _ => Some(seen.failure.as_deref().unwrap_or("service_unavailable")),
    };
    let at = orders::table
        .filter(orders::id.eq(seen.order.id.get()))
        .filter(orders::saga_token.eq(seen.holder.0))
        .filter(orders::saga_lease_until.lt(now_ms()));
    let changes = (
        orders::saga.eq(next.as_str()),
        orders::saga_failure.eq(failure),
        orders::saga_lease_until.eq(lease.until_ms()),
        orders::saga_attempts.eq(orders::saga_attempts + 1),
        orders::saga_token.eq(orders::saga_token + 1),
    );
    let token: Option<i64> = match seen.step {
        Some(step) => crate::on_backend!(conn, |inner| {
            diesel::update(at.filter(orders::saga.eq(step.as_str())))
                .set(changes)
                .returning(orders::saga_token)
                .get_result(inner)
                .optional()
        })?,
        None => crate::on_backend!(conn, |inner| {
            diesel::update(
                at.filter(orders::saga.is_null())
                    .filter(orders::status.eq(OrderStatus::Pending.as_str())),
            )
            .set(changes)
            .returning(orders::saga_token)
            .get_result(inner)
            .optional()
        })?,
    };
    Ok(token.map(Token))
}

/// Gives a saga back until `lease` runs out: after a failed attempt, the
/// back-off before recovery tries it again. False (and nothing changed) if
/// the saga is no longer `holder`'s.
pub fn postpone(
    conn: &mut DbConnection,
    id: OrderId,
    holder: Token,
    lease: Lease,
) -> Result<bool, ShopError> {
    let moved = diesel::update(
        orders::table
            .filter(orders::id.eq(id.get()))
            .filter(orders::saga_token.eq(holder.0)),
    )
    .set(orders::saga_lease_until.eq(lease.until_ms()))
    .execute(conn)?;
    Ok(moved == 1)
}

/// Up to `limit` orders whose saga is unfinished and whose lease has run out,
/// and orders left `pending` with no saga at all: recovery's work list,
/// oldest lease first.
pub fn due(conn: &mut DbConnection, limit: i64) -> Result<Vec<OrderId>, ShopError> {
    let ids: Vec<i64> = orders::table
        .filter(
            orders::saga
                .is_not_null()
                .or(orders::status.eq(OrderStatus::Pending.as_str())),
        )
        .filter(orders::saga_lease_until.lt(now_ms()))
        .order(orders::saga_lease_until.asc())
        .limit(limit)
        .select(orders::id)
        .load(conn)?;
    Ok(ids.into_iter().map(OrderId::from_db).collect())
}

/// How many orders have a saga in flight (cancels included): what the
/// chaos experiment waits to see at zero.
pub fn in_flight(conn: &mut DbConnection) -> Result<i64, ShopError> {
    Ok(orders::table
        .filter(orders::saga.is_not_null())
        .count()
        .get_result(conn)?)
}
