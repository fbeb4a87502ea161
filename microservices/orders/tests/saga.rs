//! The saga driven against in-process components, each over a database of
//! its own, with faults put in between: what the saga does when a step
//! fails in a way a real network makes hard to arrange on cue (a peer that
//! commits and then answers 500). The saga cannot tell these components from
//! the HTTP ones: it sees only the component interfaces.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use shoplab_common::catalog;
use shoplab_common::components::{Catalog, Component, Payments, Users};
use shoplab_common::db::{self, DatabaseUrl, Pool};
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::{
    Cents, Order, OrderId, OrderItems, OrderLine, OrderRef, OrderStatus, Product, ProductId,
    StepKey, User, UserId,
};
use shoplab_common::faults::FaultPlan;
use shoplab_common::local::{drive, Owned};
use shoplab_common::orders::checkout::{Checkout, PlaceOrder, Placed};
use shoplab_common::orders::{saga as record, store};
use shoplab_common::{payments, users, ShopError};
use shoplab_http::wire::{CreateProduct, CreateUser, Deposit};
use shoplab_orders::checkout::SagaRunner;
use shoplab_orders::recovery::recover_due;

/// Three components, each owning its database, as the services would.
struct Split {
    users: Owned,
    catalog: Owned,
    payments: Owned,
    /// What the payments component does after each charge has committed.
    after_charge: AfterCharge,
}

#[derive(Clone, Copy, PartialEq)]
enum AfterCharge {
    Answer,
    /// Commit, then answer as a failing server would (a 500 becomes 503).
    Fail,
}

impl Users for Split {
    async fn user(&mut self, id: UserId) -> Result<User, ShopError> {
        self.users.user(id).await
    }
}

impl Catalog for Split {
    async fn products(&mut self, ids: &[ProductId]) -> Result<Vec<Product>, ShopError> {
        self.catalog.products(ids).await
    }
    async fn reserve(&mut self, order: &OrderRef, lines: &[OrderLine]) -> Result<(), ShopError> {
        self.catalog.reserve(order, lines).await
    }
    async fn release(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        self.catalog.release(order).await
    }
}

impl Payments for Split {
    async fn charge(
        &mut self,
        order: &OrderRef,
        user: UserId,
        amount: Cents,
    ) -> Result<(), ShopError> {
        self.payments.charge(order, user, amount).await?;
        match self.after_charge {
            AfterCharge::Answer => Ok(()),
            AfterCharge::Fail => Err(ShopError::ServiceUnavailable(
                "the payments service answered 500 after it committed".into(),
            )),
        }
    }
    async fn refund(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        self.payments.refund(order).await
    }
}

struct Shop {
    orders: Pool,
    users: Pool,
    catalog: Pool,
    payments: Pool,
    _scratch: tempfile::TempDir,
}

/// Four databases; one user with 50.00, one product with 10 units at 12.50.
fn shop() -> Shop {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let open = |component: Component| {
        db::open(
            &DatabaseUrl::sqlite_in(scratch.path(), component.name()),
            &[component],
        )
        .expect("the database opens")
    };
    let shop = Shop {
        orders: open(Component::Orders),
        users: open(Component::Users),
        catalog: open(Component::Catalog),
        payments: open(Component::Payments),
        _scratch: scratch,
    };
    let user = CreateUser {
        name: "Ada".into(),
        email: "ada@example.com".into(),
    };
    let user = users::store::create(
        &mut shop.users.get().expect("conn"),
        &user.parse().expect("valid"),
    )
    .expect("created");
    let mug = CreateProduct {
        name: "Mug".into(),
        price_cents: 1250,
        stock: 10,
    };
    catalog::store::create(
        &mut shop.catalog.get().expect("conn"),
        &mug.parse().expect("valid"),
    )
    .expect("created");
    let deposit = Deposit { amount_cents: 5000 }.parse().expect("valid");
    payments::store::deposit(
        &mut shop.payments.get().expect("conn"),
        UserId::from_db(user.id),
        deposit,
    )
    .expect("deposited");
    shop
}

impl Shop {
    fn runner(&self, after_charge: AfterCharge) -> SagaRunner<Split> {
        let deadline = Deadline::after(Duration::from_secs(5));
        SagaRunner {
            pool: self.orders.clone(),
            shop: Split {
                users: Owned::new(self.users.clone(), deadline),
                catalog: Owned::new(self.catalog.clone(), deadline),
                payments: Owned::new(self.payments.clone(), deadline),
                after_charge,
            },
            deadline,
            faults: Arc::new(FaultPlan::none()),
        }
    }

    fn stock(&self) -> i64 {
        let id = ProductId::from_db(1);
        catalog::store::find(&mut self.catalog.get().expect("conn"), id)
            .expect("the product")
            .stock
    }

    fn balance(&self) -> i64 {
        payments::store::balance(&mut self.payments.get().expect("conn"), UserId::from_db(1))
            .expect("the wallet")
            .get()
    }

    fn order(&self, id: i64) -> Order {
        store::find(&mut self.orders.get().expect("conn"), OrderId::from_db(id)).expect("the order")
    }
}

fn two_mugs() -> PlaceOrder {
    PlaceOrder {
        user: UserId::from_db(1),
        items: OrderItems::parse(&[(1, 2)]).expect("one line"),
        idempotency_key: None,
    }
}

#[tokio::test]
async fn a_peer_that_commits_and_then_answers_500_is_compensated() {
    let shop = shop();
    let placed = shop
        .runner(AfterCharge::Fail)
        .place(two_mugs())
        .await
        .expect("the order is kept");
    let Placed::Failed { order, error } = placed else {
        panic!("expected a failed order, got {placed:?}");
    };
    assert_eq!(error.code(), "service_unavailable");
    assert_eq!(order.status, OrderStatus::Failed);
    // The charge had committed: the saga refunded it, and released the stock.
    assert_eq!(shop.balance(), 5000);
    assert_eq!(shop.stock(), 10);
    assert_eq!(shop.order(order.id).status, OrderStatus::Failed);
}

#[tokio::test]
async fn a_placed_order_takes_its_stock_and_money_once() {
    let shop = shop();
    let placed = shop
        .runner(AfterCharge::Answer)
        .place(two_mugs())
        .await
        .expect("placed");
    assert!(matches!(placed, Placed::Completed(_)), "{placed:?}");
    assert_eq!(shop.balance(), 2500);
    assert_eq!(shop.stock(), 8);
}

#[test]
fn a_duplicate_step_delivery_applies_once() {
    let shop = shop();
    let deadline = Deadline::after(Duration::from_secs(5));
    let order = OrderRef {
        id: OrderId::from_db(1),
        key: StepKey::generate(),
    };
    let lines = OrderItems::parse(&[(1, 3)]).expect("one line");
    let mut catalog = Owned::new(shop.catalog.clone(), deadline);
    let mut payments = Owned::new(shop.payments.clone(), deadline);
    for _ in 0..2 {
        drive(catalog.reserve(&order, lines.lines())).expect("reserved");
        drive(payments.charge(&order, UserId::from_db(1), Cents::from_db(700))).expect("charged");
    }
    assert_eq!(shop.stock(), 7);
    assert_eq!(shop.balance(), 4300);
    for _ in 0..2 {
        drive(catalog.release(&order)).expect("released");
        drive(payments.refund(&order)).expect("refunded");
    }
    assert_eq!(shop.stock(), 10);
    assert_eq!(shop.balance(), 5000);
    // Undone for good: a late repeat of the step does not take again.
    assert!(drive(catalog.reserve(&order, lines.lines())).is_err());
    assert_eq!(shop.stock(), 10);
}

#[test]
fn a_reused_order_id_with_a_new_step_key_is_a_new_order() {
    // What an orders database reset while the others are kept looks like:
    // the same id again, under a fresh step key.
    let shop = shop();
    let deadline = Deadline::after(Duration::from_secs(5));
    let mut catalog = Owned::new(shop.catalog.clone(), deadline);
    let lines = OrderItems::parse(&[(1, 1)]).expect("one line");
    for _ in 0..2 {
        let order = OrderRef {
            id: OrderId::from_db(1),
            key: StepKey::generate(),
        };
        drive(catalog.reserve(&order, lines.lines())).expect("reserved");
    }
    assert_eq!(shop.stock(), 8);
}

#[tokio::test]
async fn recovery_undoes_a_saga_whose_runner_is_gone() {
    let shop = shop();
    // A runner that reserved and charged, then died before completing: its
    // record says `charge`, and its lease has run out.
    let runner = shop.runner(AfterCharge::Answer);
    let quote_lines = OrderItems::parse(&[(1, 2)]).expect("one line");
    let quote = shoplab_common::orders::pricing::Quote {
        user: UserId::from_db(1),
        lines: vec![shoplab_common::domain::PricedLine {
            product_id: 1,
            quantity: 2,
            unit_price_cents: 1250,
        }],
        total: Cents::from_db(2500),
    };
    let (order, reference) = db::write_transaction(&mut shop.orders.get().expect("conn"), |conn| {
        store::insert(conn, &quote, None, Some(record::Lease::EXPIRED))
    })
    .expect("recorded");
    let mut components = runner.shop;
    components
        .reserve(&reference, quote_lines.lines())
        .await
        .expect("reserved");
    components
        .charge(&reference, quote.user, quote.total)
        .await
        .expect("charged");
    db::write_transaction(&mut shop.orders.get().expect("conn"), |conn| {
        record::advance(
            conn,
            reference.id,
            record::Token::FIRST,
            record::Step::Reserve,
            record::Step::Charge,
            None,
        )
    })
    .expect("advanced");
    assert_eq!((shop.stock(), shop.balance()), (8, 2500));

    let ended = recover_due(&shop.orders, || shop.runner(AfterCharge::Answer))
        .await
        .expect("a pass");
    assert_eq!(ended, 1);
    let recovered = shop.order(order.id);
    assert_eq!(recovered.status, OrderStatus::Failed);
    assert_eq!(recovered.failure.as_deref(), Some("service_unavailable"));
    assert_eq!((shop.stock(), shop.balance()), (10, 5000));
    // Nothing is left for a second pass.
    let again = recover_due(&shop.orders, || shop.runner(AfterCharge::Answer))
        .await
        .expect("a pass");
    assert_eq!(again, 0);
}
