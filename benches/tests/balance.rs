//! Replicas behind a load balancer, as real processes: the gateway routes
//! around a catalog replica that was killed, several monoliths share one
//! database behind the gateway, and the orders service is replaced replica
//! by replica while orders keep coming, losing none.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use shoplab::client::ShopClient;
use shoplab::deployment::{Deployment, Kind, Options, ReplicaCounts, Storage};
use tokio::sync::Mutex;

mod mugs;

use mugs::bin_dir;

async fn start(kind: Kind, replicas: ReplicaCounts, storage: Storage) -> Deployment {
    let mut options = Options::new(kind, bin_dir(), storage);
    options.replicas = replicas;
    Deployment::start(&options)
        .await
        .expect("the deployment starts")
}

fn sqlite(scratch: &tempfile::TempDir) -> Storage {
    Storage::Sqlite(scratch.path().join("data"))
}

/// Creates a product with `stock` units at 1.00, and user 1 with `cents`.
async fn stock(shop: &ShopClient, stock: i64, cents: i64) {
    let steps = [
        (
            "/users",
            json!({"name": "Ada", "email": "ada@example.com"}),
            201,
        ),
        (
            "/products",
            json!({"name": "Mug", "price_cents": 100, "stock": stock}),
            201,
        ),
        (
            "/users/1/wallet/deposit",
            json!({"amount_cents": cents}),
            200,
        ),
    ];
    for (path, body, status) in steps {
        let reply = shop.post(path, &body).await.expect("the shop answers");
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
    }
}

/// When a request failed, after the start of the run, and how.
type Failures = Arc<Mutex<Vec<(Duration, String)>>>;

/// `workers` loops reading `/products/1` until `until`, recording every
/// answer that is not 200. Returns how many reads were answered 200.
async fn read_until(
    shop: &ShopClient,
    workers: usize,
    started: Instant,
    until: Instant,
    failures: &Failures,
) -> usize {
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (shop, failures) = (shop.clone(), Arc::clone(failures));
        loops.spawn(async move {
            let mut ok = 0;
            while Instant::now() < until {
                match shop.get("/products/1").await {
                    Ok(reply) if reply.status == 200 => ok += 1,
                    Ok(reply) => failures.lock().await.push((
                        started.elapsed(),
                        format!("{} {}", reply.status, reply.body),
                    )),
                    Err(error) => failures
                        .lock()
                        .await
                        .push((started.elapsed(), error.to_string())),
                }
            }
            ok
        });
    }
    let mut ok = 0;
    while let Some(done) = loops.join_next().await {
        ok += done.expect("a reader ran");
    }
    ok
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_catalog_replica_costs_at_most_the_reads_in_flight_and_none_once_noticed() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = start(
        Kind::Micro,
        ReplicaCounts::of_part("catalog", 3),
        sqlite(&scratch),
    )
    .await;
    let replicas = deployment.replicas_of("shoplab-catalog");
    assert_eq!(replicas.len(), 3, "{replicas:?}");
    let shop = ShopClient::new(&deployment.base_url);
    stock(&shop, 10, 1).await;

    let failures: Failures = Arc::default();
    let started = Instant::now();
    let readers = read_until(
        &shop,
        4,
        started,
        started + Duration::from_secs(4),
        &failures,
    );
    let killer = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        deployment
            .hold_down(&replicas[1])
            .await
            .expect("the replica is killed and kept down");
        started.elapsed()
    };
    let (ok, killed_at) = tokio::join!(readers, killer);
    let failures = failures.lock().await.clone();
    eprintln!("{ok} reads answered 200; failed: {failures:?}; killed at {killed_at:?}");
    // A read in flight on the killed replica may fail; none after the
    // balancer noticed (a refused connection marks it at once; the health
    // check every 250 ms does too): a second is ample.
    assert!(
        failures.len() <= 4,
        "more failed reads than readers: {failures:?}"
    );
    let late: Vec<_> = failures
        .iter()
        .filter(|(at, _)| *at > killed_at + Duration::from_secs(1))
        .collect();
    assert!(
        late.is_empty(),
        "reads failed after the kill was noticed: {late:?}"
    );
    assert!(ok > 100, "the reads went on: {ok}");
    let health = shop.get("/health").await.expect("the gateway answers");
    assert_eq!(
        health.status, 200,
        "two catalog replicas are healthy: {}",
        health.body
    );
    deployment.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_fronts_monolith_replicas_on_sqlite() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    monoliths_share_one_database(sqlite(&scratch)).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: SHOPLAB_TEST_PG=postgres://USER@HOST:PORT/NAME, --include-ignored"]
async fn the_gateway_fronts_monolith_replicas_on_postgres() {
    let Ok(url) = std::env::var("SHOPLAB_TEST_PG") else {
        panic!("SHOPLAB_TEST_PG is not set: this test needs PostgreSQL");
    };
    let name = format!("shoplab_balance_{}", std::process::id());
    let database = shoplab::postgres::with_database(&url, &name).expect("a database URL");
    let _dropped = DropDatabase(database.clone());
    monoliths_share_one_database(Storage::Postgres(database)).await;
}

/// Drops the test's PostgreSQL database when the test ends, passed or
/// failed, so that no run leaves one behind.
struct DropDatabase(String);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        if let Err(error) = shoplab::postgres::drop_database(&self.0) {
            eprintln!("cannot drop the test database {}: {error:#}", self.0);
        }
    }
}

/// Two monoliths behind the gateway: what one writes the other reads, and
/// with one of them down the shop still takes orders.
async fn monoliths_share_one_database(storage: Storage) {
    let deployment = start(Kind::Monolith, ReplicaCounts::every(2), storage).await;
    let monoliths = deployment.replicas_of("shoplab-monolith");
    assert_eq!(monoliths.len(), 2, "{monoliths:?}");
    let shop = ShopClient::new(&deployment.base_url);
    stock(&shop, 10, 1000).await;
    for name in &monoliths {
        let url = deployment.url_of(name).expect("a replica's URL");
        let product = ShopClient::new(url)
            .get("/products/1")
            .await
            .expect("answers");
        assert_eq!(
            product.body["stock"], 10,
            "{name} reads the shared database"
        );
    }
    deployment
        .hold_down(&monoliths[0])
        .await
        .expect("one monolith is down");
    let order = json!({"user_id": 1, "items": [{"product_id": 1, "quantity": 2}]});
    for key in ["first", "second"] {
        let placed = shop
            .send(
                Method::POST,
                "/orders",
                Some(&order),
                &[("Idempotency-Key", key)],
            )
            .await
            .expect("answers");
        assert_eq!(placed.status, 201, "{}", placed.body);
    }
    let audit = shop.get("/audit").await.expect("answers");
    assert_eq!(
        audit.status, 200,
        "/audit is passed through: {}",
        audit.body
    );
    assert_eq!(audit.body["stock_units"], 6, "{}", audit.body);
    assert_eq!(audit.body["paid_cents"], 400, "{}", audit.body);
    deployment.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rolling_the_orders_service_under_load_loses_no_order() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = start(
        Kind::Micro,
        ReplicaCounts::of_part("orders", 2),
        sqlite(&scratch),
    )
    .await;
    let shop = ShopClient::new(&deployment.base_url);
    const STOCK: i64 = 100_000;
    const DEPOSITED: i64 = 10_000_000;
    stock(&shop, STOCK, DEPOSITED).await;

    let rolling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..4 {
        let (shop, rolling) = (shop.clone(), Arc::clone(&rolling));
        clients.spawn(async move {
            let mut answers: Vec<(u16, Value)> = Vec::new();
            let mut number = 0;
            while rolling.load(std::sync::atomic::Ordering::Relaxed) {
                number += 1;
                let key = format!("client-{client}-order-{number}");
                let order = json!({"user_id": 1, "items": [{"product_id": 1, "quantity": 1}]});
                let reply = shop
                    .send(
                        Method::POST,
                        "/orders",
                        Some(&order),
                        &[("Idempotency-Key", &key)],
                    )
                    .await
                    .expect("the gateway answers");
                answers.push((reply.status, reply.body));
            }
            answers
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for name in deployment.replicas_of("shoplab-orders") {
        deployment
            .replace(&name)
            .await
            .expect("the replica is replaced");
        // Time for the balancers to take it back before the next one goes.
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    rolling.store(false, std::sync::atomic::Ordering::Relaxed);
    let mut placed = Vec::new();
    while let Some(answers) = clients.join_next().await {
        for (status, body) in answers.expect("a client ran") {
            assert_eq!(status, 201, "every order placed during the roll: {body}");
            placed.push(body["id"].as_i64().expect("an order id"));
        }
    }
    assert!(placed.len() > 20, "orders kept coming: {}", placed.len());
    let restarts: u32 = deployment
        .members()
        .iter()
        .filter(|member| member.name.starts_with("shoplab-orders"))
        .map(|member| member.restarts)
        .sum();
    assert_eq!(restarts, 2, "both orders replicas were replaced");
    for id in &placed {
        let order = shop.get(&format!("/orders/{id}")).await.expect("answers");
        assert_eq!(
            order.body["status"], "completed",
            "order {id}: {}",
            order.body
        );
    }
    let audit = shop.get("/audit").await.expect("answers").body;
    let sold = placed.len() as i64;
    assert_eq!(audit["orders"]["pending"], 0, "{audit}");
    assert_eq!(audit["stock_units"], STOCK - sold, "{audit}");
    assert_eq!(audit["paid_cents"], sold * 100, "{audit}");
    assert_eq!(audit["wallet_cents"], DEPOSITED - sold * 100, "{audit}");
    deployment.stop().await;
}
