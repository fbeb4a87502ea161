//! The monolith started in process from its library, the way a criterion
//! bench starts it: `build` on a blocking thread (it opens the database,
//! which may not happen on the async executor), the port known before it
//! runs, then served on the test's own tokio runtime and stopped through its
//! handle. The orders service's `tests/application.rs` does the same.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use shoplab_common::db::DatabaseUrl;
use shoplab_monolith::build;

#[tokio::test(flavor = "multi_thread")]
async fn build_binds_a_free_port_and_the_shop_answers_once_run() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let database = DatabaseUrl::sqlite_in(scratch.path(), "monolith");
    let application =
        tokio::task::spawn_blocking(move || build("127.0.0.1:0", &database, &Default::default()))
            .await
            .expect("the build task ran")
            .expect("the monolith builds on a fresh SQLite file");
    let port = application.port();
    assert_ne!(port, 0, "port 0 was resolved to the port bound");
    let handle = application.handle();
    let server = tokio::spawn(application.run_until_stopped());

    let base = format!("http://127.0.0.1:{port}");
    let health = reqwest::get(format!("{base}/health"))
        .await
        .expect("the monolith answers");
    assert_eq!(health.status(), 200);
    let products = reqwest::get(format!("{base}/products"))
        .await
        .expect("the monolith answers");
    assert_eq!(products.status(), 200);

    handle.stop(true).await;
    server
        .await
        .expect("the server task ran")
        .expect("the server stopped cleanly");
}
