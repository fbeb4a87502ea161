//! What every bench needs: the shop's servers started inside the bench
//! process, from the crates' own library entry points (each crate's
//! `build`), so `cargo bench` runs from a fresh clone with nothing started by
//! hand and no binary built first; and a small data set to work on.
//!
//! Each server runs on a thread of its own with its own actix runtime, bound
//! to a free loopback port, on SQLite files in one temporary directory. They
//! run until the bench process exits.

// Each bench binary compiles this module and uses a part of it.
#![allow(dead_code)]

pub mod calls;

use std::time::Duration;

use actix_web::{App, HttpServer};
use criterion::Criterion;
use serde_json::{json, Value};
use shoplab_common::db::DatabaseUrl;
use shoplab_gateway::{Behind, Services, Upstreams};
use shoplab_http::server::Application;
use shoplab_http::Budget;
use shoplab_service::balance::{HealthArgs, Replicas};
use shoplab_service::client::Peers;
use shoplab_service::guard::GuardArgs;
use shoplab_service::{CallArgs, HopDelay, ServiceArgs};

/// Every bench's criterion settings: enough samples for a stable median in
/// a few seconds per benchmark, so `cargo bench` stays a coffee break.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// Every deployment's base URL, and where the monolith keeps its data.
pub struct Shop {
    pub monolith: String,
    pub monolith_database: DatabaseUrl,
    pub gateway: String,
    pub users: String,
    pub catalog: String,
    pub payments: String,
    /// The floor's bare `/echo` (see `src/floor.rs`).
    pub floor: String,
    _scratch: tempfile::TempDir,
}

/// Starts the monolith, the four services, the gateway and the floor.
pub fn start() -> Shop {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let database = |name: &str| DatabaseUrl::sqlite_in(scratch.path(), name);
    let service = |name: &str| ServiceArgs {
        addr: "127.0.0.1:0".into(),
        database_url: Some(database(name)),
        settings: Default::default(),
    };
    let monolith_database = database("monolith");
    let monolith = serve(
        shoplab_monolith::build("127.0.0.1:0", &monolith_database, &Default::default())
            .expect("the monolith builds"),
    );
    let users = serve(shoplab_users::build(service("users")).expect("users builds"));
    let catalog = serve(shoplab_catalog::build(service("catalog")).expect("catalog builds"));
    let calls = CallArgs::default();
    let payments = serve(
        shoplab_payments::build(
            service("payments"),
            Peers {
                users: Some(Replicas::one("users", users.clone())),
                ..Peers::default()
            },
            &calls,
        )
        .expect("payments builds"),
    );
    let orders = serve(
        shoplab_orders::build(
            service("orders"),
            Peers {
                users: Some(Replicas::one("users", users.clone())),
                catalog: Some(Replicas::one("catalog", catalog.clone())),
                payments: Some(Replicas::one("payments", payments.clone())),
            },
            &calls,
            shoplab_orders::Tx::Saga,
            // No bench leaves a saga to recover; a pass of the loop every
            // second would only add to what a counted bench counts.
            shoplab_orders::RecoveryArgs {
                recovery_every_ms: 600_000,
            },
        )
        .expect("orders builds"),
    );
    let upstreams = Upstreams::new(
        Behind::Services(Services::one_each(&users, &catalog, &payments, &orders)),
        Budget::default(),
        HopDelay::NONE,
        HealthArgs::default().interval(),
        GuardArgs::default(),
        shoplab_gateway::EdgeLimits::default(),
    )
    .expect("the gateway's client builds");
    let gateway =
        serve(shoplab_gateway::build("127.0.0.1:0", upstreams).expect("the gateway builds"));
    Shop {
        monolith,
        monolith_database,
        gateway,
        users,
        catalog,
        payments,
        floor: serve_floor(),
        _scratch: scratch,
    }
}

/// Runs `application` on a thread of its own; returns its base URL.
pub fn serve(application: Application) -> String {
    let url = format!("http://127.0.0.1:{}", application.port());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(application.run_until_stopped())
    });
    url
}

/// The floor's routes in a bare app (B needs only `/echo`).
fn serve_floor() -> String {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(|| App::new().configure(shoplab::floor::configure))
                .workers(1)
                .bind("127.0.0.1:0")
                .expect("a free loopback port");
            let _ = sender.send(server.addrs()[0]);
            server.run().await
        })
    });
    let addr = receiver.recv().expect("the floor says where it listens");
    format!("http://{addr}")
}

/// A user with a full wallet and a cheap product with endless stock, created
/// through `base`'s public API: `(user id, product id)`.
pub fn seed(base: &str) -> (i64, i64) {
    let http = reqwest::blocking::Client::new();
    let post = |path: &str, body: Value| -> Value {
        http.post(format!("{base}{path}"))
            .json(&body)
            .send()
            .and_then(|response| response.error_for_status())
            .and_then(|response| response.json())
            .unwrap_or_else(|error| panic!("seeding {path} at {base}: {error}"))
    };
    let product = post(
        "/products",
        json!({"name": "Bench mug", "price_cents": 100, "stock": 1_000_000_000}),
    )["id"]
        .as_i64()
        .expect("a product id");
    let email = format!("bench-{}@example.com", uuid::Uuid::new_v4().simple());
    let user = post("/users", json!({"name": "Bench", "email": email}))["id"]
        .as_i64()
        .expect("a user id");
    post(
        &format!("/users/{user}/wallet/deposit"),
        json!({"amount_cents": 100_000_000}),
    );
    (user, product)
}
