//! Services trust only each other: a deployment started by the harness has
//! one internal token (`shoplab up` makes it), every process gets it in its
//! environment, and a service's `/internal/...` endpoints refuse a call
//! without it — 401, API.md's error body, code `unauthorized` — while its
//! public routes, and the services' calls to each other, go on as before.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use reqwest::Method;
use serde_json::json;
use shoplab::client::ShopClient;
use shoplab::deployment::{Deployment, Kind, Options, Storage};

mod mugs;

use mugs::{bin_dir, get, stock_the_shop, two_mugs, MUGS};

#[tokio::test]
async fn an_internal_endpoint_answers_only_with_the_deployments_token() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let options = Options::new(
        Kind::Micro,
        bin_dir(),
        Storage::Sqlite(scratch.path().to_owned()),
    );
    let token = options
        .internal_token
        .clone()
        .expect("a deployment has a token by default");
    let deployment = Deployment::start(&options)
        .await
        .expect("the microservices start");
    let shop = ShopClient::new(&deployment.base_url);
    stock_the_shop(&shop).await;
    let catalog = ShopClient::new(deployment.url_of("shoplab-catalog").expect("a catalog"));

    let reserve = json!({"order_id": 99, "step_key": "outside-job", "items": [{"product_id": 1, "quantity": 3}]});
    for headers in [vec![], vec![("x-internal-token", "guess")]] {
        let reply = catalog
            .send(
                Method::POST,
                "/internal/reservations",
                Some(&reserve),
                &headers,
            )
            .await
            .expect("the catalog answers");
        assert_eq!(reply.status, 401, "{}", reply.body);
        assert_eq!(reply.error_code(), Some("unauthorized"));
    }
    assert_eq!(
        get(&shop, "/products/1").await["stock"],
        MUGS,
        "nothing was taken"
    );
    // Its public routes need no token.
    assert_eq!(
        catalog.get("/products/1").await.expect("answers").status,
        200
    );
    // The services' own calls carry it: an order goes through.
    assert_eq!(
        shop.post("/orders", &two_mugs())
            .await
            .expect("answers")
            .status,
        201
    );
    // And so may anyone given the token.
    let with_token = [("x-internal-token", token.as_str())];
    let reply = catalog
        .send(
            Method::POST,
            "/internal/reservations",
            Some(&reserve),
            &with_token,
        )
        .await
        .expect("the catalog answers");
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(get(&shop, "/products/1").await["stock"], MUGS - 2 - 3);
    deployment.stop().await;
}
