//! `Idempotency-Key` on `POST /orders`: a retried request is answered with
//! the first answer and charges nothing more, however often and however
//! concurrently it arrives. The body is compared as a JSON value, so a client
//! that re-serialises its request differently is still recognised.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;
use shoplab::client::ShopClient;

use crate::api::{
    assert_error, audit, balance, create_product, deposit, funded_user, order_body, order_counts,
    orders_of, place_order, place_order_with_key, stock,
};
use crate::support::contract;

contract!(
    a_repeated_key_with_the_same_body_replays_the_first_answer,
    a_key_reused_with_another_body_is_a_conflict,
    a_key_whose_request_kept_no_order_is_not_used_up,
    a_key_whose_order_failed_replays_the_failure,
    keys_must_be_1_to_128_visible_ascii_characters,
    twenty_concurrent_requests_with_one_key_place_one_order,
);

async fn a_repeated_key_with_the_same_body_replays_the_first_answer(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 10_000).await?;
    let mug = create_product(&shop, "Mug", 1250, 10).await?;
    let body = order_body(ada, &[(mug, 2)]);

    let first = place_order_with_key(&shop, "order-1", &body).await?;
    assert_eq!(first.status, 201, "{}", first.body);
    for _ in 0..3 {
        let again = place_order_with_key(&shop, "order-1", &body).await?;
        assert_eq!(
            (again.status, &again.body),
            (201, &first.body),
            "the first answer, again"
        );
    }
    // The same JSON value in other words: spacing and key order differ.
    let rewritten = format!(
        "{{ \"items\" : [ {{\"quantity\":2,\n \"product_id\" : {mug}}} ],\n\t\"user_id\":{ada} }}"
    );
    let again = shop
        .raw(
            Method::POST,
            "/orders",
            Some("application/json"),
            Some(rewritten.into_bytes()),
            &[("Idempotency-Key", "order-1")],
        )
        .await?;
    assert_eq!(
        (again.status, &again.body),
        (201, &first.body),
        "the same value is the same body"
    );

    assert_eq!(balance(&shop, ada).await?, 7_500, "charged once");
    assert_eq!(stock(&shop, mug).await?, 8, "stock taken once");
    assert_eq!(orders_of(&shop, ada).await?.len(), 1, "one order kept");

    // Another key is another order.
    let other = place_order_with_key(&shop, "order-2", &body).await?;
    assert_eq!(other.status, 201, "{}", other.body);
    assert_ne!(other.body["id"], first.body["id"]);
    assert_eq!(balance(&shop, ada).await?, 5_000);
    assert_eq!(order_counts(&audit(&shop).await?), [0, 2, 0, 0]);
    Ok(())
}

async fn a_key_reused_with_another_body_is_a_conflict(shop: ShopClient) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 10_000).await?;
    let bob = funded_user(&shop, "Bob", 10_000).await?;
    let mug = create_product(&shop, "Mug", 1250, 10).await?;
    let body = order_body(ada, &[(mug, 1)]);
    let first = place_order_with_key(&shop, "shared-key", &body).await?;
    assert_eq!(first.status, 201, "{}", first.body);

    let others = [
        order_body(ada, &[(mug, 2)]),
        // Keys are global to the deployment, not per user.
        order_body(bob, &[(mug, 1)]),
        json!({"user_id": ada, "items": [{"product_id": mug, "quantity": 1}, {"product_id": mug + 1, "quantity": 1}]}),
    ];
    for other in &others {
        let reply = place_order_with_key(&shop, "shared-key", other).await?;
        assert_eq!(reply.status, 409, "{other}: {}", reply.body);
        assert_error(&reply, 409, "idempotency_conflict");
    }
    let again = place_order_with_key(&shop, "shared-key", &body).await?;
    assert_eq!(
        (again.status, &again.body),
        (201, &first.body),
        "the key still replays its own body"
    );

    assert_eq!(
        (balance(&shop, ada).await?, balance(&shop, bob).await?),
        (8_750, 10_000)
    );
    assert_eq!(stock(&shop, mug).await?, 9);
    assert_eq!(
        order_counts(&audit(&shop).await?),
        [0, 1, 0, 0],
        "a conflict keeps no order"
    );
    Ok(())
}

async fn a_key_whose_request_kept_no_order_is_not_used_up(shop: ShopClient) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 10_000).await?;
    let mug = create_product(&shop, "Mug", 1250, 10).await?;

    let unknown_product = order_body(ada, &[(mug + 1, 1)]);
    let reply = place_order_with_key(&shop, "after-404", &unknown_product).await?;
    assert_error(&reply, 404, "not_found");
    let unknown_user = order_body(ada + 1, &[(mug, 1)]);
    let reply = place_order_with_key(&shop, "after-404-user", &unknown_user).await?;
    assert_error(&reply, 404, "not_found");
    let invalid = order_body(ada, &[(mug, 0)]);
    let reply = place_order_with_key(&shop, "after-400", &invalid).await?;
    assert_error(&reply, 400, "invalid_request");

    // Each key is still free: another body under it is no conflict.
    for key in ["after-404", "after-404-user", "after-400"] {
        let reply = place_order_with_key(&shop, key, &order_body(ada, &[(mug, 1)])).await?;
        assert_eq!(reply.status, 201, "key {key}: {}", reply.body);
    }
    assert_eq!(balance(&shop, ada).await?, 10_000 - 3 * 1250);
    assert_eq!(order_counts(&audit(&shop).await?), [0, 3, 0, 0]);
    Ok(())
}

async fn a_key_whose_order_failed_replays_the_failure(shop: ShopClient) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 1000).await?;
    let mug = create_product(&shop, "Mug", 1250, 10).await?;
    let body = order_body(ada, &[(mug, 1)]);

    let first = place_order_with_key(&shop, "too-poor", &body).await?;
    assert_error(&first, 409, "insufficient_funds");
    // Even once Ada could pay, the key answers as it did the first time.
    deposit(&shop, ada, 5000).await?;
    let again = place_order_with_key(&shop, "too-poor", &body).await?;
    assert_eq!(
        (again.status, &again.body),
        (409, &first.body),
        "the failure, replayed"
    );
    let other = place_order_with_key(&shop, "too-poor", &order_body(ada, &[(mug, 2)])).await?;
    assert_error(&other, 409, "idempotency_conflict");

    let stock_body = order_body(ada, &[(mug, 11)]);
    let short = place_order_with_key(&shop, "too-few", &stock_body).await?;
    assert_error(&short, 409, "insufficient_stock");
    let again = place_order_with_key(&shop, "too-few", &stock_body).await?;
    assert_eq!((again.status, &again.body), (409, &short.body));

    assert_eq!(
        (balance(&shop, ada).await?, stock(&shop, mug).await?),
        (6000, 10),
        "nothing taken"
    );
    let kept = orders_of(&shop, ada).await?;
    assert_eq!(kept.len(), 2, "one failed order per key: {kept:?}");
    assert_eq!(order_counts(&audit(&shop).await?), [0, 0, 2, 0]);

    // Without the key, the same order now goes through.
    let reply = place_order(&shop, ada, &[(mug, 1)]).await?;
    assert_eq!(reply.status, 201, "{}", reply.body);
    Ok(())
}

async fn keys_must_be_1_to_128_visible_ascii_characters(shop: ShopClient) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 10_000).await?;
    let mug = create_product(&shop, "Mug", 1250, 10).await?;
    let body = order_body(ada, &[(mug, 1)]);

    let too_long = "k".repeat(129);
    for key in [too_long.as_str(), "has space", "tab\tinside"] {
        let reply = place_order_with_key(&shop, key, &body).await?;
        assert_eq!(reply.status, 400, "key {key:?}: {}", reply.body);
        assert_error(&reply, 400, "invalid_request");
    }
    assert_eq!(
        (balance(&shop, ada).await?, stock(&shop, mug).await?),
        (10_000, 10),
        "refused, nothing taken"
    );
    assert_eq!(order_counts(&audit(&shop).await?), [0, 0, 0, 0]);

    let longest = "k".repeat(128);
    for key in [longest.as_str(), "k", "!#$%&'*+-.^_`|~{}[]:;<=>?@\"/\\,()"] {
        let reply = place_order_with_key(&shop, key, &body).await?;
        assert_eq!(reply.status, 201, "key {key:?}: {}", reply.body);
    }
    assert_eq!(balance(&shop, ada).await?, 10_000 - 3 * 1250);
    Ok(())
}

async fn twenty_concurrent_requests_with_one_key_place_one_order(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 100_000).await?;
    let mug = create_product(&shop, "Mug", 1250, 100).await?;
    let body = order_body(ada, &[(mug, 3)]);

    let requests = (0..20).map(|_| place_order_with_key(&shop, "all-at-once", &body));
    let replies = join_all(requests).await;
    let mut answers = Vec::new();
    for reply in replies {
        let reply = reply?;
        answers.push((reply.status, reply.body));
    }
    let first = answers[0].clone();
    assert_eq!(first.0, 201, "{}", first.1);
    assert_eq!(first.1["status"], "completed");
    for answer in &answers {
        assert_eq!(answer, &first, "every duplicate gets the first answer");
    }
    assert_eq!(balance(&shop, ada).await?, 100_000 - 3750, "charged once");
    assert_eq!(stock(&shop, mug).await?, 97, "stock taken once");
    assert_eq!(orders_of(&shop, ada).await?.len(), 1);
    assert_eq!(order_counts(&audit(&shop).await?), [0, 1, 0, 0]);
    Ok(())
}
