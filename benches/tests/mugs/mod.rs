//! The small shop the fault and saga tests start from — Ada with 50.00 in
//! her wallet, ten mugs at 12.50, an order of two — and the check they all
//! end with: API.md's invariants once nothing is in flight.
//!
//! Shared by `tests/faults.rs`, `tests/saga.rs` and `tests/fencing.rs`
//! (`mod mugs;`); each uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::{json, Value};
use shoplab::client::{Reply, ShopClient};
use shoplab::deployment::{Deployment, Kind, Options, Storage};

/// Where cargo put the deployments' binaries, beside `shoplab`'s.
pub fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_shoplab"))
        .parent()
        .expect("a binary lives in a directory")
        .to_path_buf()
}

/// A deployment on fresh SQLite files under `scratch`, with a fault plan if
/// given.
pub async fn start(kind: Kind, scratch: &Path, fault_plan: Option<&Path>) -> Deployment {
    let mut options = Options::new(kind, bin_dir(), Storage::Sqlite(scratch.join("data")));
    options.fault_plan = fault_plan.map(Path::to_path_buf);
    Deployment::start(&options)
        .await
        .expect("the deployment starts on fresh SQLite files")
}

/// Fresh PostgreSQL databases for one deployment of `kind`, on the server
/// `SHOPLAB_TEST_PG` names (a test using this is `#[ignore]`d), dropped when
/// this is, whether the test passed or not.
pub struct ScratchPostgres {
    pub storage: Storage,
    kind: Kind,
}

impl ScratchPostgres {
    pub fn new(kind: Kind) -> Self {
        let Ok(server) = std::env::var("SHOPLAB_TEST_PG") else {
            panic!("SHOPLAB_TEST_PG is not set: this test needs PostgreSQL (postgres://USER@HOST:PORT/NAME)");
        };
        let name = format!("shoplab_t_{}", uuid::Uuid::new_v4().simple());
        let url = shoplab::postgres::with_database(&server, &name).expect("a valid server URL");
        Self {
            storage: Storage::Postgres(url),
            kind,
        }
    }
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        let urls = self.storage.urls(self.kind).unwrap_or_default();
        for url in urls {
            if let Err(error) = shoplab::postgres::drop_database(&url) {
                eprintln!("cannot drop the test database {url}: {error:#}");
            }
        }
    }
}

/// A running deployment with the small shop in it, and the scratch
/// directory its databases live in (removed when this is dropped, so keep it
/// bound for as long as the deployment runs).
pub struct Stocked {
    pub deployment: Deployment,
    pub shop: ShopClient,
    pub scratch: tempfile::TempDir,
}

/// A fresh deployment of `kind` — under `fault_plan` (a plan's TOML text) if
/// given — with Ada, her 50.00 and the ten mugs in it.
pub async fn stocked(kind: Kind, fault_plan: Option<&str>) -> Stocked {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let plan = fault_plan.map(|text| {
        let path = scratch.path().join("plan.toml");
        std::fs::write(&path, text).expect("the plan is written");
        path
    });
    let deployment = start(kind, scratch.path(), plan.as_deref()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    Stocked {
        deployment,
        shop,
        scratch,
    }
}

impl Stocked {
    /// A fresh microservices deployment with the small shop in it, under no
    /// fault plan: how most fault and saga tests begin.
    pub async fn micro() -> Self {
        stocked(Kind::Micro, None).await
    }

    /// Ada's order of two mugs, sent to the deployment's front door.
    pub async fn order_two_mugs(&self) -> Reply {
        self.shop
            .post("/orders", &two_mugs())
            .await
            .expect("the front door answers")
    }

    /// Freezes `process` (SIGSTOP): its port stays open, it answers nothing.
    pub fn freeze(&self, process: &str) {
        self.deployment
            .signal(process, Signal::SIGSTOP)
            .unwrap_or_else(|error| panic!("cannot freeze {process}: {error:#}"));
    }

    /// Lets a frozen `process` go on (SIGCONT).
    pub fn thaw(&self, process: &str) {
        self.deployment
            .signal(process, Signal::SIGCONT)
            .unwrap_or_else(|error| panic!("cannot thaw {process}: {error:#}"));
    }

    /// How every such test ends: API.md's invariants hold once nothing is
    /// in flight, then every process is stopped.
    pub async fn end_consistent(self) {
        assert_consistent(&self.shop).await;
        self.deployment.stop().await;
    }
}

/// The answer to a request sent in a task of its own: the task ran and the
/// front door answered.
pub async fn answered(request: tokio::task::JoinHandle<anyhow::Result<Reply>>) -> Reply {
    request
        .await
        .expect("the request's task ran")
        .expect("the front door answers")
}

/// `answer` tells its caller that `what` did not complete: a 502, 503 or
/// 504, never a success or a 500.
pub fn assert_told_it_did_not_complete(answer: &Reply, what: &str) {
    assert!(
        matches!(answer.status, 502..=504),
        "the caller learns {what} did not complete: {} {}",
        answer.status,
        answer.body
    );
}

pub const DEPOSITED: i64 = 5000;
pub const MUGS: i64 = 10;

/// Ada (user 1) with 50.00 in her wallet, and 10 mugs (product 1) at 12.50.
pub async fn stock_the_shop(shop: &ShopClient) {
    let steps = [
        (
            "/users",
            json!({"name": "Ada", "email": "ada@example.com"}),
            201,
        ),
        (
            "/products",
            json!({"name": "Mug", "price_cents": 1250, "stock": MUGS}),
            201,
        ),
        (
            "/users/1/wallet/deposit",
            json!({"amount_cents": DEPOSITED}),
            200,
        ),
    ];
    for (path, body, status) in steps {
        let reply = shop.post(path, &body).await.expect("the shop answers");
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
    }
}

/// Ada's order of two mugs (25.00).
pub fn two_mugs() -> Value {
    json!({"user_id": 1, "items": [{"product_id": 1, "quantity": 2}]})
}

/// A `200` answer's body.
pub async fn get(shop: &ShopClient, path: &str) -> Value {
    let reply = shop.get(path).await.expect("the shop answers");
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.body
}

/// `/audit` once no order is `pending` (20 s at most: a saga settles
/// within a few seconds of its last failure).
pub async fn settled(shop: &ShopClient) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(reply) = shop.get("/audit").await {
            if reply.status == 200 && reply.body["orders"]["pending"] == 0 {
                return reply.body;
            }
        }
        assert!(
            Instant::now() < deadline,
            "an order stayed pending for 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// API.md's invariants once nothing is in flight: no order `pending` (after
/// a bounded wait for a saga to settle), the money deposited all in the
/// wallet or paid, the mugs all in stock or in completed orders.
pub async fn assert_consistent(shop: &ShopClient) {
    let audit = settled(shop).await;
    let figure = |name: &str| audit[name].as_i64().unwrap_or(i64::MIN);
    assert_eq!(
        figure("wallet_cents") + figure("paid_cents"),
        DEPOSITED,
        "{audit}"
    );
    let orders = get(shop, "/users/1/orders").await;
    let completed_units: i64 = orders
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|order| order["status"] == "completed")
        .map(|order| order["items"][0]["quantity"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(figure("stock_units") + completed_units, MUGS, "{audit}");
}

/// Order 1 ended `failed` holding nothing: no money charged, no stock held,
/// the wallet and the stock as they were.
pub async fn assert_order_one_failed_holding_nothing(shop: &ShopClient) {
    let order = get(shop, "/audit/orders/1").await;
    assert_eq!(order["status"], "failed", "{order}");
    assert_eq!(order["charged_cents"], 0, "{order}");
    assert_eq!(order["reserved_units"], 0, "{order}");
    assert_eq!(
        get(shop, "/users/1/wallet").await["balance_cents"],
        DEPOSITED
    );
    assert_eq!(get(shop, "/products/1").await["stock"], MUGS);
}
