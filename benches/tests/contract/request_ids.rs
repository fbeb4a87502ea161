//! `X-Request-Id`: every answer carries one, the caller's when it sent a
//! valid one (1–128 visible ASCII characters), a fresh one otherwise. Through
//! the gateway too: the microservices must not lose or invent ids on the way.

use reqwest::Method;
use serde_json::json;
use shoplab::client::{Reply, ShopClient};

use crate::support::contract;

contract!(
    a_request_id_sent_by_the_caller_is_echoed_back,
    a_missing_or_invalid_request_id_is_replaced_by_a_fresh_one,
);

const HEADER: &str = "X-Request-Id";

/// The answer's request id, which must look like one a caller could send.
#[track_caller]
fn request_id(reply: &Reply) -> String {
    let id = reply
        .header(HEADER)
        .unwrap_or_else(|| panic!("no {HEADER} on an answer with status {}", reply.status));
    assert!(
        (1..=128).contains(&id.len()) && id.bytes().all(|byte| byte.is_ascii_graphic()),
        "{HEADER} must be 1–128 visible ASCII characters: {id:?}"
    );
    id.to_owned()
}

async fn a_request_id_sent_by_the_caller_is_echoed_back(shop: ShopClient) -> anyhow::Result<()> {
    let longest = "r".repeat(128);
    let sent = [
        "trace-1",
        "x",
        "0af7651916cd43dd8448eb211c80319c",
        "a/b:c=d!~",
        longest.as_str(),
    ];
    for (n, id) in sent.into_iter().enumerate() {
        let headers = [(HEADER, id)];
        let healthy = shop.send(Method::GET, "/health", None, &headers).await?;
        assert_eq!(request_id(&healthy), id, "on a 200");
        let user = json!({"name": "Ada", "email": format!("ada{n}@example.com")});
        let created = shop
            .send(Method::POST, "/users", Some(&user), &headers)
            .await?;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(request_id(&created), id, "on a 201");
        let missing = shop.send(Method::GET, "/users/999", None, &headers).await?;
        assert_eq!(missing.status, 404);
        assert_eq!(request_id(&missing), id, "on a 404");
        let invalid = shop.send(Method::GET, "/users/abc", None, &headers).await?;
        assert_eq!(invalid.status, 400);
        assert_eq!(request_id(&invalid), id, "on a 400");
        // User 1 exists and product 1 does not: the orders component asks the
        // others, so in the microservices the id must travel on every hop.
        let order = json!({"user_id": 1, "items": [{"product_id": 1, "quantity": 1}]});
        let ordered = shop
            .send(Method::POST, "/orders", Some(&order), &headers)
            .await?;
        assert_eq!(ordered.status, 404, "no product 1: {}", ordered.body);
        assert_eq!(
            request_id(&ordered),
            id,
            "on an order that crossed services"
        );
    }
    Ok(())
}

async fn a_missing_or_invalid_request_id_is_replaced_by_a_fresh_one(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let first = request_id(&shop.get("/health").await?);
    let second = request_id(&shop.get("/health").await?);
    assert_ne!(first, second, "each request without an id gets its own");
    let not_found = request_id(&shop.get("/users/1").await?);
    assert_ne!(not_found, first);

    let too_long = "r".repeat(129);
    let invalid = [too_long.as_str(), "has space", "tab\there", ""];
    for id in invalid {
        let reply = shop
            .send(Method::GET, "/health", None, &[(HEADER, id)])
            .await?;
        assert_eq!(
            reply.status, 200,
            "an invalid request id is replaced, not refused"
        );
        let fresh = request_id(&reply);
        assert_ne!(
            fresh, id,
            "{id:?} is not a valid request id and must be replaced"
        );
    }
    Ok(())
}
