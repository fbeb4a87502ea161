//! Placing orders: whole or not at all. A completed order takes the stock and
//! charges the wallet; a rejected one (409) is kept as `failed` and takes
//! nothing; a 400 or 404 keeps nothing at all; the checks run in a fixed
//! order. Cancelling is in `cancellation.rs`.
//!
//! In the monolith an order is one database transaction; in the
//! microservices it is a saga across four services. Neither shows here.

use anyhow::Context;
use serde_json::{json, Value};
use shoplab::client::ShopClient;

use crate::api::{
    assert_error, audit, balance, cancel, completed_order, create_product, funded_user, id_of,
    order_counts, orders_of, place_order, stock,
};
use crate::support::contract;

contract!(
    an_order_is_completed_by_charging_the_wallet_and_taking_the_stock,
    orders_must_have_1_to_50_distinct_items_of_1_to_1000_units,
    the_first_failing_check_decides_the_answer_in_the_documented_order,
    a_rejected_order_is_kept_as_failed_and_takes_nothing,
    a_users_orders_are_listed_in_ascending_id_order_whatever_their_status,
);

/// An order's item as API.md writes it.
fn item(product_id: i64, quantity: i64, unit_price_cents: i64) -> Value {
    json!({"product_id": product_id, "quantity": quantity, "unit_price_cents": unit_price_cents})
}

async fn an_order_is_completed_by_charging_the_wallet_and_taking_the_stock(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 9_750).await?;
    let mug = create_product(&shop, "Mug", 1250, 10).await?;
    let pot = create_product(&shop, "Pot", 3000, 2).await?;

    let reply = place_order(&shop, ada, &[(mug, 2), (pot, 1)]).await?;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let expected = json!({
        "id": 1, "user_id": ada, "status": "completed", "total_cents": 5500,
        "items": [item(mug, 2, 1250), item(pot, 1, 3000)],
        "failure": null
    });
    assert_eq!(reply.body, expected);
    assert_eq!(balance(&shop, ada).await?, 4_250);
    assert_eq!((stock(&shop, mug).await?, stock(&shop, pot).await?), (8, 1));

    let read = shop.get("/orders/1").await?;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.body, expected,
        "an order reads back as it was answered"
    );

    // The last unit of stock and the last cent of the wallet can be taken.
    let reply = place_order(&shop, ada, &[(pot, 1), (mug, 1)]).await?;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["id"], 2);
    assert_eq!(reply.body["total_cents"], 4_250);
    assert_eq!(balance(&shop, ada).await?, 0);
    assert_eq!((stock(&shop, mug).await?, stock(&shop, pot).await?), (7, 0));

    let audit = audit(&shop).await?;
    assert_eq!(audit["paid_cents"], 9_750);
    assert_eq!(audit["wallet_cents"], 0);
    assert_eq!(audit["stock_units"], 7);
    assert_eq!(order_counts(&audit), [0, 2, 0, 0]);
    Ok(())
}

async fn orders_must_have_1_to_50_distinct_items_of_1_to_1000_units(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 100_000).await?;
    let mut products = Vec::new();
    for n in 1..=51 {
        products.push(create_product(&shop, &format!("Bead {n}"), 1, 1000).await?);
    }
    let first = products[0];
    let last = products[50];
    let one_each =
        |count: usize| -> Vec<(i64, i64)> { products[..count].iter().map(|id| (*id, 1)).collect() };

    let refused: Vec<(&str, Vec<(i64, i64)>)> = vec![
        ("no items", vec![]),
        ("51 items", one_each(51)),
        ("a quantity of 0", vec![(first, 0)]),
        ("a negative quantity", vec![(first, -1)]),
        ("a quantity of 1001", vec![(first, 1001)]),
        ("one product twice", vec![(first, 1), (last, 1), (first, 2)]),
    ];
    for (what, items) in &refused {
        let reply = place_order(&shop, ada, items).await?;
        assert_eq!(reply.status, 400, "an order with {what}: {}", reply.body);
        assert_error(&reply, 400, "invalid_request");
    }
    assert_eq!(
        order_counts(&audit(&shop).await?),
        [0, 0, 0, 0],
        "a 400 keeps no order"
    );
    assert_eq!(balance(&shop, ada).await?, 100_000);

    let fifty = place_order(&shop, ada, &one_each(50)).await?;
    assert_eq!(fifty.status, 201, "50 items are allowed: {}", fifty.body);
    assert_eq!(fifty.body["items"].as_array().map(Vec::len), Some(50));
    assert_eq!(fifty.body["total_cents"], 50);
    let thousand = place_order(&shop, ada, &[(last, 1000)]).await?;
    assert_eq!(
        thousand.status, 201,
        "1000 units are allowed: {}",
        thousand.body
    );
    assert_eq!(thousand.body["total_cents"], 1000);
    assert_eq!(
        (stock(&shop, first).await?, stock(&shop, last).await?),
        (999, 0)
    );
    assert_eq!(balance(&shop, ada).await?, 100_000 - 1050);
    Ok(())
}

async fn the_first_failing_check_decides_the_answer_in_the_documented_order(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 1000).await?;
    // One mug in stock, at a price Ada cannot pay.
    let mug = create_product(&shop, "Mug", 1250, 1).await?;
    let nobody = ada + 1;
    let nothing = mug + 1;

    // The body comes first, even with an unknown user and product.
    let reply = place_order(&shop, nobody, &[(nothing, 0)]).await?;
    assert_error(&reply, 400, "invalid_request");
    let reply = place_order(&shop, nobody, &[(nothing, 1), (nothing, 1)]).await?;
    assert_error(&reply, 400, "invalid_request");
    // Then the user, before the products and the stock.
    let reply = place_order(&shop, nobody, &[(nothing, 1)]).await?;
    assert_error(&reply, 404, "not_found");
    let reply = place_order(&shop, nobody, &[(mug, 2)]).await?;
    assert_error(&reply, 404, "not_found");
    // Then each product, before any stock: a later unknown product still wins.
    let reply = place_order(&shop, ada, &[(mug, 2), (nothing, 1)]).await?;
    assert_error(&reply, 404, "not_found");
    assert_eq!(
        order_counts(&audit(&shop).await?),
        [0, 0, 0, 0],
        "400 and 404 keep no order"
    );

    // Then stock, before funds: two mugs are short of both.
    let reply = place_order(&shop, ada, &[(mug, 2)]).await?;
    assert_error(&reply, 409, "insufficient_stock");
    // And funds last.
    let reply = place_order(&shop, ada, &[(mug, 1)]).await?;
    assert_error(&reply, 409, "insufficient_funds");

    let kept = orders_of(&shop, ada).await?;
    let failures: Vec<&Value> = kept.iter().map(|order| &order["failure"]).collect();
    assert_eq!(
        failures,
        [&json!("insufficient_stock"), &json!("insufficient_funds")]
    );
    assert_eq!(order_counts(&audit(&shop).await?), [0, 0, 2, 0]);
    assert_eq!(
        (balance(&shop, ada).await?, stock(&shop, mug).await?),
        (1000, 1)
    );
    Ok(())
}

async fn a_rejected_order_is_kept_as_failed_and_takes_nothing(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 5000).await?;
    let mug = create_product(&shop, "Mug", 1250, 3).await?;
    let pot = create_product(&shop, "Pot", 3000, 5).await?;

    let reply = place_order(&shop, ada, &[(mug, 4)]).await?;
    assert_error(&reply, 409, "insufficient_stock");
    let reply = place_order(&shop, ada, &[(mug, 1), (pot, 2)]).await?;
    assert_error(&reply, 409, "insufficient_funds");

    assert_eq!(balance(&shop, ada).await?, 5000, "nothing charged");
    assert_eq!(
        (stock(&shop, mug).await?, stock(&shop, pot).await?),
        (3, 5),
        "no stock taken"
    );
    let audit_now = audit(&shop).await?;
    assert_eq!(audit_now["paid_cents"], 0);
    assert_eq!(order_counts(&audit_now), [0, 0, 2, 0]);

    let kept = orders_of(&shop, ada).await?;
    assert_eq!(kept.len(), 2, "both rejected orders are kept: {kept:?}");
    let expected = [
        json!({
            "id": kept[0]["id"], "user_id": ada, "status": "failed", "total_cents": 5000,
            "items": [item(mug, 4, 1250)], "failure": "insufficient_stock"
        }),
        json!({
            "id": kept[1]["id"], "user_id": ada, "status": "failed", "total_cents": 7250,
            "items": [item(mug, 1, 1250), item(pot, 2, 3000)], "failure": "insufficient_funds"
        }),
    ];
    assert_eq!(kept, expected);
    for order in &expected {
        let read = shop.get(&format!("/orders/{}", order["id"])).await?;
        assert_eq!(
            (read.status, &read.body),
            (200, order),
            "a failed order reads back"
        );
    }

    // The failures reserved nothing: all three mugs can still be bought.
    let reply = place_order(&shop, ada, &[(mug, 3)]).await?;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let last_failed = kept[1]["id"].as_i64().context("a listed order has an id")?;
    assert!(
        id_of(&reply)? > last_failed,
        "ids keep growing after failures"
    );
    assert_eq!(
        (balance(&shop, ada).await?, stock(&shop, mug).await?),
        (1250, 0)
    );
    Ok(())
}

async fn a_users_orders_are_listed_in_ascending_id_order_whatever_their_status(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 10_000).await?;
    let bob = funded_user(&shop, "Bob", 10_000).await?;
    let carol = funded_user(&shop, "Carol", 0).await?;
    let mug = create_product(&shop, "Mug", 1250, 100).await?;
    let gold = create_product(&shop, "Gold", 100_000, 100).await?;

    let first = completed_order(&shop, ada, &[(mug, 1)]).await?;
    let bobs = completed_order(&shop, bob, &[(mug, 2)]).await?;
    let rejected = place_order(&shop, ada, &[(gold, 1)]).await?;
    assert_error(&rejected, 409, "insufficient_funds");
    let to_cancel = completed_order(&shop, ada, &[(mug, 3)]).await?;
    let cancelled = cancel(&shop, to_cancel).await?;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let last = completed_order(&shop, ada, &[(mug, 4)]).await?;

    let listed = orders_of(&shop, ada).await?;
    let statuses: Vec<(&Value, &Value)> = listed
        .iter()
        .map(|order| (&order["id"], &order["status"]))
        .collect();
    assert_eq!(
        statuses.len(),
        4,
        "all of Ada's orders and only hers: {listed:?}"
    );
    assert_eq!(statuses[0], (&json!(first), &json!("completed")));
    assert_eq!(statuses[1].1, "failed");
    assert_eq!(statuses[2], (&json!(to_cancel), &json!("cancelled")));
    assert_eq!(statuses[3], (&json!(last), &json!("completed")));
    let ids: Vec<i64> = listed
        .iter()
        .filter_map(|order| order["id"].as_i64())
        .collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "ascending ids: {ids:?}"
    );
    for order in &listed {
        let read = shop.get(&format!("/orders/{}", order["id"])).await?;
        assert_eq!(&read.body, order, "the listing shows whole orders");
    }

    let bob_listed = orders_of(&shop, bob).await?;
    assert_eq!(bob_listed.len(), 1);
    assert_eq!(bob_listed[0]["id"], bobs);
    assert_eq!(
        orders_of(&shop, carol).await?,
        Vec::<Value>::new(),
        "no orders is an empty list"
    );
    assert_error(
        &shop.get(&format!("/users/{}/orders", carol + 1)).await?,
        404,
        "not_found",
    );
    Ok(())
}
