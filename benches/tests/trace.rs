//! One request, every hop: with hop logs on, an order placed through the
//! gateway with an `X-Request-Id` is found under that id in every process it
//! crossed — the gateway, the orders service, and each service the orders
//! service called — so no hop drops the id on the way (the gateway writes its
//! own id onto the reply, so the reply alone could not show it). Through the
//! monolith the same order is one hop. `shoplab trace` prints them.

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use shoplab::client::ShopClient;
use shoplab::deploy::{Deployment, Kind, Options, Storage};
use shoplab::trace::hops;

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

#[tokio::test]
async fn every_process_an_order_crosses_logs_it_under_the_callers_request_id() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = start(Kind::Micro, scratch.path()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    place_with_id(&shop, "hop-check-1").await;
    deployment.stop().await;

    let found = hops("hop-check-1", &[scratch.path().join("logs")]).expect("the logs read");
    let served = |process: &str| {
        found
            .iter()
            .filter(|hop| hop.hop == "served" && hop.process == process)
            .map(|hop| hop.route.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(served("shoplab-gateway"), ["/orders"], "{found:#?}");
    assert_eq!(served("shoplab-orders"), ["/orders"], "{found:#?}");
    assert_eq!(served("shoplab-users"), ["/users/{id}"], "{found:#?}");
    assert_eq!(
        served("shoplab-catalog"),
        ["/internal/products/lookup", "/internal/reservations"],
        "{found:#?}"
    );
    assert_eq!(
        served("shoplab-payments"),
        ["/internal/charges"],
        "{found:#?}"
    );
    // Every call one process made was served, under the same id, by its peer.
    let calls = found.iter().filter(|hop| hop.hop == "called").count();
    assert_eq!(
        calls, 5,
        "gateway → orders → users, catalog ×2, payments: {found:#?}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_shoplab"))
        .args(["trace", "hop-check-1", "--log-dir"])
        .arg(scratch.path().join("logs"))
        .output()
        .expect("shoplab trace runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}");
    assert!(
        printed.contains("request hop-check-1: 11 hops"),
        "{printed}"
    );
    assert!(
        printed.contains("→ payments: POST /internal/charges"),
        "{printed}"
    );
}

#[tokio::test]
async fn through_the_monolith_an_order_is_one_hop() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = start(Kind::Monolith, scratch.path()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    place_with_id(&shop, "hop-check-2").await;
    deployment.stop().await;

    let found = hops("hop-check-2", &[scratch.path().join("logs")]).expect("the logs read");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (
            found[0].process.as_str(),
            found[0].route.as_str(),
            found[0].status
        ),
        ("shoplab-monolith", "/orders", 201)
    );
}
