//! One request, every hop: with hop logs on, an order placed through the
//! gateway with an `X-Request-Id` is found under that id in every process it
//! crossed — the gateway, the orders service, and each service the orders
//! service called — so no hop drops the id on the way (the gateway writes its
//! own id onto the reply, so the reply alone could not show it), and each
//! hop hangs under the one it happened inside. Through the monolith the same
//! order is one request whose component calls are function calls, under the
//! same names. `shoplab trace` draws the tree.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use shoplab::client::ShopClient;
use shoplab::deployment::{Deployment, Kind, Options, Storage};
use shoplab::trace::{hops, Hop};

mod mugs;

use mugs::{bin_dir, stock_the_shop, two_mugs};

async fn start(kind: Kind, scratch: &Path) -> Deployment {
    let mut options = Options::new(kind, bin_dir(), Storage::Sqlite(scratch.join("data")));
    options.log_dir = Some(scratch.join("logs"));
    Deployment::start(&options)
        .await
        .expect("the deployment starts with hop logs")
}

async fn place_with_id(shop: &ShopClient, id: &str) {
    let reply = shop
        .send(
            Method::POST,
            "/orders",
            Some(&two_mugs()),
            &[("x-request-id", id)],
        )
        .await
        .expect("the shop answers");
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.header("x-request-id"), Some(id));
}

/// The hops directly under `parent`, in the order they started.
fn under<'a>(found: &'a [Hop], parent: &Hop) -> Vec<&'a Hop> {
    found
        .iter()
        .filter(|hop| hop.parent == parent.hop_id)
        .collect()
}

/// The one hop directly under `parent`.
fn only_under<'a>(found: &'a [Hop], parent: &Hop) -> &'a Hop {
    let children = under(found, parent);
    assert_eq!(children.len(), 1, "under {parent:#?}: {children:#?}");
    children[0]
}

/// The request's entry: the one hop with no parent.
fn entry(found: &[Hop]) -> &Hop {
    let roots: Vec<_> = found.iter().filter(|hop| hop.parent.is_empty()).collect();
    assert_eq!(roots.len(), 1, "{found:#?}");
    roots[0]
}

/// The component calls an order makes, in the order it makes them.
const ORDER_CALLS: [&str; 4] = [
    "users.user",
    "catalog.products",
    "catalog.reserve",
    "payments.charge",
];

#[tokio::test]
async fn every_hop_of_an_order_through_the_services_hangs_under_the_one_it_happened_in() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = start(Kind::Micro, scratch.path()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    place_with_id(&shop, "hop-check-1").await;
    deployment.stop().await;

    let found = hops("hop-check-1", &[scratch.path().join("logs")]).expect("the logs read");
    let gateway = entry(&found);
    assert_eq!(
        (
            gateway.process.as_str(),
            gateway.hop.as_str(),
            gateway.route.as_str()
        ),
        ("shoplab-gateway", "served", "/orders")
    );
    let to_orders = only_under(&found, gateway);
    assert_eq!(to_orders.hop, "called", "{to_orders:#?}");
    let orders = only_under(&found, to_orders);
    assert_eq!(
        (
            orders.process.as_str(),
            orders.route.as_str(),
            orders.status
        ),
        ("shoplab-orders", "/orders", 201)
    );
    let calls = under(&found, orders);
    let names: Vec<_> = calls.iter().map(|hop| hop.route.as_str()).collect();
    assert_eq!(names, ORDER_CALLS, "{found:#?}");
    let served_by = [
        ("shoplab-users", "/users/{id}"),
        ("shoplab-catalog", "/internal/products/lookup"),
        ("shoplab-catalog", "/internal/reservations"),
        ("shoplab-payments", "/internal/charges"),
    ];
    for (call, (process, route)) in calls.iter().zip(served_by) {
        assert_eq!(call.hop, "function");
        assert_eq!(call.outcome.as_deref(), Some("ok"), "{call:#?}");
        let request = only_under(&found, call);
        assert_eq!(request.hop, "called", "{request:#?}");
        let served = only_under(&found, request);
        assert_eq!(
            (
                served.process.as_str(),
                served.hop.as_str(),
                served.route.as_str()
            ),
            (process, "served", route)
        );
        // A hop's time holds the hops inside it.
        assert!(call.micros >= request.micros && request.micros >= served.micros);
    }
    assert_eq!(found.len(), 15, "3 + 4 × 3 hops: {found:#?}");

    let output = Command::new(env!("CARGO_BIN_EXE_shoplab"))
        .args(["trace", "hop-check-1", "--data-dir"])
        .arg(scratch.path())
        .output()
        .expect("shoplab trace runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}");
    assert!(
        printed.contains("request hop-check-1: 15 hops"),
        "{printed}"
    );
    assert!(
        printed.contains("└─ shoplab-payments: POST /internal/charges  [204]"),
        "{printed}"
    );
    assert!(printed.contains("ms  on the wire"), "{printed}");
    assert!(printed.contains("ms  in shoplab-catalog"), "{printed}");
}

#[tokio::test]
async fn through_the_monolith_an_order_is_one_request_making_the_same_calls_in_process() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = start(Kind::Monolith, scratch.path()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    place_with_id(&shop, "hop-check-2").await;
    deployment.stop().await;

    let found = hops("hop-check-2", &[scratch.path().join("logs")]).expect("the logs read");
    let order = entry(&found);
    assert_eq!(
        (order.process.as_str(), order.route.as_str(), order.status),
        ("shoplab-monolith", "/orders", 201)
    );
    let calls = under(&found, order);
    let names: Vec<_> = calls.iter().map(|hop| hop.route.as_str()).collect();
    assert_eq!(names, ORDER_CALLS, "{found:#?}");
    for call in &calls {
        assert_eq!(call.hop, "function");
        assert!(
            under(&found, call).is_empty(),
            "a function call: {found:#?}"
        );
    }
    assert_eq!(found.len(), 5, "{found:#?}");
}

#[tokio::test]
async fn a_paused_hop_log_writes_nothing_until_it_is_resumed() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = start(Kind::Micro, scratch.path()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    deployment.hop_logs(false);
    // The signal is delivered and handled asynchronously: give it a moment.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    place_with_id(&shop, "while-paused").await;
    deployment.hop_logs(true);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    place_with_id(&shop, "once-resumed").await;
    deployment.stop().await;

    let logs = [scratch.path().join("logs")];
    let paused = hops("while-paused", &logs).expect("the logs read");
    assert!(paused.is_empty(), "{paused:#?}");
    let resumed = hops("once-resumed", &logs).expect("the logs read");
    assert_eq!(resumed.len(), 15, "{resumed:#?}");
}

#[tokio::test]
async fn replicas_of_one_service_are_named_apart_in_their_hops() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let mut options = Options::new(
        Kind::Micro,
        bin_dir(),
        Storage::Sqlite(scratch.path().join("data")),
    );
    options.log_dir = Some(scratch.path().join("logs"));
    options.replicas = "catalog=2".parse().expect("a valid replica count");
    let deployment = Deployment::start(&options)
        .await
        .expect("the deployment starts with two catalogs");
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    let ids: Vec<String> = (0..6).map(|n| format!("replica-read-{n}")).collect();
    for id in &ids {
        let reply = shop
            .send(Method::GET, "/products/1", None, &[("x-request-id", id)])
            .await
            .expect("the shop answers");
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    deployment.stop().await;

    let logs = [scratch.path().join("logs")];
    let mut served_by = std::collections::BTreeSet::new();
    for id in &ids {
        let found = hops(id, &logs).expect("the logs read");
        let catalog: Vec<_> = found
            .iter()
            .filter(|hop| hop.hop == "served" && hop.process.starts_with("shoplab-catalog"))
            .collect();
        assert_eq!(catalog.len(), 1, "{found:#?}");
        served_by.insert(catalog[0].process.clone());
    }
    assert_eq!(
        served_by.into_iter().collect::<Vec<_>>(),
        ["shoplab-catalog.1", "shoplab-catalog.2"]
    );
}
