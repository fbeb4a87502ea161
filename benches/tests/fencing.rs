//! One Idempotency-Key, at most one order, across two orders replicas: the
//! interleaving that used to place a second order, driven on cue by the
//! fault plan's `orders.insert` point (docs/FAULTS.md), on real processes.
//!
//! The first request claims the key on one replica, with a short deadline
//! (so a short lease), then holds its order's transaction open past that
//! lease. A retry of the same key on the other replica finds the lease run
//! out and takes the claim over while that transaction is still open. Before
//! the claim was fenced, the take-over read "no order yet", waited for the
//! lock, and placed the order again; now the take-over and the read of the
//! order it must resume are one statement after the first order commits,
//! so the retry resumes that order (docs/SAGA.md, "Fencing").

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use shoplab::client::ShopClient;
use shoplab::deployment::{Deployment, Kind, Options, ReplicaCounts, Storage};

mod mugs;

use mugs::{assert_consistent, bin_dir, get, stock_the_shop, two_mugs, ScratchPostgres};

/// Longer than the first request's lease: its deadline (1 s) and the grace
/// a lease adds to it (1 s).
const HOLD_MS: u64 = 2500;

#[tokio::test]
async fn a_retry_on_another_replica_while_the_first_holds_its_order_open_places_no_second_order() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let storage = Storage::Sqlite(scratch.path().join("data"));
    one_key_places_one_order(storage, scratch.path()).await;
}

/// The same on PostgreSQL, where the take-over waits on the first
/// replica's row lock rather than on SQLite's one writer.
#[tokio::test]
#[ignore = "needs PostgreSQL: SHOPLAB_TEST_PG=postgres://USER@HOST:PORT/NAME, --include-ignored"]
async fn on_postgres_a_retry_on_another_replica_while_the_first_holds_its_order_open_places_no_second_order(
) {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let databases = ScratchPostgres::new(Kind::Micro);
    one_key_places_one_order(databases.storage.clone(), scratch.path()).await;
}

async fn one_key_places_one_order(storage: Storage, scratch: &Path) {
    let plan = scratch.join("plan.toml");
    let text =
        format!("[[fault]]\nop = \"orders.insert\"\nkind = \"delay\"\ndelay_ms = {HOLD_MS}\n");
    std::fs::write(&plan, text).expect("the plan is written");
    let mut options = Options::new(Kind::Micro, bin_dir(), storage);
    options.fault_plan = Some(plan);
    options.replicas = ReplicaCounts::of_part("orders", 2);
    let deployment = Deployment::start(&options)
        .await
        .expect("the deployment starts");
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    let replica = |index: usize| {
        let names = deployment.replicas_of("shoplab-orders");
        assert_eq!(names.len(), 2, "two orders replicas: {names:?}");
        let url = deployment
            .url_of(&names[index])
            .expect("a replica's address");
        ShopClient::new(url)
    };
    let (first, second) = (replica(0), replica(1));
    let key = ("idempotency-key", "fenced-once");

    let first_answer = tokio::spawn(async move {
        let short = ("x-deadline-ms", "1000");
        first
            .send(Method::POST, "/orders", Some(&two_mugs()), &[key, short])
            .await
    });
    // The first request's lease has run out; its transaction is still open.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let retried = second
        .send(Method::POST, "/orders", Some(&two_mugs()), &[key])
        .await
        .expect("the second replica answers");
    let first_reply = first_answer
        .await
        .expect("the first request's task ends")
        .expect("the first replica answers");

    assert_consistent(&shop).await;
    let orders = get(&shop, "/users/1/orders").await;
    let orders = orders.as_array().expect("a list of orders");
    assert_eq!(
        orders.len(),
        1,
        "one key, one order: {orders:?} (first answered {} {}, the retry {} {})",
        first_reply.status,
        first_reply.body,
        retried.status,
        retried.body
    );
    // The key now answers for that one order, as it ended.
    let replayed = shop
        .send(Method::POST, "/orders", Some(&two_mugs()), &[key])
        .await
        .expect("the gateway answers");
    let order = &orders[0];
    match order["status"].as_str() {
        Some("completed") => {
            assert_eq!(replayed.status, 201, "{}", replayed.body);
            assert_eq!(replayed.body["id"], order["id"]);
        }
        Some("failed") => {
            assert_ne!(replayed.status, 201, "{}", replayed.body);
            assert_eq!(replayed.body["error"]["code"], order["failure"], "{order}");
        }
        other => panic!("the order ended {other:?}: {order}"),
    }
    deployment.stop().await;
}
