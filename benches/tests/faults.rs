//! What the microservices do when a service they need is down or hangs: real
//! processes made to fail (`hold_down` SIGKILLs a service and keeps its
//! supervisor from starting it again; SIGSTOP leaves its port open but makes
//! it answer nothing). API.md: the caller gets 503 or 504,
//! never a hang or a 500, and a failed request takes no stock and no money.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use shoplab::client::ShopClient;
use shoplab::deployment::Kind;

mod mugs;

use mugs::{assert_consistent, stocked, two_mugs, Stocked};

async fn figure(shop: &ShopClient, path: &str, field: &str) -> i64 {
    let reply = shop.get(path).await.expect("the shop answers");
    reply.body[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{path} has no {field}: {}", reply.body))
}

#[tokio::test]
async fn an_order_fails_cleanly_when_the_payments_service_is_down() {
    let stocked = Stocked::micro().await;
    let (deployment, shop) = (&stocked.deployment, &stocked.shop);

    deployment
        .hold_down("shoplab-payments")
        .await
        .expect("payments can be killed and kept down");
    let reply = stocked.order_two_mugs().await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.error_code(), Some("service_unavailable"));

    // The saga released the stock it had reserved, and kept the order as failed.
    assert_eq!(figure(shop, "/products/1", "stock").await, 10);
    let orders = shop.get("/users/1/orders").await.expect("orders answers");
    assert_eq!(orders.body[0]["status"], "failed", "{}", orders.body);
    assert_eq!(orders.body[0]["failure"], "service_unavailable");
    assert_eq!(orders.body[0]["total_cents"], 2500);

    let health = shop.get("/health").await.expect("the gateway answers");
    assert_eq!(health.status, 503);
    let message = health.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("payments"), "{message}");
    deployment
        .release("shoplab-payments")
        .await
        .expect("payments comes back");
    stocked.end_consistent().await;
}

/// The catalog hangs before the order is priced (its product lookup): a
/// 504 that keeps no order (API.md: a 503/504 before pricing keeps none).
#[tokio::test]
async fn a_catalog_hung_before_pricing_is_a_timeout_and_keeps_no_order() {
    let stocked = Stocked::micro().await;
    let shop = &stocked.shop;

    stocked.freeze("shoplab-catalog");
    let started = Instant::now();
    let (reply, read) = tokio::join!(stocked.order_two_mugs(), shop.get("/products/1"));
    let waited = started.elapsed();
    stocked.thaw("shoplab-catalog");
    let read = read.expect("the gateway answers");
    // A read is bounded too: the gateway gives up just after the deadline.
    assert_eq!(read.status, 504, "{}", read.body);

    assert_eq!(reply.status, 504, "{}", reply.body);
    assert_eq!(reply.error_code(), Some("timeout"));
    // One deadline (5 s by default) for the whole request: the orders
    // service gives up when it passes, and the gateway a moment later.
    assert!(waited < Duration::from_secs(6), "took {waited:?}");
    // Nothing was priced, so nothing was kept and nothing charged.
    assert_eq!(figure(shop, "/users/1/wallet", "balance_cents").await, 5000);
    let orders = shop.get("/users/1/orders").await.expect("orders answers");
    assert_eq!(orders.body, json!([]));
    stocked.end_consistent().await;
}

/// The catalog hangs after the order is priced (taking the stock): a 504
/// that keeps the order as `failed` (API.md: a 503/504 after pricing keeps
/// it), holding nothing — in the microservices once the saga has undone the
/// reservation, in the monolith at once. The hang is a fault plan's, so it
/// strikes the same operation in both.
#[tokio::test]
async fn a_hang_while_taking_the_stock_is_a_timeout_that_keeps_a_failed_order() {
    for kind in [Kind::Monolith, Kind::Micro] {
        let Stocked {
            deployment,
            shop,
            scratch: _scratch,
        } = stocked(
            kind,
            Some("[[fault]]\nop = \"catalog.reserve\"\nkind = \"hang\"\n"),
        )
        .await;

        let started = Instant::now();
        let reply = shop.post("/orders", &two_mugs()).await.expect("answers");
        let waited = started.elapsed();
        assert_eq!(reply.status, 504, "{kind:?}: {}", reply.body);
        assert_eq!(reply.error_code(), Some("timeout"));
        assert!(waited < Duration::from_secs(6), "{kind:?} took {waited:?}");

        assert_consistent(&shop).await;
        let order = shop.get("/audit/orders/1").await.expect("answers").body;
        assert_eq!(order["status"], "failed", "{kind:?}: {order}");
        assert_eq!(
            (
                order["charged_cents"].as_i64(),
                order["reserved_units"].as_i64()
            ),
            (Some(0), Some(0))
        );
        let failure = shop.get("/orders/1").await.expect("answers").body;
        assert_eq!(failure["failure"], "timeout", "{kind:?}: {failure}");
        deployment.stop().await;
    }
}

#[tokio::test]
async fn other_components_keep_answering_while_the_orders_service_is_down() {
    let stocked = Stocked::micro().await;
    let (deployment, shop) = (&stocked.deployment, &stocked.shop);

    deployment
        .hold_down("shoplab-orders")
        .await
        .expect("orders can be killed and kept down");
    let order = stocked.order_two_mugs().await;
    assert_eq!(order.status, 503, "{}", order.body);
    // The blast radius of one service: only its own routes fail.
    assert_eq!(shop.get("/users/1").await.expect("answers").status, 200);
    assert_eq!(shop.get("/products").await.expect("answers").status, 200);
    assert_eq!(
        shop.get("/users/1/wallet").await.expect("answers").status,
        200
    );
    deployment
        .release("shoplab-orders")
        .await
        .expect("orders comes back");
    stocked.end_consistent().await;
}

/// In the monolith every write takes the one database's write lock. One
/// order hung inside its transaction (a fault plan's hang in
/// `catalog.reserve`) holds that lock until its deadline: every write behind
/// it waits no longer than its own deadline, and is answered 201/200 or
/// 504 — never 500.
#[tokio::test]
async fn a_monolith_write_that_cannot_get_the_database_in_time_is_a_504_never_a_500() {
    let Stocked {
        deployment,
        shop,
        scratch: _scratch,
    } = stocked(
        Kind::Monolith,
        Some("[[fault]]\nop = \"catalog.reserve\"\nkind = \"hang\"\n"),
    )
    .await;

    let hung = tokio::spawn({
        let shop = shop.clone();
        async move { shop.post("/orders", &two_mugs()).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut behind = Vec::new();
    for _ in 0..4 {
        let (orders, deposits) = (shop.clone(), shop.clone());
        behind.push(tokio::spawn(async move {
            orders.post("/orders", &two_mugs()).await
        }));
        behind.push(tokio::spawn(async move {
            let deposit = json!({"amount_cents": 100});
            deposits.post("/users/1/wallet/deposit", &deposit).await
        }));
    }
    let started = Instant::now();
    let mut statuses = vec![hung.await.expect("ran").expect("answered").status];
    for write in behind {
        statuses.push(write.await.expect("ran").expect("answered").status);
    }
    assert!(
        statuses
            .iter()
            .all(|status| [200, 201, 504].contains(status)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&504),
        "the hung order is a timeout: {statuses:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "took {:?}",
        started.elapsed()
    );
    deployment.stop().await;
}

/// Sends `count` orders of two mugs at once and returns each answer's
/// status, error code and time.
async fn orders_at_once(shop: &ShopClient, count: usize) -> Vec<(u16, String, Duration)> {
    let mut sent = tokio::task::JoinSet::new();
    for _ in 0..count {
        let shop = shop.clone();
        sent.spawn(async move {
            let reply = shop
                .post("/orders", &two_mugs())
                .await
                .expect("the gateway answers");
            let code = reply.error_code().unwrap_or_default().to_owned();
            (reply.status, code, reply.elapsed)
        });
    }
    sent.join_all().await
}

#[tokio::test]
async fn a_frozen_payments_service_is_failed_fast_once_its_circuit_opens_and_rejoins_after_the_thaw(
) {
    let stocked = Stocked::micro().await;
    let shop = &stocked.shop;
    stocked.freeze("shoplab-payments");
    // Five orders at once (all ten mugs): each charge waits its call
    // timeout (1 s), far less than the request's 5 s deadline, and five
    // timeouts in a row open the circuit.
    for (status, code, took) in orders_at_once(shop, 5).await {
        assert!(
            status == 504 || status == 503,
            "{status} {code} after {took:?}"
        );
        assert!(
            took < Duration::from_millis(2500),
            "{status} after {took:?}"
        );
    }
    // The circuit is open: an order fails at once, its charge never sent.
    // (If the five took longer than the cool-down, 1 s, to answer, the
    // circuit is half-open by now and this order's charge is a trial: it
    // waits out its 1 s, 504, and the circuit opens again at once.)
    let mut reply = stocked.order_two_mugs().await;
    if reply.status == 504 {
        reply = stocked.order_two_mugs().await;
    }
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.error_code(), Some("service_unavailable"));
    assert!(
        reply.elapsed < Duration::from_millis(500),
        "an open circuit answers at once, not after {:?}",
        reply.elapsed
    );

    stocked.thaw("shoplab-payments");
    // After the cool-down (1 s), an order's charge goes through as a trial:
    // it succeeds, and the circuit closes once three have.
    let thawed = Instant::now();
    loop {
        let reply = stocked.order_two_mugs().await;
        if reply.status == 201 {
            break;
        }
        assert!(
            thawed.elapsed() < Duration::from_secs(3),
            "orders still fail 3 s after the thaw: {} {}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stocked.end_consistent().await;
}
