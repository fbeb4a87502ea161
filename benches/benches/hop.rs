//! What a hop is made of: B, the round trip of a small JSON `POST` to a bare
//! actix-web handler over a kept-alive connection with reqwest's blocking
//! client (the client the services' component calls use); and the JSON
//! encoding and decoding of an order, which every hop that carries one pays
//! on both sides.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

mod support;

use criterion::{criterion_group, criterion_main, Criterion};
use shoplab_common::domain::Order;

const ORDER: &str = r#"{"id": 7, "user_id": 1, "status": "completed", "total_cents": 2500,
    "items": [{"product_id": 1, "quantity": 2, "unit_price_cents": 1250}], "failure": null}"#;

fn hop(c: &mut Criterion) {
    let shop = support::start();
    let http = reqwest::blocking::Client::builder()
        .tcp_nodelay(true)
        .build()
        .expect("a client builds");
    let echo = format!("{}/echo", shop.floor);
    let body = br#"{"order_id":12345,"items":[{"product_id":7,"quantity":2}]}"#.to_vec();
    c.bench_function("B: JSON POST round trip to a bare handler", |b| {
        b.iter(|| {
            http.post(&echo)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .and_then(|response| response.bytes())
                .expect("an answer")
        })
    });

    let order: Order = serde_json::from_str(ORDER).expect("a valid order");
    let mut group = c.benchmark_group("order JSON");
    group.bench_function("encode", |b| {
        b.iter(|| serde_json::to_vec(std::hint::black_box(&order)).expect("encodes"))
    });
    let encoded = serde_json::to_vec(&order).expect("encodes");
    group.bench_function("decode", |b| {
        b.iter(|| serde_json::from_slice::<Order>(std::hint::black_box(&encoded)).expect("decodes"))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = hop
}
criterion_main!(benches);
