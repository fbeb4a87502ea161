//! A process told to stop (SIGTERM) stops taking requests but finishes the
//! ones it has, then exits 0: what lets one part of a shop be replaced
//! while the shop runs. The request in flight is held up by a fault plan's
//! delay, so it is surely in flight when the signal comes.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::json;
use shoplab::client::ShopClient;
use shoplab::process::Process;

mod mugs;

use mugs::bin_dir;

#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_and_the_process_exits_0() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let plan = scratch.path().join("plan.toml");
    std::fs::write(
        &plan,
        "[[fault]]\nop = \"catalog.products\"\nkind = \"delay\"\ndelay_ms = 1500\n",
    )
    .expect("the plan is written");
    let args: Vec<String> = [
        "--addr".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--database-url".to_owned(),
        format!("sqlite://{}", scratch.path().join("shop.db").display()),
        "--fault-plan".to_owned(),
        plan.display().to_string(),
    ]
    .to_vec();
    let mut monolith = Process::spawn(&bin_dir(), "shoplab-monolith", &args)
        .await
        .expect("the monolith starts");
    let shop = ShopClient::new(&monolith.url);
    let mug = json!({"name": "Mug", "price_cents": 1250, "stock": 10});
    assert_eq!(
        shop.post("/products", &mug).await.expect("answers").status,
        201
    );

    let started = Instant::now();
    let in_flight = tokio::spawn({
        let shop = shop.clone();
        async move { shop.get("/products/1").await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = i32::try_from(monolith.pid().expect("running")).expect("pids fit in i32");
    kill(Pid::from_raw(pid), Signal::SIGTERM).expect("the monolith can be signalled");

    let answer = in_flight
        .await
        .expect("ran")
        .expect("the request in flight is answered");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "it was in flight"
    );
    let status = tokio::time::timeout(Duration::from_secs(10), monolith.wait())
        .await
        .expect("the monolith exits soon after")
        .expect("its status is read");
    assert!(status.success(), "exited {status}");
    // And it took no new request meanwhile.
    assert!(
        shop.get("/health").await.is_err(),
        "nothing listens any more"
    );
}
