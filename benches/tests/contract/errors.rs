//! Request bodies the API must refuse, the same way on every route and in
//! both deployments: 400 `invalid_request` for anything that is not exactly
//! the documented JSON object, 413 `payload_too_large` over 64 KiB. A refused
//! request changes nothing, which the audit confirms at the end of each check.

use reqwest::Method;
use serde_json::{json, Value};
use shoplab::client::ShopClient;

use crate::api::{assert_error, audit, create_product, create_user, expect_status};
use crate::support::contract;

contract!(
    bodies_that_are_not_one_json_object_are_invalid_requests,
    fields_that_are_missing_unknown_null_or_mistyped_are_invalid_requests,
    bodies_over_64_kib_are_refused_as_too_large,
);

/// Every route that takes a JSON body, as the checks below address them
/// (user 1 and product 1 exist, so only the body can be at fault).
const BODY_ROUTES: [&str; 4] = ["/users", "/products", "/users/1/wallet/deposit", "/orders"];

/// The audit of a deployment holding only user 1 and product 1 (stock 5).
fn untouched_audit() -> Value {
    json!({
        "users": 1, "products": 1, "stock_units": 5, "wallet_cents": 0, "paid_cents": 0,
        "orders": {"pending": 0, "completed": 0, "failed": 0, "cancelled": 0}
    })
}

async fn one_user_and_one_product(shop: &ShopClient) -> anyhow::Result<()> {
    create_user(shop, "Ada", "ada@example.com").await?;
    create_product(shop, "Mug", 1250, 5).await?;
    Ok(())
}

async fn bodies_that_are_not_one_json_object_are_invalid_requests(
    shop: ShopClient,
) -> anyhow::Result<()> {
    one_user_and_one_product(&shop).await?;
    let not_objects: [&[u8]; 9] = [
        b"",
        b"{",
        b"{\"name\": \"Ada\",}",
        b"{'name': 'Ada'}",
        b"[]",
        b"[{\"amount_cents\": 5}]",
        b"\"text\"",
        b"null",
        b"42",
    ];
    for route in BODY_ROUTES {
        for body in not_objects {
            let reply = shop
                .raw(
                    Method::POST,
                    route,
                    Some("application/json"),
                    Some(body.to_vec()),
                    &[],
                )
                .await?;
            assert_eq!(
                reply.status,
                400,
                "POST {route} {:?}",
                String::from_utf8_lossy(body)
            );
            assert_error(&reply, 400, "invalid_request");
        }
    }

    // Well-formed bodies, but not declared as JSON.
    let valid: [(&str, Value); 4] = [
        ("/users", json!({"name": "Bob", "email": "bob@example.com"})),
        (
            "/products",
            json!({"name": "Cup", "price_cents": 100, "stock": 1}),
        ),
        ("/users/1/wallet/deposit", json!({"amount_cents": 500})),
        (
            "/orders",
            json!({"user_id": 1, "items": [{"product_id": 1, "quantity": 1}]}),
        ),
    ];
    for (route, body) in &valid {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let bytes = body.to_string().into_bytes();
            let reply = shop
                .raw(Method::POST, route, content_type, Some(bytes), &[])
                .await?;
            assert_eq!(
                reply.status, 400,
                "POST {route} with content type {content_type:?}"
            );
            assert_error(&reply, 400, "invalid_request");
        }
    }
    assert_eq!(
        audit(&shop).await?,
        untouched_audit(),
        "refused bodies change nothing"
    );

    // A media type parameter does not make JSON anything else.
    let (route, body) = &valid[0];
    let reply = shop
        .raw(
            Method::POST,
            route,
            Some("application/json; charset=utf-8"),
            Some(body.to_string().into_bytes()),
            &[],
        )
        .await?;
    assert_eq!(reply.status, 201, "{}", reply.body);
    Ok(())
}

async fn fields_that_are_missing_unknown_null_or_mistyped_are_invalid_requests(
    shop: ShopClient,
) -> anyhow::Result<()> {
    one_user_and_one_product(&shop).await?;
    let item = json!({"product_id": 1, "quantity": 1});
    let wrong: Vec<(&str, Value)> = vec![
        ("/users", json!({"name": "Bob"})),
        ("/users", json!({"email": "bob@example.com"})),
        ("/users", json!({})),
        (
            "/users",
            json!({"name": "Bob", "email": "bob@example.com", "age": 30}),
        ),
        ("/users", json!({"name": null, "email": "bob@example.com"})),
        ("/users", json!({"name": "Bob", "email": null})),
        ("/users", json!({"name": 7, "email": "bob@example.com"})),
        (
            "/users",
            json!({"name": "Bob", "email": ["bob@example.com"]}),
        ),
        ("/products", json!({"name": "Cup", "price_cents": 100})),
        ("/products", json!({"name": "Cup", "stock": 1})),
        ("/products", json!({"price_cents": 100, "stock": 1})),
        (
            "/products",
            json!({"name": "Cup", "price_cents": 100, "stock": 1, "color": "red"}),
        ),
        (
            "/products",
            json!({"name": "Cup", "price_cents": "100", "stock": 1}),
        ),
        (
            "/products",
            json!({"name": "Cup", "price_cents": 99.5, "stock": 1}),
        ),
        (
            "/products",
            json!({"name": "Cup", "price_cents": 100.0, "stock": 1}),
        ),
        (
            "/products",
            json!({"name": "Cup", "price_cents": 100, "stock": true}),
        ),
        (
            "/products",
            json!({"name": "Cup", "price_cents": 100, "stock": null}),
        ),
        (
            "/products",
            json!({"name": {"text": "Cup"}, "price_cents": 100, "stock": 1}),
        ),
        ("/users/1/wallet/deposit", json!({})),
        ("/users/1/wallet/deposit", json!({"amount_cents": "500"})),
        ("/users/1/wallet/deposit", json!({"amount_cents": 5.5})),
        ("/users/1/wallet/deposit", json!({"amount_cents": null})),
        (
            "/users/1/wallet/deposit",
            json!({"amount_cents": 500, "currency": "EUR"}),
        ),
        ("/orders", json!({"items": [item]})),
        ("/orders", json!({"user_id": 1})),
        ("/orders", json!({"user_id": "1", "items": [item]})),
        ("/orders", json!({"user_id": 1.0, "items": [item]})),
        ("/orders", json!({"user_id": null, "items": [item]})),
        ("/orders", json!({"user_id": 1, "items": null})),
        ("/orders", json!({"user_id": 1, "items": item})),
        (
            "/orders",
            json!({"user_id": 1, "items": [item], "coupon": "X"}),
        ),
        (
            "/orders",
            json!({"user_id": 1, "items": [{"product_id": 1}]}),
        ),
        ("/orders", json!({"user_id": 1, "items": [{"quantity": 1}]})),
        (
            "/orders",
            json!({"user_id": 1, "items": [{"product_id": 1, "quantity": 1.5}]}),
        ),
        (
            "/orders",
            json!({"user_id": 1, "items": [{"product_id": "1", "quantity": 1}]}),
        ),
        (
            "/orders",
            json!({"user_id": 1, "items": [{"product_id": null, "quantity": 1}]}),
        ),
        (
            "/orders",
            json!({"user_id": 1, "items": [{"product_id": 1, "quantity": 1, "note": "x"}]}),
        ),
        ("/orders", json!({"user_id": 1, "items": [1]})),
    ];
    for (route, body) in &wrong {
        let reply = shop.post(route, body).await?;
        assert_eq!(reply.status, 400, "POST {route} {body}: {}", reply.body);
        assert_error(&reply, 400, "invalid_request");
    }
    // Numbers that do not fit in an i64, written out as raw JSON.
    let too_big: [(&str, &str); 3] = [
        (
            "/products",
            r#"{"name": "Cup", "price_cents": 99999999999999999999, "stock": 1}"#,
        ),
        (
            "/users/1/wallet/deposit",
            r#"{"amount_cents": 99999999999999999999}"#,
        ),
        (
            "/orders",
            r#"{"user_id": 99999999999999999999, "items": [{"product_id": 1, "quantity": 1}]}"#,
        ),
    ];
    for (route, body) in too_big {
        let reply = shop
            .raw(
                Method::POST,
                route,
                Some("application/json"),
                Some(body.as_bytes().to_vec()),
                &[],
            )
            .await?;
        assert_eq!(reply.status, 400, "POST {route} {body}: {}", reply.body);
        assert_error(&reply, 400, "invalid_request");
    }
    assert_eq!(
        audit(&shop).await?,
        untouched_audit(),
        "refused bodies change nothing"
    );
    Ok(())
}

/// A user body of exactly `size` bytes: valid JSON padded with spaces.
fn padded_user_body(email: &str, size: usize) -> Vec<u8> {
    let body = json!({"name": "Ada", "email": email}).to_string();
    let mut bytes = body.into_bytes();
    let closing = bytes.pop().expect("a JSON object ends with a brace");
    bytes.resize(size - 1, b' ');
    bytes.push(closing);
    bytes
}

async fn bodies_over_64_kib_are_refused_as_too_large(shop: ShopClient) -> anyhow::Result<()> {
    const LIMIT: usize = 64 * 1024;
    let json = Some("application/json");

    let at_limit = padded_user_body("ada@example.com", LIMIT);
    let reply = shop
        .raw(Method::POST, "/users", json, Some(at_limit), &[])
        .await?;
    expect_status(&reply, 201, "a body of exactly 64 KiB is within the limit")?;

    for size in [LIMIT + 1, 100 * 1024] {
        let over = padded_user_body("bob@example.com", size);
        let reply = shop
            .raw(Method::POST, "/users", json, Some(over), &[])
            .await?;
        assert_eq!(reply.status, 413, "a body of {size} bytes: {}", reply.body);
        assert_error(&reply, 413, "payload_too_large");
    }

    // The size is checked before anything else, on every route.
    let order = json!({"user_id": 1, "items": [{"product_id": 1, "quantity": 1}], "padding": "x".repeat(LIMIT)});
    let reply = shop.post("/orders", &order).await?;
    assert_error(&reply, 413, "payload_too_large");
    let product = json!({"name": "x".repeat(LIMIT + 1), "price_cents": 1, "stock": 1});
    let reply = shop.post("/products", &product).await?;
    assert_error(&reply, 413, "payload_too_large");

    let after = audit(&shop).await?;
    assert_eq!(
        (after["users"].as_i64(), after["products"].as_i64()),
        (Some(1), Some(0))
    );
    Ok(())
}
