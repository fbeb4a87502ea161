//! What trusting only each other costs per hop: the internal token
//! (`common/http/src/internal_token.rs`), sent by the caller and checked by
//! the guard on every `/internal/...` call.
//!
//! Two measurements, each a pair run in one process, so the token's cost is
//! the difference of two medians:
//! - the app frame alone, in process (no socket): one internal request
//!   through every server's middleware, without a token and with one
//!   checked; what the check costs the serving process;
//! - one real hop over loopback: a catalog lookup (`POST
//!   /internal/products/lookup`, the call the orders service makes) with
//!   reqwest's blocking client, against a catalog service started without a
//!   token and one started with it, the caller sending it.
//!
//! The token is the process's, set once, so each "without" side is built
//! before it is installed; each side is first checked to really be open or
//! guarded (a 401 without the token), so the pair cannot silently measure
//! two open servers.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

mod support;

use actix_web::{test, web, HttpResponse};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use shoplab_common::db::DatabaseUrl;
use shoplab_http::internal_token;
use shoplab_http::server::shop_app;
use shoplab_service::ServiceArgs;

/// What every process of a deployment would be handed (`shoplab up` makes a
/// random one of this length).
const TOKEN: &str = "6f1d0c3e9a4b27d58e0f1a2b3c4d5e6f";

const LOOKUP: &str = "/internal/products/lookup";

fn routes(config: &mut web::ServiceConfig) {
    config.route(
        LOOKUP,
        web::post().to(|| async { HttpResponse::Ok().finish() }),
    );
}

/// One catalog service on a SQLite file in `scratch`, with a product; its
/// base URL. Whether it checks the token is decided by whether the token is
/// installed when its workers build their apps, which is before it first
/// answers.
fn catalog(scratch: &std::path::Path, name: &str) -> String {
    let url = support::serve(
        shoplab_catalog::build(ServiceArgs {
            addr: "127.0.0.1:0".into(),
            database_url: Some(DatabaseUrl::sqlite_in(scratch, name)),
            settings: Default::default(),
        })
        .expect("the catalog builds"),
    );
    let http = reqwest::blocking::Client::new();
    let created = http
        .post(format!("{url}/products"))
        .json(&json!({"name": "mug", "price_cents": 1200, "stock": 10}))
        .send()
        .expect("the catalog answers");
    assert_eq!(created.status(), 201, "a product is created");
    url
}

fn status(http: &reqwest::blocking::Client, url: &str, token: Option<&str>) -> u16 {
    let mut request = http
        .post(format!("{url}{LOOKUP}"))
        .json(&json!({"ids": [1]}));
    if let Some(token) = token {
        request = request.header(internal_token::HEADER, token);
    }
    request
        .send()
        .and_then(|response| {
            let status = response.status().as_u16();
            response.bytes().map(|_| status)
        })
        .expect("the catalog answers")
}

fn internal_token(c: &mut Criterion) {
    assert!(
        internal_token::current().is_none(),
        "nothing has installed a token yet"
    );
    let runtime = actix_web::rt::System::new();
    let open_frame = runtime.block_on(test::init_service(shop_app(routes)));
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let open = catalog(scratch.path(), "open");
    // Its workers start together, in milliseconds: give the last of them
    // time to build its app before the token exists (checked below, over
    // connections of their own, which the workers take in turn).
    std::thread::sleep(std::time::Duration::from_millis(300));

    internal_token::install(TOKEN);
    let guarded_frame = runtime.block_on(test::init_service(shop_app(routes)));
    let guarded = catalog(scratch.path(), "guarded");

    // One type for both (the guard is a `Condition`), so one closure calls
    // either: 0 is open, 1 guarded.
    let frames = [open_frame, guarded_frame];
    let call = |frame: usize, token: Option<&str>| {
        let mut request = test::TestRequest::post().uri(LOOKUP);
        if let Some(token) = token {
            request = request.insert_header((internal_token::HEADER, token));
        }
        runtime
            .block_on(test::call_service(&frames[frame], request.to_request()))
            .status()
            .as_u16()
    };
    assert_eq!(call(0, None), 200, "the open frame has no guard");
    assert_eq!(call(1, None), 401, "the guarded frame checks");
    assert_eq!(call(1, Some(TOKEN)), 200);

    let http = reqwest::blocking::Client::builder()
        .tcp_nodelay(true)
        .build()
        .expect("a client builds");
    for _ in 0..8 {
        let fresh = reqwest::blocking::Client::new();
        assert_eq!(
            status(&fresh, &open, None),
            200,
            "the open catalog has no guard"
        );
    }
    assert_eq!(
        status(&http, &guarded, None),
        401,
        "the guarded catalog checks"
    );
    assert_eq!(status(&http, &guarded, Some(TOKEN)), 200);

    let mut group = c.benchmark_group("internal token: the app frame, in process");
    group.bench_function("no token", |b| b.iter(|| call(0, None)));
    group.bench_function("token sent and checked", |b| {
        b.iter(|| call(1, Some(TOKEN)))
    });
    group.finish();

    let mut group = c.benchmark_group("internal token: a catalog lookup over loopback");
    group.bench_function("no token", |b| b.iter(|| status(&http, &open, None)));
    group.bench_function("token sent and checked", |b| {
        b.iter(|| status(&http, &guarded, Some(TOKEN)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = internal_token
}
criterion_main!(benches);
