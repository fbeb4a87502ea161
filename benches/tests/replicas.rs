//! Stock and money are guarded by the database, not by a process: two
//! monolith processes on one database, taking orders at once, still sell
//! exactly the stock there is and charge exactly what was sold. (A lock in
//! process memory would pass the single-process contract suite and fail here.)

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::path::Path;

use serde_json::json;
use shoplab::client::ShopClient;
use shoplab::postgres;
use shoplab::process::Process;

fn bin_dir() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_shoplab"))
        .parent()
        .expect("a binary lives in a directory")
}

async fn monolith_on(database_url: &str) -> Process {
    let args = [
        "--addr".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--database-url".to_owned(),
        database_url.to_owned(),
    ];
    Process::spawn(bin_dir(), "shoplab-monolith", &args)
        .await
        .expect("the monolith starts")
}

/// 40 orders of one unit for a stock of 10, sent at once, alternating between
/// two processes on the same database.
async fn two_processes_sell_exactly_the_stock(database_url: &str) {
    let first = monolith_on(database_url).await;
    let second = monolith_on(database_url).await;
    let shops = [ShopClient::new(&first.url), ShopClient::new(&second.url)];

    let mut buyers = Vec::new();
    for buyer in 0..40 {
        let email = format!("buyer{buyer}@example.com");
        let user = shops[0]
            .post("/users", &json!({"name": "Buyer", "email": email}))
            .await
            .expect("users answers");
        assert_eq!(user.status, 201, "{}", user.body);
        let id = user.body["id"].as_i64().expect("a user has an id");
        let deposit = shops[1]
            .post(
                &format!("/users/{id}/wallet/deposit"),
                &json!({"amount_cents": 1000}),
            )
            .await
            .expect("wallets answers");
        assert_eq!(deposit.status, 200, "{}", deposit.body);
        buyers.push(id);
    }
    let product = shops[0]
        .post(
            "/products",
            &json!({"name": "Mug", "price_cents": 1000, "stock": 10}),
        )
        .await
        .expect("products answers");
    let product_id = product.body["id"].as_i64().expect("a product has an id");

    let orders = buyers.iter().enumerate().map(|(index, &user)| {
        let shop = shops[index % 2].clone();
        async move {
            let body =
                json!({"user_id": user, "items": [{"product_id": product_id, "quantity": 1}]});
            shop.post("/orders", &body)
                .await
                .expect("orders answers")
                .status
        }
    });
    let statuses = futures_util::future::join_all(orders).await;
    let sold = statuses.iter().filter(|&&status| status == 201).count();
    let refused = statuses.iter().filter(|&&status| status == 409).count();
    assert_eq!((sold, refused), (10, 30), "statuses: {statuses:?}");

    for shop in &shops {
        let audit = shop.get("/audit").await.expect("audit answers").body;
        assert_eq!(audit["stock_units"], 0, "{audit}");
        assert_eq!(audit["paid_cents"], 10 * 1000, "{audit}");
        assert_eq!(audit["wallet_cents"], 40 * 1000 - 10 * 1000, "{audit}");
        assert_eq!(audit["orders"]["completed"], 10, "{audit}");
    }
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn two_monolith_processes_on_one_sqlite_file_never_oversell() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let url = format!("sqlite://{}", scratch.path().join("shop.db").display());
    two_processes_sell_exactly_the_stock(&url).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: SHOPLAB_TEST_PG=postgres://USER@HOST:PORT/NAME, --include-ignored"]
async fn two_monolith_processes_on_one_postgres_database_never_oversell() {
    let server = std::env::var("SHOPLAB_TEST_PG").expect(
        "SHOPLAB_TEST_PG names the PostgreSQL server this ignored test was asked to run on",
    );
    let name = format!("shoplab_t_{}", uuid::Uuid::new_v4().simple());
    let url = postgres::with_database(&server, &name).expect("a valid server URL");
    let create = url.clone();
    tokio::task::spawn_blocking(move || postgres::ensure_database(&create))
        .await
        .expect("the task runs")
        .expect("a fresh database");
    two_processes_sell_exactly_the_stock(&url).await;
    tokio::task::spawn_blocking(move || postgres::drop_database(&url))
        .await
        .expect("the task runs")
        .expect("the database is dropped");
}
