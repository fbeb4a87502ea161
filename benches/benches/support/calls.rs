//! The component calls both `component_calls` benches make, each case as a
//! closure over one fixture: the same operation in process (`common`'s
//! `InProcess` on the monolith's database, what the monolith's orders code
//! calls) and over HTTP (the services' `Remote` against real services
//! started in this process, what the orders service calls). Criterion times
//! them (`component_calls.rs`); callgrind counts them
//! (`component_calls_counted.rs`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use shoplab_common::components::{Catalog, Payments, Users};
use shoplab_common::db::{self, write_transaction, PooledConnection};
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::{
    Cents, OrderId, OrderItems, OrderRef, ProductId, StepKey, UserId, VisibleAscii,
};
use shoplab_common::local::{drive, InProcess};
use shoplab_http::RequestId;
use shoplab_service::balance::Replicas;
use shoplab_service::client::{PeerClient, Peers};
use shoplab_service::remote::Remote;
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

/// The four operations, each in process and over HTTP, as criterion names
/// them: (group, function).
pub const CASES: [(&str, &str); 8] = [
    ("get a user", "in process"),
    ("get a user", "over HTTP"),
    ("get a product", "in process"),
    ("get a product", "over HTTP"),
    ("reserve and release", "in process"),
    ("reserve and release", "over HTTP"),
    ("charge and refund", "in process"),
    ("charge and refund", "over HTTP"),
];

/// The shop started, seeded, and both ways of calling it ready.
pub struct Fixture {
    _shop: super::Shop,
    conn: PooledConnection,
    remote: Remote,
    runtime: tokio::runtime::Runtime,
    local: (UserId, ProductId, OrderItems),
    over_http: (UserId, ProductId, OrderItems),
}

impl Fixture {
    pub fn new() -> Self {
        let shop = super::start();
        let (local_user, local_product) = super::seed(&shop.monolith);
        let (remote_user, remote_product) = super::seed(&shop.gateway);
        let pool = db::open(
            &shop.monolith_database,
            &shoplab_common::components::Component::ALL,
        )
        .expect("the monolith's database opens");
        let conn = pool.get().expect("a pooled connection");
        let peers = PeerClient::new(
            Peers {
                users: Some(Replicas::one("users", shop.users.clone())),
                catalog: Some(Replicas::one("catalog", shop.catalog.clone())),
                payments: Some(Replicas::one("payments", shop.payments.clone())),
            },
            &CallArgs::default(),
        )
        .expect("the peer client builds");
        // The remote calls are futures: each is awaited on this runtime, as
        // the orders service awaits them on its own; the in-process ones are
        // driven on this thread, as the monolith drives them on a blocking one.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let request_id = RequestId(VisibleAscii::parse("bench").expect("visible ASCII"));
        // The whole bench is one long request: a deadline a day away.
        let remote = peers.for_request(request_id, Deadline::after(Duration::from_secs(86_400)));
        let ids = |user: i64, product: i64| {
            (
                UserId::parse(user).expect("a positive id"),
                ProductId::parse(product).expect("a positive id"),
                OrderItems::parse(&[(product, 1)]).expect("one line"),
            )
        };
        Fixture {
            _shop: shop,
            conn,
            remote,
            runtime,
            local: ids(local_user, local_product),
            over_http: ids(remote_user, remote_product),
        }
    }

    /// One call of the case `(group, function)` of [`CASES`].
    pub fn call(&mut self, group: &str, function: &str) {
        let cent = Cents::parse(1).expect("one cent");
        let in_process = function == "in process";
        let (user, product, items) = if in_process {
            &self.local
        } else {
            &self.over_http
        };
        let (conn, remote, runtime) = (&mut self.conn, &mut self.remote, &self.runtime);
        match (group, in_process) {
            ("get a user", true) => {
                drive(InProcess::new(conn).user(*user)).expect("the user");
            }
            ("get a user", false) => {
                runtime.block_on(remote.user(*user)).expect("the user");
            }
            ("get a product", true) => {
                drive(InProcess::new(conn).products(&[*product])).expect("the product");
            }
            ("get a product", false) => {
                runtime
                    .block_on(remote.products(&[*product]))
                    .expect("the product");
            }
            ("reserve and release", true) => {
                let order = next_order();
                write_transaction(conn, |conn| {
                    drive(InProcess::new(conn).reserve(&order, items.lines()))
                })
                .expect("reserved");
                write_transaction(conn, |conn| drive(InProcess::new(conn).release(&order)))
                    .expect("released");
            }
            ("reserve and release", false) => {
                let order = next_order();
                runtime
                    .block_on(remote.reserve(&order, items.lines()))
                    .expect("reserved");
                runtime.block_on(remote.release(&order)).expect("released");
            }
            ("charge and refund", true) => {
                let order = next_order();
                write_transaction(conn, |conn| {
                    drive(InProcess::new(conn).charge(&order, *user, cent))
                })
                .expect("charged");
                write_transaction(conn, |conn| drive(InProcess::new(conn).refund(&order)))
                    .expect("refunded");
            }
            ("charge and refund", false) => {
                let order = next_order();
                runtime
                    .block_on(remote.charge(&order, *user, cent))
                    .expect("charged");
                runtime.block_on(remote.refund(&order)).expect("refunded");
            }
            (group, _) => panic!("no such case: {group} / {function}"),
        }
    }
}
