//! `POST /products`, `GET /products/{id}` and the listing: what a product
//! looks like, the limits on its name, price and stock, and how `limit` and
//! `offset` page through the catalog.

use serde_json::{json, Value};
use shoplab::client::ShopClient;

use crate::api::{assert_error, audit, create_product};
use crate::support::contract;

contract!(
    a_new_product_is_created_and_read_back,
    prices_stock_and_names_outside_their_limits_are_refused,
    products_are_listed_in_ascending_id_order_fifty_by_default,
    listing_limits_and_offsets_out_of_range_are_invalid_requests,
);

async fn a_new_product_is_created_and_read_back(shop: ShopClient) -> anyhow::Result<()> {
    let reply = shop
        .post(
            "/products",
            &json!({"name": "Mug", "price_cents": 1250, "stock": 10}),
        )
        .await?;
    assert_eq!(reply.status, 201);
    assert_eq!(
        reply.body,
        json!({"id": 1, "name": "Mug", "price_cents": 1250, "stock": 10})
    );

    let reply = shop
        .post(
            "/products",
            &json!({"name": "  Tea Pot ", "price_cents": 3000, "stock": 0}),
        )
        .await?;
    assert_eq!(reply.status, 201);
    assert_eq!(
        reply.body,
        json!({"id": 2, "name": "Tea Pot", "price_cents": 3000, "stock": 0})
    );

    let read = shop.get("/products/1").await?;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.body,
        json!({"id": 1, "name": "Mug", "price_cents": 1250, "stock": 10})
    );
    let read = shop.get("/products/2").await?;
    assert_eq!(
        read.body, reply.body,
        "a product reads back as it was created"
    );

    assert_error(&shop.get("/products/3").await?, 404, "not_found");
    Ok(())
}

async fn prices_stock_and_names_outside_their_limits_are_refused(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let longest = "p".repeat(200);
    let accepted = [
        ("Cheapest", 1, 0),
        ("Dearest", 100_000_000, 1),
        ("Most stocked", 500, 1_000_000_000),
        (longest.as_str(), 500, 1),
    ];
    for (name, price_cents, stock) in accepted {
        let body = json!({"name": name, "price_cents": price_cents, "stock": stock});
        let reply = shop.post("/products", &body).await?;
        assert_eq!(reply.status, 201, "{body}: {}", reply.body);
        assert_eq!(reply.body["price_cents"], price_cents);
        assert_eq!(reply.body["stock"], stock);
    }

    let too_long = "p".repeat(201);
    let refused = [
        ("Free", 0, 1),
        ("Negative", -5, 1),
        ("Too dear", 100_000_001, 1),
        ("Owed", 500, -1),
        ("Too many", 500, 1_000_000_001),
        ("", 500, 1),
        ("   ", 500, 1),
        (too_long.as_str(), 500, 1),
    ];
    for (name, price_cents, stock) in refused {
        let body = json!({"name": name, "price_cents": price_cents, "stock": stock});
        let reply = shop.post("/products", &body).await?;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_error(&reply, 400, "invalid_request");
    }
    let after = audit(&shop).await?;
    assert_eq!(after["products"], 4, "refused products are not created");
    assert_eq!(after["stock_units"], 1_000_000_002_i64);
    Ok(())
}

/// The ids of a listing, in the order given.
fn ids(listing: &Value) -> Vec<i64> {
    listing
        .as_array()
        .map(|products| {
            products
                .iter()
                .filter_map(|product| product["id"].as_i64())
                .collect()
        })
        .unwrap_or_default()
}

async fn products_are_listed_in_ascending_id_order_fifty_by_default(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let empty = shop.get("/products").await?;
    assert_eq!((empty.status, &empty.body), (200, &json!([])));

    let mut created = Vec::new();
    for n in 1..=60 {
        created.push(create_product(&shop, &format!("Product {n}"), 100 + n, n).await?);
    }
    let listing = shop.get("/products").await?;
    assert_eq!(listing.status, 200);
    assert_eq!(
        ids(&listing.body),
        created[..50],
        "the first 50 by default, ascending"
    );
    assert_eq!(
        listing.body[0],
        json!({"id": created[0], "name": "Product 1", "price_cents": 101, "stock": 1}),
        "listed products are whole products"
    );

    let windows: [(&str, &[i64]); 8] = [
        ("limit=500", &created[..]),
        ("limit=1", &created[..1]),
        ("limit=3&offset=10", &created[10..13]),
        ("offset=55", &created[55..]),
        ("offset=0&limit=60", &created[..]),
        ("offset=59&limit=500", &created[59..]),
        ("offset=60", &[]),
        ("offset=1000&limit=5", &[]),
    ];
    for (query, expected) in windows {
        let listing = shop.get(&format!("/products?{query}")).await?;
        assert_eq!(listing.status, 200, "?{query}: {}", listing.body);
        assert_eq!(ids(&listing.body), expected, "?{query}");
    }
    Ok(())
}

async fn listing_limits_and_offsets_out_of_range_are_invalid_requests(
    shop: ShopClient,
) -> anyhow::Result<()> {
    create_product(&shop, "Mug", 1250, 10).await?;
    let queries = [
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "offset=-1",
        "offset=abc",
        "offset=1.5",
        "limit=10&offset=-5",
        "limit=99999999999999999999",
    ];
    for query in queries {
        let reply = shop.get(&format!("/products?{query}")).await?;
        assert_eq!(reply.status, 400, "?{query}: {}", reply.body);
        assert_error(&reply, 400, "invalid_request");
    }
    for query in ["limit=500", "limit=1", "offset=0"] {
        let reply = shop.get(&format!("/products?{query}")).await?;
        assert_eq!(
            reply.status, 200,
            "?{query} is within range: {}",
            reply.body
        );
    }
    Ok(())
}
