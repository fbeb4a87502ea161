//! The orders service started in process from its library, the way a
//! criterion bench starts it: `build` on a blocking thread (it opens the
//! database and builds the blocking peer client, neither of which may happen
//! on the async executor), the port known before it runs, then served on the
//! test's own tokio runtime and stopped through its handle.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use shoplab_common::db::DatabaseUrl;
use shoplab_orders::{build, Tx};
use shoplab_service::balance::Replicas;
use shoplab_service::client::Peers;
use shoplab_service::{CallArgs, ServiceArgs};

/// Nothing listens on port 1: peers that are down.
const NOWHERE: &str = "http://127.0.0.1:1";

#[tokio::test(flavor = "multi_thread")]
async fn build_binds_a_free_port_and_the_service_answers_once_run() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let service = ServiceArgs {
        addr: "127.0.0.1:0".into(),
        database_url: Some(DatabaseUrl::sqlite_in(scratch.path(), "orders")),
        settings: Default::default(),
    };
    let peers = Peers {
        users: Some(Replicas::one("users", NOWHERE)),
        catalog: Some(Replicas::one("catalog", NOWHERE)),
        payments: Some(Replicas::one("payments", NOWHERE)),
    };
    let application = tokio::task::spawn_blocking(move || {
        build(
            service,
            peers,
            &CallArgs::default(),
            Tx::Saga,
            Default::default(),
        )
    })
    .await
    .expect("the build task ran")
    .expect("the orders service builds on a fresh SQLite file");
    let port = application.port();
    assert_ne!(port, 0, "port 0 was resolved to the port bound");
    let handle = application.handle();
    let server = tokio::spawn(application.run_until_stopped());

    let base = format!("http://127.0.0.1:{port}");
    let health = reqwest::get(format!("{base}/health"))
        .await
        .expect("the service answers");
    assert_eq!(health.status(), 200);
    // A route that asks a peer: the blocking client runs inside this
    // process too, and a peer that is down is 503, as from the binary.
    let orders = reqwest::get(format!("{base}/users/1/orders"))
        .await
        .expect("the service answers");
    assert_eq!(orders.status(), 503);

    handle.stop(true).await;
    server
        .await
        .expect("the server task ran")
        .expect("the server stopped cleanly");
}
