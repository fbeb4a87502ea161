//! The same component operation, in process and over HTTP: the cost of the
//! internal hop, as the difference of the two medians.
//!
//! In process is `common`'s `InProcess` (what the monolith's orders code
//! calls) on a connection to the monolith's database; over HTTP is the
//! services' `Remote` (what the orders service calls) against real users,
//! catalog and payments services started in this process. Each write is its
//! own transaction on both sides, as the services' internal endpoints make
//! it, so the two differ only in the hop.

mod support;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use shoplab_common::components::{Catalog, Payments, Users};
use shoplab_common::db::{self, write_transaction};
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::{
    Cents, OrderId, OrderItems, OrderRef, ProductId, StepKey, UserId, VisibleAscii,
};
use shoplab_common::http::RequestId;
use shoplab_common::local::{drive, InProcess};
use shoplab_service::balance::Replicas;
use shoplab_service::remote::{PeerClient, Peers};
use shoplab_service::CallArgs;

/// Every reserve and charge needs an order id no earlier iteration used
/// (they are idempotent per order).
static NEXT_ORDER: AtomicI64 = AtomicI64::new(1);

/// A fresh order as its steps name it (a new step key each time, so every
/// reserve and charge does real work).
fn next_order() -> OrderRef {
    OrderRef {
        id: OrderId::parse(NEXT_ORDER.fetch_add(1, Ordering::Relaxed)).expect("a positive id"),
        key: StepKey::generate(),
    }
}

fn component_calls(c: &mut Criterion) {
    let shop = support::start();
    let (local_user, local_product) = support::seed(&shop.monolith);
    let (remote_user, remote_product) = support::seed(&shop.gateway);

    let pool = db::open(
        &shop.monolith_database,
        &shoplab_common::components::Component::ALL,
    )
    .expect("the monolith's database opens");
    let mut conn = pool.get().expect("a pooled connection");
    let peers = PeerClient::new(
        Peers {
            users: Some(Replicas::one("users", shop.users.clone())),
            catalog: Some(Replicas::one("catalog", shop.catalog.clone())),
            payments: Some(Replicas::one("payments", shop.payments.clone())),
        },
        &CallArgs::default(),
    )
    .expect("the peer client builds");
    // The remote calls are futures: each is awaited on this runtime, as the
    // orders service awaits them on its own; the in-process ones are driven
    // on this thread, as the monolith drives them on a blocking one.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let request_id = RequestId(VisibleAscii::parse("bench").expect("visible ASCII"));
    // The whole bench is one long request: a deadline a day away.
    let mut remote = peers.for_request(request_id, Deadline::after(Duration::from_secs(86_400)));

    let ids = |user: i64, product: i64| {
        (
            UserId::parse(user).expect("a positive id"),
            ProductId::parse(product).expect("a positive id"),
            OrderItems::parse(&[(product, 1)]).expect("one line"),
        )
    };
    let (local_user, local_product, local_items) = ids(local_user, local_product);
    let (remote_user, remote_product, remote_items) = ids(remote_user, remote_product);
    let cent = Cents::parse(1).expect("one cent");

    let mut group = c.benchmark_group("get a user");
    group.bench_function("in process", |b| {
        b.iter(|| drive(InProcess::new(&mut conn).user(local_user)).expect("the user"))
    });
    group.bench_function("over HTTP", |b| {
        b.iter(|| {
            runtime
                .block_on(remote.user(remote_user))
                .expect("the user")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("get a product");
    group.bench_function("in process", |b| {
        b.iter(|| drive(InProcess::new(&mut conn).products(&[local_product])).expect("the product"))
    });
    group.bench_function("over HTTP", |b| {
        b.iter(|| {
            runtime
                .block_on(remote.products(&[remote_product]))
                .expect("the product")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("reserve and release");
    group.bench_function("in process", |b| {
        b.iter(|| {
            let order = next_order();
            write_transaction(&mut conn, |conn| {
                drive(InProcess::new(conn).reserve(&order, local_items.lines()))
            })
            .expect("reserved");
            write_transaction(&mut conn, |conn| {
                drive(InProcess::new(conn).release(&order))
            })
            .expect("released");
        })
    });
    group.bench_function("over HTTP", |b| {
        b.iter(|| {
            let order = next_order();
            runtime
                .block_on(remote.reserve(&order, remote_items.lines()))
                .expect("reserved");
            runtime.block_on(remote.release(&order)).expect("released");
        })
    });
    group.finish();

    let mut group = c.benchmark_group("charge and refund");
    group.bench_function("in process", |b| {
        b.iter(|| {
            let order = next_order();
            write_transaction(&mut conn, |conn| {
                drive(InProcess::new(conn).charge(&order, local_user, cent))
            })
            .expect("charged");
            write_transaction(&mut conn, |conn| drive(InProcess::new(conn).refund(&order)))
                .expect("refunded");
        })
    });
    group.bench_function("over HTTP", |b| {
        b.iter(|| {
            let order = next_order();
            runtime
                .block_on(remote.charge(&order, remote_user, cent))
                .expect("charged");
            runtime.block_on(remote.refund(&order)).expect("refunded");
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = component_calls
}
criterion_main!(benches);
