//! The saga under real crashes: real processes killed (SIGKILL) and frozen
//! (SIGSTOP) mid-order, restarted by the deployment's supervisor, and the
//! outcome audited through API.md (`/audit`, `/audit/orders/{id}`): nothing
//! charged or held for an order that did not complete, nothing left
//! `pending`, and a retry of the order's Idempotency-Key answered at once.
//! Then `shoplab chaos` on a small run: no violation for the monolith's
//! transaction or the saga, some without a saga.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use reqwest::Method;
use shoplab::chaos::{self, Mode};
use shoplab::client::{Reply, ShopClient};
use shoplab::deployment::{Deployment, Kind, Options, Storage, Tx};
use shoplab::experiment::{Experiment, Stamp};
use shoplab::scratch::Backend;

const ORDERS: &str = "shoplab-orders";
const PAYMENTS: &str = "shoplab-payments";

mod mugs;

use mugs::{
    answered, assert_consistent, assert_order_one_failed_holding_nothing,
    assert_told_it_did_not_complete, bin_dir, get, stocked, two_mugs, Stocked,
};

async fn place_two_mugs(shop: &ShopClient, key: &str) -> anyhow::Result<Reply> {
    shop.send(
        Method::POST,
        "/orders",
        Some(&two_mugs()),
        &[("idempotency-key", key)],
    )
    .await
}

#[tokio::test]
async fn the_orders_service_killed_between_reserve_and_charge_leaves_nothing_held_or_pending() {
    let stocked = Stocked::micro().await;
    let (deployment, shop) = (&stocked.deployment, &stocked.shop);

    // Payments frozen: the saga reserves, then waits in its charge.
    stocked.freeze(PAYMENTS);
    let placing = tokio::spawn({
        let shop = shop.clone();
        async move { place_two_mugs(&shop, "killed-mid-saga").await }
    });
    let deadline = Instant::now() + Duration::from_secs(4);
    while get(shop, "/products/1").await["stock"] == 10 {
        assert!(Instant::now() < deadline, "the stock was never reserved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Between reserve and charge: kill the orders service, then let payments
    // go on (it may still apply the charge it was sent).
    deployment
        .signal(ORDERS, Signal::SIGKILL)
        .expect("orders is killed");
    stocked.thaw(PAYMENTS);
    assert_told_it_did_not_complete(&answered(placing).await, "the order");

    // The supervisor restarts the orders service; its recovery takes the
    // saga over once its lease has run out, and undoes it.
    assert_consistent(shop).await;
    assert_order_one_failed_holding_nothing(shop).await;
    let orders = get(shop, "/users/1/orders").await;
    assert_eq!(orders.as_array().map(Vec::len), Some(1), "{orders}");

    // The key's retry answers at once, with the order's outcome.
    let retry = retry_at_once(shop, "killed-mid-saga").await;
    assert_eq!(retry.status, 503, "{}", retry.body);
    assert_eq!(
        get(shop, "/users/1/orders").await.as_array().map(Vec::len),
        Some(1)
    );
    stocked.end_consistent().await;
}

#[tokio::test]
async fn payments_frozen_during_a_charge_leaves_no_money_held_and_the_retry_answers_at_once() {
    let stocked = Stocked::micro().await;
    let shop = &stocked.shop;

    stocked.freeze(PAYMENTS);
    let started = Instant::now();
    let first = place_two_mugs(shop, "frozen-payments")
        .await
        .expect("the gateway answers");
    let waited = started.elapsed();
    stocked.thaw(PAYMENTS);
    assert_eq!(first.status, 504, "{}", first.body);
    assert_eq!(first.error_code(), Some("timeout"));
    // One deadline (5 s) for the whole request, the gateway just above it.
    assert!(waited < Duration::from_secs(6), "took {waited:?}");

    assert_consistent(shop).await;
    assert_order_one_failed_holding_nothing(shop).await;

    let retry = retry_at_once(shop, "frozen-payments").await;
    assert_eq!(retry.status, 504, "{}", retry.body);
    assert_eq!(retry.error_code(), Some("timeout"));
    let again = place_two_mugs(shop, "frozen-payments")
        .await
        .expect("answers");
    assert_eq!((again.status, &again.body), (retry.status, &retry.body));
    assert_eq!(
        get(shop, "/users/1/orders").await.as_array().map(Vec::len),
        Some(1)
    );
    stocked.end_consistent().await;
}

/// Places an order of two mugs, then cancels it while `op` is held in the
/// process that serves it (a fault plan's 700 ms delay, under the 1 s call
/// timeout), and SIGKILLs `killed` in that window: a crash inside a step
/// of the cancel, or of the orders service in the middle of it. The cancel's
/// caller is told it failed; once the killed process is back (the
/// supervisor restarts it), the cancel is finished by whoever holds it,
/// recovery if need be: the order `cancelled`, its stock back and its money
/// refunded, once.
async fn a_cancel_survives_a_crash(op: &str, killed: &str) {
    let plan = format!("[[fault]]\nop = \"{op}\"\nkind = \"delay\"\ndelay_ms = 700\n");
    let stocked = stocked(Kind::Micro, Some(&plan)).await;
    let (deployment, shop) = (&stocked.deployment, &stocked.shop);
    let placed = stocked.order_two_mugs().await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let cancelling = tokio::spawn({
        let shop = shop.clone();
        async move { shop.send(Method::POST, "/orders/1/cancel", None, &[]).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    deployment
        .signal(killed, Signal::SIGKILL)
        .expect("the process is killed");
    assert_told_it_did_not_complete(&answered(cancelling).await, "the cancel");

    // A cancel in flight keeps its order `completed` (with its stock
    // released, say) until it ends: wait for it to end first.
    let deadline = Instant::now() + Duration::from_secs(20);
    let order = loop {
        // A 503 while the killed process restarts is only a look too soon.
        let reply = shop.get("/audit/orders/1").await;
        let order = reply.map(|reply| reply.body).unwrap_or_default();
        if order["status"] == "cancelled" || Instant::now() >= deadline {
            break order;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(order["status"], "cancelled", "{order}");
    assert_eq!(order["charged_cents"], 0, "{order}");
    assert_eq!(order["reserved_units"], 0, "{order}");
    assert_eq!(
        get(shop, "/users/1/wallet").await["balance_cents"],
        mugs::DEPOSITED
    );
    assert_eq!(get(shop, "/products/1").await["stock"], mugs::MUGS);
    stocked.end_consistent().await;
}

#[tokio::test]
async fn a_cancel_whose_release_crashes_the_catalog_is_finished_once_it_is_back() {
    a_cancel_survives_a_crash("catalog.release", "shoplab-catalog").await;
}

#[tokio::test]
async fn a_cancel_whose_refund_crashes_payments_is_finished_once_it_is_back() {
    a_cancel_survives_a_crash("payments.refund", PAYMENTS).await;
}

#[tokio::test]
async fn a_cancel_whose_orders_service_is_killed_between_release_and_refund_is_finished_by_recovery(
) {
    a_cancel_survives_a_crash("payments.refund", ORDERS).await;
}

#[tokio::test]
async fn chaos_finds_no_violation_with_one_transaction_or_a_saga_and_some_without() {
    // Every mode, the modular monolith's saga among them.
    let out = tempfile::tempdir().expect("a results folder");
    let options = chaos::Options {
        bin_dir: bin_dir(),
        backend: Backend::Sqlite,
        out: None,
        modes: Mode::ALL.to_vec(),
        orders: 240,
        concurrency: 8,
        users: 30,
        products: 10,
        fault_plan: None,
        kill: true,
        orders_replicas: 1,
        freeze: None,
        settle: Duration::from_secs(12),
        seed: 3,
    };
    let result = options
        .measure(out.path(), Stamp::now(), &[])
        .await
        .expect("chaos runs");
    let violations = |mode: Mode| {
        result
            .modes
            .iter()
            .find(|run| run.mode == mode)
            .map(|run| run.violations)
            .expect("every mode ran")
    };
    assert_eq!(violations(Mode::Acid), 0, "{:#?}", result.modes[0]);
    assert_eq!(violations(Mode::Saga), 0, "{:#?}", result.modes[1]);
    assert!(violations(Mode::Naive) > 0, "{:#?}", result.modes[2]);
    assert_eq!(violations(Mode::Modular), 0, "{:#?}", result.modes[3]);
    // The saga settled: nothing pending and no saga in flight, seen before
    // the settle time ran out.
    assert!(
        result.modes[1].settled_after_ms.is_some(),
        "{:#?}",
        result.modes[1]
    );
    for run in &result.modes {
        let killed = run.restarts.get(match run.mode {
            Mode::Acid => "shoplab-monolith",
            Mode::Modular => "shoplab-group:users+catalog+payments+orders",
            Mode::Saga | Mode::Naive => ORDERS,
        });
        assert!(
            killed.is_some_and(|&restarts| restarts >= 1),
            "{:#?}",
            run.restarts
        );
        assert!(
            run.orders.get("completed").is_some_and(|&count| count > 0),
            "{:#?}",
            run.orders
        );
    }
}

#[tokio::test]
async fn a_saga_replica_frozen_past_its_leases_leaves_no_violation_when_it_wakes() {
    let out = tempfile::tempdir().expect("a results folder");
    let options = chaos::Options {
        bin_dir: bin_dir(),
        backend: Backend::Sqlite,
        out: None,
        modes: vec![Mode::Saga],
        orders: 240,
        concurrency: 8,
        users: 30,
        products: 10,
        fault_plan: None,
        kill: false,
        // The other replica takes over the frozen one's sagas and keys once
        // their leases (5 s and a second) have run out; the frozen one wakes
        // still believing it holds them.
        orders_replicas: 2,
        freeze: Some(Duration::from_secs(7)),
        settle: Duration::from_secs(20),
        seed: 5,
    };
    let result = options
        .measure(out.path(), Stamp::now(), &[])
        .await
        .expect("chaos runs");
    let saga = &result.modes[0];
    assert_eq!(saga.violations, 0, "{saga:#?}");
    assert_eq!(saga.keys_replayed.violations(), 0, "{saga:#?}");
}

/// The key's retry, which must answer within a second: with the outcome the
/// key recorded, not by running the order again.
async fn retry_at_once(shop: &ShopClient, key: &str) -> Reply {
    let started = Instant::now();
    let retry = place_two_mugs(shop, key).await.expect("answers");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    retry
}

/// The fault plan strikes the orders component's own write at one seam,
/// `orders::checkout::record`, in every mode: `orders.insert` failing
/// refuses the order in the naive mode as it does in the saga, keeping
/// nothing and taking nothing.
#[tokio::test]
async fn an_orders_insert_fault_strikes_the_naive_mode_as_it_strikes_the_saga() {
    for tx in [Tx::Saga, Tx::Naive] {
        let scratch = tempfile::tempdir().expect("a scratch directory");
        let plan = scratch.path().join("plan.toml");
        std::fs::write(
            &plan,
            "[[fault]]\nop = \"orders.insert\"\nkind = \"error\"\n",
        )
        .expect("the plan is written");
        let mut options = Options::new(
            Kind::Micro,
            mugs::bin_dir(),
            Storage::Sqlite(scratch.path().join("data")),
        );
        options.fault_plan = Some(plan);
        options.tx = tx;
        let deployment = Deployment::start(&options)
            .await
            .expect("the deployment starts");
        let shop = ShopClient::new(&deployment.base_url);
        mugs::stock_the_shop(&shop).await;

        let reply = shop
            .post("/orders", &mugs::two_mugs())
            .await
            .expect("the shop answers");
        assert_eq!(reply.status, 503, "{tx:?}: {}", reply.body);
        assert_eq!(reply.error_code(), Some("service_unavailable"), "{tx:?}");
        let orders = mugs::get(&shop, "/users/1/orders").await;
        assert_eq!(orders, serde_json::json!([]), "{tx:?} kept an order");
        assert_eq!(mugs::get(&shop, "/products/1").await["stock"], 10, "{tx:?}");
        deployment.stop().await;
    }
}
