//! One order, end to end, as a client sees it: `POST /orders` to the
//! monolith (one process, one transaction) and through the gateway (five
//! HTTP requests, a saga), both started in this process, each against its
//! own fresh SQLite files. Also a product read, the cheapest request of all.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

mod support;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

fn end_to_end(c: &mut Criterion) {
    let shop = support::start();
    let http = reqwest::blocking::Client::builder()
        .tcp_nodelay(true)
        .build()
        .expect("a client builds");
    for (path, group_name) in [("order", "POST /orders"), ("read", "GET /products/{id}")] {
        let mut group = c.benchmark_group(group_name);
        for (name, base) in [
            ("monolith", &shop.monolith),
            ("microservices", &shop.gateway),
        ] {
            let (user, product) = support::seed(base);
            let order = json!({"user_id": user, "items": [{"product_id": product, "quantity": 1}]});
            group.bench_function(name, |b| {
                b.iter(|| {
                    let response = if path == "order" {
                        http.post(format!("{base}/orders")).json(&order).send()
                    } else {
                        http.get(format!("{base}/products/{product}")).send()
                    }
                    .expect("an answer");
                    assert!(response.status().is_success(), "{}", response.status());
                    response.bytes().expect("a body")
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = end_to_end
}
criterion_main!(benches);
