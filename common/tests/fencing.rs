//! Fencing: who holds a saga or a claim on an Idempotency-Key is decided by
//! its token, never by the clock alone. Each test stages, on a real SQLite
//! database, the interleaving that used to let a holder whose lease had run
//! out act after another took over, and checks that it now changes nothing:
//! one key, at most one order; one saga, one writer.

// A test: a failed `expect` fails it, with its reason.
#![allow(clippy::expect_used)]

use std::time::Duration;

use shoplab_common::components::Component;
use shoplab_common::db::{self, write_transaction, DatabaseUrl, Pool};
use shoplab_common::domain::{Cents, OrderId, OrderStatus, PricedLine, UserId, VisibleAscii};
use shoplab_common::orders::idempotency::{self, Claim, Finish, Held, StoredResponse};
use shoplab_common::orders::pricing::Quote;
use shoplab_common::orders::saga::{self as record, Lease, Step, Token};
use shoplab_common::orders::store;
use shoplab_common::ShopError;

/// An orders database of its own, in a scratch directory.
struct Orders {
    pool: Pool,
    _scratch: tempfile::TempDir,
}

fn orders() -> Orders {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let pool = db::open(
        &DatabaseUrl::sqlite_in(scratch.path(), "orders"),
        &[Component::Orders],
    )
    .expect("the orders database opens");
    Orders {
        pool,
        _scratch: scratch,
    }
}

fn quote() -> Quote {
    Quote {
        user: UserId::from_db(1),
        lines: vec![PricedLine {
            product_id: 1,
            quantity: 2,
            unit_price_cents: 500,
        }],
        total: Cents::from_db(1000),
    }
}

fn key() -> VisibleAscii {
    VisibleAscii::parse("order-once").expect("visible ASCII")
}

const FINGERPRINT: &str = r#"{"items":[{"product_id":1,"quantity":2}],"user_id":1}"#;

/// A lease long enough that nothing takes it over during a test.
fn a_minute() -> Lease {
    Lease::for_next(Duration::from_secs(60))
}

impl Orders {
    /// One look at the key, with a lease that has already run out (so the
    /// next look may take the claim over at once).
    fn claim_briefly(&self) -> Option<Claim> {
        let mut conn = self.pool.get().expect("a connection");
        idempotency::try_claim(&mut conn, &key(), FINGERPRINT, Lease::EXPIRED)
            .expect("the key can be looked at")
    }

    /// Places an order under `held`, as either deployment's first write does.
    fn place(&self, held: &Held) -> Result<OrderId, ShopError> {
        let mut conn = self.pool.get().expect("a connection");
        write_transaction(&mut conn, |conn| {
            store::insert(conn, &quote(), Some(held), Some(Lease::EXPIRED))
        })
        .map(|(_, reference)| reference.id)
    }

    fn order_count(&self) -> i64 {
        let mut conn = self.pool.get().expect("a connection");
        store::count_by_status(&mut conn)
            .expect("the orders can be counted")
            .values()
            .sum()
    }
}

fn owner(claim: Option<Claim>) -> Held {
    match claim {
        Some(Claim::Owner(held)) => held,
        other => panic!("expected to own the key, got {other:?}"),
    }
}

#[test]
fn a_request_whose_claim_was_taken_over_cannot_record_its_order() {
    let orders = orders();
    let first = owner(orders.claim_briefly());
    // The first request stalls past its lease before its order's first
    // write commits; a retry with the same key takes the claim over.
    let second = owner(orders.claim_briefly());
    assert_ne!(first.token, second.token);
    // The first request's write lands now: it is fenced off, and rolls back.
    let late = orders.place(&first);
    assert!(
        matches!(late, Err(ShopError::ClaimLost(_))),
        "the stalled request must be fenced off, got {late:?}"
    );
    assert_eq!(orders.order_count(), 0);
    orders.place(&second).expect("the holder places the order");
    assert_eq!(orders.order_count(), 1, "one key, one order");
}

#[test]
fn a_key_that_names_an_order_never_records_a_second_one() {
    let orders = orders();
    let first = owner(orders.claim_briefly());
    let second = owner(orders.claim_briefly());
    orders.place(&second).expect("the retry places the order");
    // Whoever writes next under this key (here the stalled first request)
    // finds an order already recorded.
    let late = orders.place(&first);
    assert!(matches!(late, Err(ShopError::ClaimLost(_))), "{late:?}");
    assert_eq!(orders.order_count(), 1, "one key, one order");
}

#[test]
fn a_take_over_after_the_order_was_recorded_resumes_that_order() {
    let orders = orders();
    let first = owner(orders.claim_briefly());
    let placed = orders.place(&first).expect("the first request places it");
    match orders.claim_briefly() {
        Some(Claim::Resume(order, held)) => {
            assert_eq!(order, placed);
            assert_ne!(held.token, first.token);
        }
        other => panic!("expected to resume order {placed}, got {other:?}"),
    }
    assert_eq!(orders.order_count(), 1);
}

#[test]
fn a_request_that_lost_its_claim_cannot_free_or_answer_for_the_key() {
    let orders = orders();
    let first = owner(orders.claim_briefly());
    let second = owner(orders.claim_briefly());
    orders.place(&second).expect("placed");
    // The stalled first request ends its claim as if it had kept nothing
    // (which would free the key for a third order), or with its own answer.
    let stale = StoredResponse {
        status: 503,
        body: "{}".into(),
    };
    for how in [Finish::NothingKept, Finish::Kept(&stale), Finish::Unsettled] {
        let ended = idempotency::finish(&orders.pool, &first, how);
        assert!(
            matches!(ended, Err(ShopError::ClaimLost(_))),
            "got {ended:?}"
        );
    }
    let answer = StoredResponse {
        status: 201,
        body: r#"{"id":1}"#.into(),
    };
    idempotency::finish(&orders.pool, &second, Finish::Kept(&answer))
        .expect("the holder answers for the key");
    let mut conn = orders.pool.get().expect("a connection");
    let replayed = idempotency::try_claim(&mut conn, &key(), FINGERPRINT, Lease::EXPIRED)
        .expect("the key can be looked at");
    assert_eq!(replayed, Some(Claim::Replay(answer)));
}

#[test]
fn a_runner_whose_saga_was_taken_over_changes_nothing() {
    let orders = orders();
    let mut conn = orders.pool.get().expect("a connection");
    // The runner that placed the order holds its saga with the first token;
    // its lease has run out (it is frozen, or its clock was wrong).
    let (_, reference) = write_transaction(&mut conn, |conn| {
        store::insert(conn, &quote(), None, Some(Lease::EXPIRED))
    })
    .expect("recorded");
    let id = reference.id;
    let seen = record::load(&mut conn, id).expect("the saga");
    assert_eq!(seen.holder, Token::FIRST);
    let recovery = record::take_over(&mut conn, &seen, a_minute())
        .expect("a take-over")
        .expect("the lease had run out");
    assert_ne!(recovery, Token::FIRST);
    // A second take-over of what was seen before finds it held.
    let again = record::take_over(&mut conn, &seen, a_minute()).expect("ran");
    assert_eq!(again, None);
    let lease = record::load(&mut conn, id).expect("the saga").lease;

    // The old runner wakes: none of its writes lands.
    let old = Token::FIRST;
    let (compensate, failed) = (Step::Compensate, OrderStatus::Failed);
    let postponed = record::postpone(&mut conn, id, old, Lease::EXPIRED).expect("ran");
    let advanced = record::advance(&mut conn, id, old, compensate, Step::Charge, None);
    let ended = record::end(&mut conn, id, old, compensate, failed, Some("x"));
    assert!(!postponed);
    assert!(!advanced.expect("ran"));
    assert!(!ended.expect("ran"));
    let now = record::load(&mut conn, id).expect("the saga");
    assert_eq!(now.step, Some(Step::Compensate));
    assert_eq!(now.holder, recovery);
    assert_eq!(
        now.lease, lease,
        "the old runner's postpone changed nothing"
    );
    let order = store::find(&mut conn, id).expect("the order");
    assert_eq!(order.status, OrderStatus::Pending);

    // Its holder ends it.
    let ended = record::end(&mut conn, id, recovery, compensate, failed, Some("timeout"));
    assert!(ended.expect("ran"));
    let order = store::find(&mut conn, id).expect("the order");
    assert_eq!(order.status, failed);
}

#[test]
fn a_pending_order_with_no_saga_is_taken_over_to_be_undone() {
    let orders = orders();
    let mut conn = orders.pool.get().expect("a connection");
    // As the naive way (`--tx naive`) leaves an order whose process died.
    let (_, reference) =
        write_transaction(&mut conn, |conn| store::insert(conn, &quote(), None, None))
            .expect("recorded");
    let due = record::due(&mut conn, 10).expect("the work list");
    assert_eq!(due, vec![reference.id]);
    let seen = record::load(&mut conn, reference.id).expect("the order");
    assert_eq!(seen.step, None);
    let held = record::take_over(&mut conn, &seen, a_minute())
        .expect("a take-over")
        .expect("nobody holds it");
    let taken = record::load(&mut conn, reference.id).expect("the saga");
    assert_eq!(taken.step, Some(Step::Compensate));
    assert_eq!(taken.failure.as_deref(), Some("service_unavailable"));
    assert_eq!(taken.holder, held);
}
