//! `--hop-delay-us`: a process that calls other services waits that long
//! before each internal request, standing for the network between them
//! (loopback has next to none). Real processes on free ports, one for each
//! path the wait is taken on: the gateway's async client, and the blocking
//! component client of the payments (and orders) service.
//!
//! Only lower bounds are checked with a delay: a request through a delayed
//! hop takes at least the delay. Without one, loopback answers well within
//! it.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use shoplab::client::ShopClient;
use shoplab::process::Process;

/// Far above a loopback request, even in a debug build on a busy machine.
const DELAY: Duration = Duration::from_millis(200);

/// Nothing listens on port 1: a service the test never reaches.
const NOWHERE: &str = "http://127.0.0.1:1";

fn bin_dir() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_shoplab"))
        .parent()
        .expect("a binary lives in a directory")
}

/// `--hop-delay-us` for `delay`, or nothing for none.
fn hop_delay_args(delay: Option<Duration>) -> Vec<String> {
    match delay {
        Some(delay) => vec!["--hop-delay-us".into(), delay.as_micros().to_string()],
        None => Vec::new(),
    }
}

async fn spawn(binary: &str, args: &[&str], delay: Option<Duration>) -> Process {
    let mut args: Vec<String> = args.iter().map(|&arg| arg.to_owned()).collect();
    args.extend(hop_delay_args(delay));
    Process::spawn(bin_dir(), binary, &args)
        .await
        .unwrap_or_else(|error| panic!("{binary} starts: {error:#}"))
}

/// A service on a free port with its own SQLite file in `scratch`.
async fn service(binary: &str, scratch: &Path, peers: &[&str], delay: Option<Duration>) -> Process {
    let database = format!(
        "sqlite://{}",
        scratch.join(format!("{binary}.db")).display()
    );
    let mut args = vec!["--addr", "127.0.0.1:0", "--database-url", &database];
    args.extend(peers);
    spawn(binary, &args, delay).await
}

/// A gateway in front of `catalog` only: `GET /products/{id}` is one hop.
async fn gateway_to(catalog: &Process, delay: Option<Duration>) -> Process {
    let args = [
        "--addr",
        "127.0.0.1:0",
        "--users-url",
        NOWHERE,
        "--catalog-url",
        &catalog.url,
        "--payments-url",
        NOWHERE,
        "--orders-url",
        NOWHERE,
    ];
    spawn("shoplab-gateway", &args, delay).await
}

#[tokio::test]
async fn the_gateway_waits_its_hop_delay_before_calling_a_service() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let catalog = service("shoplab-catalog", scratch.path(), &[], None).await;
    let mug = json!({"name": "Mug", "price_cents": 1250, "stock": 10});
    let created = ShopClient::new(&catalog.url)
        .post("/products", &mug)
        .await
        .expect("the catalog answers");
    assert_eq!(created.status, 201, "{}", created.body);

    let delayed = gateway_to(&catalog, Some(DELAY)).await;
    let reply = ShopClient::new(&delayed.url)
        .get("/products/1")
        .await
        .expect("the gateway answers");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.elapsed >= DELAY, "took {:?}", reply.elapsed);

    let direct = gateway_to(&catalog, None).await;
    let reply = ShopClient::new(&direct.url)
        .get("/products/1")
        .await
        .expect("the gateway answers");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.elapsed < DELAY, "took {:?}", reply.elapsed);

    for process in [delayed, direct, catalog] {
        process.stop().await;
    }
}

#[tokio::test]
async fn a_service_waits_its_hop_delay_before_calling_another() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let users = service("shoplab-users", scratch.path(), &[], None).await;
    let ada = json!({"name": "Ada", "email": "ada@example.com"});
    let created = ShopClient::new(&users.url)
        .post("/users", &ada)
        .await
        .expect("the users service answers");
    assert_eq!(created.status, 201, "{}", created.body);
    let peer = ["--users-url", users.url.as_str()];

    // A wallet read asks the users service first: one hop, on the payments
    // service's blocking component client (the orders service's too).
    let delayed = service("shoplab-payments", scratch.path(), &peer, Some(DELAY)).await;
    let reply = ShopClient::new(&delayed.url)
        .get("/users/1/wallet")
        .await
        .expect("the payments service answers");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.elapsed >= DELAY, "took {:?}", reply.elapsed);
    delayed.stop().await;

    // The same database, now without the delay.
    let direct = service("shoplab-payments", scratch.path(), &peer, None).await;
    let reply = ShopClient::new(&direct.url)
        .get("/users/1/wallet")
        .await
        .expect("the payments service answers");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.elapsed < DELAY, "took {:?}", reply.elapsed);

    for process in [direct, users] {
        process.stop().await;
    }
}
