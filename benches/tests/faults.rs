//! What the microservices do when a service they need is down or hangs: real
//! processes made to fail (`hold_down` SIGKILLs a service and keeps its
//! supervisor from starting it again; SIGSTOP leaves its port open but makes
//! it answer nothing). API.md: the caller gets 503 or 504,
//! never a hang or a 500, and a failed request takes no stock and no money.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::{json, Value};
use shoplab::client::ShopClient;
use shoplab::deploy::{Deployment, Kind, Options, Storage};

async fn microservices(scratch: &Path) -> Deployment {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_shoplab"))
        .parent()
        .expect("a binary lives in a directory")
        .to_path_buf();
    let options = Options::new(Kind::Micro, bin_dir, Storage::Sqlite(scratch.to_path_buf()));
    Deployment::start(&options)
        .await
        .expect("the microservices start on fresh SQLite files")
}

/// Ada with 50.00 in her wallet, and 10 mugs at 12.50.
async fn stock_the_shop(shop: &ShopClient) {
    let steps = [
        (
            "/users",
            json!({"name": "Ada", "email": "ada@example.com"}),
            201,
        ),
        (
            "/products",
            json!({"name": "Mug", "price_cents": 1250, "stock": 10}),
            201,
        ),
        (
            "/users/1/wallet/deposit",
            json!({"amount_cents": 5000}),
            200,
        ),
    ];
    for (path, body, status) in steps {
        let reply = shop.post(path, &body).await.expect("the shop answers");
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
    }
}

fn two_mugs() -> Value {
    json!({"user_id": 1, "items": [{"product_id": 1, "quantity": 2}]})
}

async fn figure(shop: &ShopClient, path: &str, field: &str) -> i64 {
    let reply = shop.get(path).await.expect("the shop answers");
    reply.body[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{path} has no {field}: {}", reply.body))
}

#[tokio::test]
async fn an_order_fails_cleanly_when_the_payments_service_is_down() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = microservices(scratch.path()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;

    deployment
        .hold_down("shoplab-payments")
        .await
        .expect("payments can be killed and kept down");
    let reply = shop
        .post("/orders", &two_mugs())
        .await
        .expect("the gateway answers");
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.error_code(), Some("service_unavailable"));

    // The saga released the stock it had reserved, and kept the order as failed.
    assert_eq!(figure(&shop, "/products/1", "stock").await, 10);
    let orders = shop.get("/users/1/orders").await.expect("orders answers");
    assert_eq!(orders.body[0]["status"], "failed", "{}", orders.body);
    assert_eq!(orders.body[0]["failure"], "service_unavailable");
    assert_eq!(orders.body[0]["total_cents"], 2500);

    let health = shop.get("/health").await.expect("the gateway answers");
    assert_eq!(health.status, 503);
    let message = health.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("payments"), "{message}");
    deployment.stop().await;
}

#[tokio::test]
async fn a_hung_catalog_is_a_timeout_not_a_hang_and_keeps_no_order() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = microservices(scratch.path()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;

    deployment
        .signal("shoplab-catalog", Signal::SIGSTOP)
        .expect("the catalog can be stopped");
    let started = Instant::now();
    let reply = shop
        .post("/orders", &two_mugs())
        .await
        .expect("the gateway answers");
    let waited = started.elapsed();
    deployment
        .signal("shoplab-catalog", Signal::SIGCONT)
        .expect("the catalog can be resumed");

    assert_eq!(reply.status, 504, "{}", reply.body);
    assert_eq!(reply.error_code(), Some("timeout"));
    // One deadline (5 s by default) for the whole request: the orders
    // service gives up when it passes, and the gateway a moment later.
    assert!(waited < Duration::from_secs(6), "took {waited:?}");
    // Nothing was priced, so nothing was kept and nothing charged.
    assert_eq!(
        figure(&shop, "/users/1/wallet", "balance_cents").await,
        5000
    );
    let orders = shop.get("/users/1/orders").await.expect("orders answers");
    assert_eq!(orders.body, json!([]));
    deployment.stop().await;
}

#[tokio::test]
async fn other_components_keep_answering_while_the_orders_service_is_down() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = microservices(scratch.path()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;

    deployment
        .hold_down("shoplab-orders")
        .await
        .expect("orders can be killed and kept down");
    let order = shop
        .post("/orders", &two_mugs())
        .await
        .expect("the gateway answers");
    assert_eq!(order.status, 503, "{}", order.body);
    // The blast radius of one service: only its own routes fail.
    assert_eq!(shop.get("/users/1").await.expect("answers").status, 200);
    assert_eq!(shop.get("/products").await.expect("answers").status, 200);
    assert_eq!(
        shop.get("/users/1/wallet").await.expect("answers").status,
        200
    );
    deployment.stop().await;
}
