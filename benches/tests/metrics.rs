//! `/metrics` on real deployments: every process serves Prometheus's text
//! format on an address of its own (never on the public API), counts
//! exactly the requests it served by route template, and reports its
//! component calls under the same names in the monolith (function calls)
//! and in the microservices (HTTP calls), with the orders and sagas they
//! ended in.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use shoplab::client::ShopClient;
use shoplab::deployment::{Deployment, Kind, Options, Storage};
use shoplab::prometheus::targets;

mod exposition;
mod mugs;

use exposition::{scrape, Scrape};
use mugs::{bin_dir, stock_the_shop, two_mugs};

/// A running deployment and the scratch directory its databases live in
/// (removed when this is dropped).
struct Running {
    deployment: Deployment,
    shop: ShopClient,
    _scratch: tempfile::TempDir,
}

impl Running {
    async fn stop(self) {
        self.deployment.stop().await;
    }
}

/// A deployment of `kind` on fresh SQLite files, every process with a
/// metrics endpoint, and the small shop in it.
async fn start(kind: Kind) -> Running {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let mut options = Options::new(
        kind,
        bin_dir(),
        Storage::Sqlite(scratch.path().join("data")),
    );
    options.metrics = true;
    let deployment = Deployment::start(&options)
        .await
        .expect("the deployment starts with metrics");
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    Running {
        deployment,
        shop,
        _scratch: scratch,
    }
}

/// The metrics URL of the process started from `binary`.
fn metrics_of(deployment: &Deployment, binary: &str) -> String {
    targets(deployment)
        .into_iter()
        .find(|target| target.process == binary)
        .unwrap_or_else(|| panic!("{binary} has no metrics endpoint"))
        .url()
}

const READS: usize = 7;
const PRODUCT_READ: [(&str, &str); 3] = [
    ("route", "/products/{id}"),
    ("method", "GET"),
    ("status", "200"),
];

/// Sends [`READS`] product reads, and checks that each process in `serving`
/// counted exactly that many, under the route's template; that a path no
/// route has is counted as `unmatched`; and that every process's endpoint
/// parses.
async fn product_reads_are_counted_by(kind: Kind, serving: &[&str]) -> Running {
    let running = start(kind).await;
    let (deployment, shop) = (&running.deployment, &running.shop);
    let every = targets(deployment);
    assert_eq!(every.len(), deployment.process_count(), "{every:?}");

    let mut before = Vec::new();
    for process in serving {
        before.push(scrape(&metrics_of(deployment, process)).await);
    }
    for _ in 0..READS {
        let reply = shop.get("/products/1").await.expect("the shop answers");
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let unknown = shop
        .get("/no/such/path/42")
        .await
        .expect("the shop answers");
    assert_eq!(unknown.status, 404);

    for (process, before) in serving.iter().zip(&before) {
        let after = scrape(&metrics_of(deployment, process)).await;
        let counted = after.value("shoplab_http_requests_total", &PRODUCT_READ)
            - before.value("shoplab_http_requests_total", &PRODUCT_READ);
        let requests: Vec<_> = after.matching("shoplab_http_requests_total", &[]).collect();
        assert_eq!(counted, READS as f64, "{process}: {requests:#?}");
        let timed = [("route", "/products/{id}"), ("method", "GET")];
        let durations = after.value("shoplab_http_request_duration_seconds_count", &timed)
            - before.value("shoplab_http_request_duration_seconds_count", &timed);
        assert_eq!(durations, READS as f64, "{process}");
        assert_eq!(
            after
                .types
                .get("shoplab_http_request_duration_seconds")
                .map(String::as_str),
            Some("histogram"),
            "{process}: a histogram with buckets, not a summary"
        );
        assert!(
            !after.has("shoplab_http_requests_total", &[("route", "/products/1")]),
            "{process}: a route label holds a path, not its template"
        );
    }
    let front = scrape(&metrics_of(deployment, serving[0])).await;
    assert_eq!(
        front.value(
            "shoplab_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        1.0,
        "an unknown path is counted under one label value"
    );
    for target in every {
        scrape(&target.url()).await;
    }
    // The public API is API.md's alone: /metrics is not a route of it.
    let public = shop.get("/metrics").await.expect("the shop answers");
    assert_eq!(public.status, 404);
    assert_eq!(public.error_code(), Some("not_found"));
    running
}

#[tokio::test]
async fn the_monolith_counts_exactly_the_product_reads_it_served() {
    let running = product_reads_are_counted_by(Kind::Monolith, &["shoplab-monolith"]).await;
    running.stop().await;
}

#[tokio::test]
async fn the_gateway_and_the_catalog_each_count_exactly_the_product_reads_they_served() {
    let running =
        product_reads_are_counted_by(Kind::Micro, &["shoplab-gateway", "shoplab-catalog"]).await;
    let deployment = &running.deployment;
    // Restarted, a process serves its metrics at the address Prometheus was
    // given: the supervisor keeps it, as it keeps the public one.
    let catalog = metrics_of(deployment, "shoplab-catalog");
    deployment
        .signal("shoplab-catalog", nix::sys::signal::Signal::SIGKILL)
        .expect("the catalog can be killed");
    let deadline = Instant::now() + Duration::from_secs(10);
    let fresh = loop {
        if let Ok(response) = reqwest::get(&catalog).await {
            let restarted = deployment
                .members()
                .iter()
                .any(|member| member.name == "shoplab-catalog" && member.restarts == 1);
            if response.status() == 200 && restarted {
                break scrape(&catalog).await;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the catalog's metrics did not come back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        fresh.value("shoplab_http_requests_total", &PRODUCT_READ),
        0.0,
        "a new process counts from zero"
    );
    running.stop().await;
}

/// Places one order that completes and one refused for stock, then scrapes
/// the process whose code made the component calls.
async fn orders_through(kind: Kind, caller: &str) -> (Scrape, Running) {
    let running = start(kind).await;
    let shop = &running.shop;
    let placed = shop.post("/orders", &two_mugs()).await.expect("answers");
    assert_eq!(placed.status, 201, "{}", placed.body);
    let too_many = json!({"user_id": 1, "items": [{"product_id": 1, "quantity": 99}]});
    let refused = shop.post("/orders", &too_many).await.expect("answers");
    assert_eq!(
        refused.error_code(),
        Some("insufficient_stock"),
        "{}",
        refused.body
    );
    let scraped = scrape(&metrics_of(&running.deployment, caller)).await;
    (scraped, running)
}

fn calls(scrape: &Scrape, component: &str, operation: &str, outcome: &str) -> f64 {
    scrape.value(
        "shoplab_component_calls_total",
        &[
            ("component", component),
            ("operation", operation),
            ("outcome", outcome),
        ],
    )
}

#[tokio::test]
async fn component_calls_and_orders_carry_the_same_names_in_both_deployments() {
    let (monolith, in_process) = orders_through(Kind::Monolith, "shoplab-monolith").await;
    in_process.stop().await;
    let (services, over_http) = orders_through(Kind::Micro, "shoplab-orders").await;

    for (name, scrape) in [("monolith", &monolith), ("orders service", &services)] {
        // Two quotes, one reservation taken and one refused, one charge.
        assert_eq!(calls(scrape, "catalog", "products", "ok"), 2.0, "{name}");
        assert_eq!(calls(scrape, "catalog", "reserve", "ok"), 1.0, "{name}");
        assert_eq!(
            calls(scrape, "catalog", "reserve", "refused"),
            1.0,
            "{name}"
        );
        assert_eq!(calls(scrape, "payments", "charge", "ok"), 1.0, "{name}");
        let reserve = [("component", "catalog"), ("operation", "reserve")];
        assert_eq!(
            scrape.value("shoplab_component_call_duration_seconds_count", &reserve),
            2.0,
            "{name}"
        );
        assert!(
            scrape.has(
                "shoplab_component_call_duration_seconds_bucket",
                &[("component", "catalog"), ("le", "0.001")]
            ),
            "{name}: buckets of the lab's bounds"
        );
        assert_eq!(
            scrape.value("shoplab_orders_completed_total", &[]),
            1.0,
            "{name}"
        );
        assert_eq!(
            scrape.value(
                "shoplab_orders_failed_total",
                &[("code", "insufficient_stock")]
            ),
            1.0,
            "{name}"
        );
        assert_eq!(
            scrape.value("shoplab_db_connections_max", &[]),
            8.0,
            "{name}"
        );
        assert!(
            scrape.value("shoplab_db_connection_waits_total", &[("outcome", "ok")]) > 0.0,
            "{name}"
        );
        assert!(
            scrape.has("shoplab_db_connection_wait_seconds_count", &[]),
            "{name}"
        );
        assert!(scrape.has("shoplab_blocking_threads_busy", &[]), "{name}");
    }
    // One query fits both: the same families, with the same labels.
    assert_eq!(
        monolith.shapes("shoplab_component_"),
        services.shapes("shoplab_component_")
    );
    assert_eq!(
        monolith.shapes("shoplab_orders_"),
        services.shapes("shoplab_orders_")
    );

    // The saga's own: the refused order was undone at its reservation, and
    // the recovery loop reports (after its next pass) nothing in flight.
    let orders = metrics_of(&over_http.deployment, "shoplab-orders");
    assert_eq!(
        services.value("shoplab_saga_compensations_total", &[("step", "reserve")]),
        1.0
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = scrape(&orders).await;
        if now.has("shoplab_sagas_in_flight", &[]) {
            assert_eq!(now.value("shoplab_sagas_in_flight", &[]), 0.0);
            break;
        }
        assert!(Instant::now() < deadline, "no shoplab_sagas_in_flight");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !monolith.has("shoplab_sagas_in_flight", &[]),
        "no sagas in the monolith"
    );
    over_http.stop().await;
}
