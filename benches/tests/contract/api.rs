//! Shortcuts for the steps most checks share (make a user, a product, a
//! deposit, an order; read a balance, a stock, the audit), and the one
//! assertion every error answer must pass: API.md's error body and nothing else.
//!
//! A shortcut fails with the whole answer in its message when the deployment
//! refuses a step that the contract says must succeed, so a broken setup
//! reads differently from a broken check.

use anyhow::{ensure, Context};
use reqwest::Method;
use serde_json::{json, Value};
use shoplab::client::{Reply, ShopClient};

/// Asserts that `reply` is the error API.md prescribes: `status`, and a body
/// of exactly `{"error": {"code": code, "message": "<text>"}}`.
#[track_caller]
pub fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(
        (reply.status, reply.error_code()),
        (status, Some(code)),
        "expected {status} {code}, got {} with body {}",
        reply.status,
        reply.body
    );
    let top: Vec<&str> = keys(&reply.body);
    assert_eq!(
        top,
        ["error"],
        "an error body has only `error`: {}",
        reply.body
    );
    let inner: Vec<&str> = keys(&reply.body["error"]);
    assert_eq!(
        inner,
        ["code", "message"],
        "an error has only `code` and `message`: {}",
        reply.body
    );
    assert!(
        reply.body["error"]["message"].is_string(),
        "an error's message is text: {}",
        reply.body
    );
}

/// An object's keys, sorted (serde_json keeps them sorted already).
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .map(|object| object.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// Fails with the request and the whole answer unless `reply` has `status`.
pub fn expect_status(reply: &Reply, status: u16, what: &str) -> anyhow::Result<()> {
    ensure!(
        reply.status == status,
        "{what}: expected {status}, got {} with body {}",
        reply.status,
        reply.body
    );
    Ok(())
}

/// The `id` of a created resource.
pub fn id_of(reply: &Reply) -> anyhow::Result<i64> {
    reply.body["id"]
        .as_i64()
        .with_context(|| format!("no integer id in {}", reply.body))
}

/// `POST /users`; returns the new user's id.
pub async fn create_user(shop: &ShopClient, name: &str, email: &str) -> anyhow::Result<i64> {
    let reply = shop
        .post("/users", &json!({"name": name, "email": email}))
        .await?;
    expect_status(&reply, 201, &format!("creating user {email}"))?;
    id_of(&reply)
}

/// `POST /products`; returns the new product's id.
pub async fn create_product(
    shop: &ShopClient,
    name: &str,
    price_cents: i64,
    stock: i64,
) -> anyhow::Result<i64> {
    let body = json!({"name": name, "price_cents": price_cents, "stock": stock});
    let reply = shop.post("/products", &body).await?;
    expect_status(&reply, 201, &format!("creating product {name}"))?;
    id_of(&reply)
}

/// `POST /users/{id}/wallet/deposit`; returns the new balance.
pub async fn deposit(shop: &ShopClient, user_id: i64, amount_cents: i64) -> anyhow::Result<i64> {
    let path = format!("/users/{user_id}/wallet/deposit");
    let reply = shop
        .post(&path, &json!({"amount_cents": amount_cents}))
        .await?;
    expect_status(
        &reply,
        200,
        &format!("depositing {amount_cents} for user {user_id}"),
    )?;
    reply.body["balance_cents"]
        .as_i64()
        .with_context(|| format!("no balance in {}", reply.body))
}

/// A user with `balance_cents` in the wallet (none deposited if 0).
pub async fn funded_user(shop: &ShopClient, name: &str, balance_cents: i64) -> anyhow::Result<i64> {
    let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
    let user_id = create_user(shop, name, &email).await?;
    if balance_cents > 0 {
        deposit(shop, user_id, balance_cents).await?;
    }
    Ok(user_id)
}

/// The body of `POST /orders` for `(product_id, quantity)` items.
pub fn order_body(user_id: i64, items: &[(i64, i64)]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(product_id, quantity)| json!({"product_id": product_id, "quantity": quantity}))
        .collect();
    json!({"user_id": user_id, "items": items})
}

/// `POST /orders`, whatever the answer.
pub async fn place_order(
    shop: &ShopClient,
    user_id: i64,
    items: &[(i64, i64)],
) -> anyhow::Result<Reply> {
    shop.post("/orders", &order_body(user_id, items)).await
}

/// `POST /orders` with an `Idempotency-Key`, whatever the answer.
pub async fn place_order_with_key(
    shop: &ShopClient,
    key: &str,
    body: &Value,
) -> anyhow::Result<Reply> {
    shop.send(
        Method::POST,
        "/orders",
        Some(body),
        &[("Idempotency-Key", key)],
    )
    .await
}

/// `POST /orders` that must complete; returns the order's id.
pub async fn completed_order(
    shop: &ShopClient,
    user_id: i64,
    items: &[(i64, i64)],
) -> anyhow::Result<i64> {
    let reply = place_order(shop, user_id, items).await?;
    expect_status(
        &reply,
        201,
        &format!("ordering {items:?} for user {user_id}"),
    )?;
    id_of(&reply)
}

/// `POST /orders/{id}/cancel`, whatever the answer (the route takes no body).
pub async fn cancel(shop: &ShopClient, order_id: i64) -> anyhow::Result<Reply> {
    let path = format!("/orders/{order_id}/cancel");
    shop.raw(Method::POST, &path, None, None, &[]).await
}

/// A wallet's balance.
pub async fn balance(shop: &ShopClient, user_id: i64) -> anyhow::Result<i64> {
    let reply = shop.get(&format!("/users/{user_id}/wallet")).await?;
    expect_status(&reply, 200, &format!("reading user {user_id}'s wallet"))?;
    reply.body["balance_cents"]
        .as_i64()
        .with_context(|| format!("no balance in {}", reply.body))
}

/// A product's stock.
pub async fn stock(shop: &ShopClient, product_id: i64) -> anyhow::Result<i64> {
    let reply = shop.get(&format!("/products/{product_id}")).await?;
    expect_status(&reply, 200, &format!("reading product {product_id}"))?;
    reply.body["stock"]
        .as_i64()
        .with_context(|| format!("no stock in {}", reply.body))
}

/// `GET /users/{id}/orders`.
pub async fn orders_of(shop: &ShopClient, user_id: i64) -> anyhow::Result<Vec<Value>> {
    let reply = shop.get(&format!("/users/{user_id}/orders")).await?;
    expect_status(&reply, 200, &format!("listing user {user_id}'s orders"))?;
    reply
        .body
        .as_array()
        .cloned()
        .with_context(|| format!("not a list: {}", reply.body))
}

/// `GET /audit`.
pub async fn audit(shop: &ShopClient) -> anyhow::Result<Value> {
    let reply = shop.get("/audit").await?;
    expect_status(&reply, 200, "reading the audit")?;
    Ok(reply.body)
}

/// The audit's order counts, as `[pending, completed, failed, cancelled]`.
pub fn order_counts(audit: &Value) -> [i64; 4] {
    ["pending", "completed", "failed", "cancelled"]
        .map(|status| audit["orders"][status].as_i64().unwrap_or(-1))
}
