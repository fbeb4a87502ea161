//! A deployment keeps itself whole: a process that exits is started again
//! at the address its peers know (`benches/deploy/src/supervisor.rs`), one in a
//! crash loop never stops the others, and one held down stays down until it
//! is released. Real processes, real SIGKILLs, free ports.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use nix::sys::signal::Signal;
use serde_json::json;
use shoplab::client::ShopClient;
use shoplab::deployment::{Deployment, Kind, Options, Storage};

const CATALOG: &str = "shoplab-catalog";

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

/// Ada, with a wallet, and one mug.
async fn stock_the_shop(shop: &ShopClient) {
    let ada = json!({"name": "Ada", "email": "ada@example.com"});
    let mug = json!({"name": "Mug", "price_cents": 1250, "stock": 10});
    assert_eq!(
        shop.post("/users", &ada).await.expect("answers").status,
        201
    );
    assert_eq!(
        shop.post("/products", &mug).await.expect("answers").status,
        201
    );
}

fn pid_of(deployment: &Deployment, binary: &str) -> Option<u32> {
    deployment
        .members()
        .into_iter()
        .find(|member| member.name == binary)
        .and_then(|member| member.pid)
}

fn url_of(deployment: &Deployment, binary: &str) -> String {
    deployment
        .url_of(binary)
        .expect("the binary is part of the deployment")
        .to_owned()
}

fn restarts_of(deployment: &Deployment, binary: &str) -> u32 {
    deployment
        .restarts()
        .into_iter()
        .find(|(name, _)| name == binary)
        .map_or(0, |(_, restarts)| restarts)
}

/// Polls `check` every 20 ms until it holds, or panics after `within`.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn status(shop: &ShopClient, path: &str) -> u16 {
    shop.get(path).await.map_or(0, |reply| reply.status)
}

#[tokio::test]
async fn a_supervisor_restart_keeps_the_services_address() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = microservices(scratch.path()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    let url = url_of(&deployment, CATALOG);
    let first = pid_of(&deployment, CATALOG).expect("the catalog runs");

    deployment
        .signal(CATALOG, Signal::SIGKILL)
        .expect("the catalog can be killed");
    eventually(
        Duration::from_secs(10),
        "the catalog runs again under a new pid",
        || async { pid_of(&deployment, CATALOG).is_some_and(|pid| pid != first) },
    )
    .await;
    // The gateway was told the catalog's address once, at start-up: it finds
    // the new process only because the address is the same.
    eventually(
        Duration::from_secs(10),
        "GET /products/1 answers 200 through the gateway",
        || status(&shop, "/products/1").map(|status| status == 200),
    )
    .await;

    assert_eq!(url_of(&deployment, CATALOG), url);
    assert_eq!(restarts_of(&deployment, CATALOG), 1);
    let others: u32 = deployment
        .restarts()
        .iter()
        .filter(|(name, _)| name != CATALOG)
        .map(|(_, restarts)| restarts)
        .sum();
    assert_eq!(others, 0, "{:?}", deployment.restarts());
    deployment.stop().await;
}

#[tokio::test]
async fn a_crash_looping_process_does_not_stop_the_others() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = microservices(scratch.path()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    let users_pid = pid_of(&deployment, "shoplab-users");

    // Kill the catalog each time it comes back: a crash loop of five.
    let mut killed = Vec::new();
    for _ in 0..5 {
        eventually(
            Duration::from_secs(10),
            "the catalog comes back after its back-off",
            || async { pid_of(&deployment, CATALOG).is_some_and(|pid| !killed.contains(&pid)) },
        )
        .await;
        killed.push(pid_of(&deployment, CATALOG).expect("it just came back"));
        deployment
            .signal(CATALOG, Signal::SIGKILL)
            .expect("the catalog can be killed");
        // Meanwhile the users service answers, every time.
        assert_eq!(status(&shop, "/users/1").await, 200);
    }

    assert_eq!(status(&shop, "/users/1").await, 200);
    assert_eq!(pid_of(&deployment, "shoplab-users"), users_pid);
    // The loop ends; the catalog comes back and serves its data again.
    eventually(
        Duration::from_secs(10),
        "GET /products/1 answers 200 after the crash loop",
        || status(&shop, "/products/1").map(|status| status == 200),
    )
    .await;
    assert_eq!(restarts_of(&deployment, CATALOG), 5);
    deployment.stop().await;
}

#[tokio::test]
async fn a_held_down_service_stays_down_until_released() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = microservices(scratch.path()).await;
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    let url = url_of(&deployment, CATALOG);

    deployment.hold_down(CATALOG).await.expect("held down");
    // Longer than several restarts' back-off: none happens.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(pid_of(&deployment, CATALOG), None);
    assert_eq!(status(&shop, "/products/1").await, 503);
    assert_eq!(status(&shop, "/users/1").await, 200);
    assert!(deployment.signal(CATALOG, Signal::SIGKILL).is_err());

    deployment.release(CATALOG).await.expect("released");
    assert_eq!(status(&shop, "/products/1").await, 200);
    assert_eq!(url_of(&deployment, CATALOG), url);
    assert_eq!(restarts_of(&deployment, CATALOG), 1);
    deployment.stop().await;
}
