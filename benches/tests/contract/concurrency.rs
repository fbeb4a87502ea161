//! Orders racing each other: however many arrive at once, no unit of stock is
//! sold twice, no wallet pays for what it cannot afford, and an order
//! cancelled many times at once is given back once. In the monolith
//! the database serialises the race; in the microservices the catalog and
//! payments services must, each for what it owns.

use std::future::Future;

use futures_util::future::join_all;
use serde_json::Value;
use shoplab::client::{Reply, ShopClient};

use crate::api::{
    audit, balance, cancel, completed_order, create_product, funded_user, order_body, order_counts,
    stock,
};
use crate::support::contract;

contract!(
    forty_buyers_racing_for_ten_units_get_exactly_ten_orders,
    twenty_concurrent_orders_never_overdraw_one_wallet,
    concurrent_cancels_of_one_order_refund_it_once,
);

/// Sends every request at once and collects `(status, error code)` answers.
async fn all_at_once(
    requests: impl IntoIterator<Item = impl Future<Output = anyhow::Result<Reply>>>,
) -> anyhow::Result<Vec<(u16, Option<String>)>> {
    join_all(requests)
        .await
        .into_iter()
        .map(|reply| {
            let reply = reply?;
            Ok((reply.status, reply.error_code().map(str::to_owned)))
        })
        .collect()
}

/// Counts answers by `(status, error code)`.
fn tally(answers: &[(u16, Option<String>)], status: u16, code: Option<&str>) -> usize {
    answers
        .iter()
        .filter(|(got, got_code)| *got == status && got_code.as_deref() == code)
        .count()
}

async fn forty_buyers_racing_for_ten_units_get_exactly_ten_orders(
    shop: ShopClient,
) -> anyhow::Result<()> {
    const PRICE: i64 = 700;
    const FUNDS: i64 = 1_000;
    let mug = create_product(&shop, "Mug", PRICE, 10).await?;
    let mut buyers = Vec::new();
    for n in 0..40 {
        buyers.push(funded_user(&shop, &format!("Buyer {n}"), FUNDS).await?);
    }

    let bodies: Vec<Value> = buyers
        .iter()
        .map(|buyer| order_body(*buyer, &[(mug, 1)]))
        .collect();
    let orders = bodies.iter().map(|body| shop.post("/orders", body));
    let answers = all_at_once(orders).await?;
    assert_eq!(
        tally(&answers, 201, None),
        10,
        "exactly the stock is sold: {answers:?}"
    );
    assert_eq!(
        tally(&answers, 409, Some("insufficient_stock")),
        30,
        "{answers:?}"
    );
    assert_eq!(stock(&shop, mug).await?, 0);

    let mut balances = 0;
    for buyer in &buyers {
        let left = balance(&shop, *buyer).await?;
        assert!(
            left == FUNDS || left == FUNDS - PRICE,
            "buyer {buyer} has {left}"
        );
        balances += left;
    }
    assert_eq!(balances, 40 * FUNDS - 10 * PRICE);

    let audit = audit(&shop).await?;
    assert_eq!(audit["stock_units"], 0);
    assert_eq!(audit["wallet_cents"], balances);
    assert_eq!(audit["paid_cents"], 10 * PRICE);
    assert_eq!(order_counts(&audit), [0, 10, 30, 0]);
    Ok(())
}

async fn twenty_concurrent_orders_never_overdraw_one_wallet(
    shop: ShopClient,
) -> anyhow::Result<()> {
    const PRICE: i64 = 1_000;
    // Enough for exactly five orders.
    let ada = funded_user(&shop, "Ada", 5 * PRICE).await?;
    let mug = create_product(&shop, "Mug", PRICE, 100).await?;

    let body = order_body(ada, &[(mug, 1)]);
    let orders = (0..20).map(|_| shop.post("/orders", &body));
    let answers = all_at_once(orders).await?;
    assert_eq!(
        tally(&answers, 201, None),
        5,
        "exactly what the wallet holds: {answers:?}"
    );
    assert_eq!(
        tally(&answers, 409, Some("insufficient_funds")),
        15,
        "{answers:?}"
    );
    assert_eq!(balance(&shop, ada).await?, 0);
    assert_eq!(stock(&shop, mug).await?, 95, "failed orders took no stock");

    let audit = audit(&shop).await?;
    assert_eq!(audit["paid_cents"], 5 * PRICE);
    assert_eq!(audit["wallet_cents"], 0);
    assert_eq!(order_counts(&audit), [0, 5, 15, 0]);
    Ok(())
}

async fn concurrent_cancels_of_one_order_refund_it_once(shop: ShopClient) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 10_000).await?;
    let mug = create_product(&shop, "Mug", 1_250, 10).await?;
    let order = completed_order(&shop, ada, &[(mug, 4)]).await?;

    let cancels = (0..20).map(|_| cancel(&shop, order));
    let answers = all_at_once(cancels).await?;
    // All four figures at once, so a failure shows how much was given back.
    let outcome = (
        tally(&answers, 200, None),
        tally(&answers, 409, Some("invalid_state")),
        balance(&shop, ada).await?,
        stock(&shop, mug).await?,
    );
    assert_eq!(
        outcome,
        (1, 19, 10_000, 10),
        "(cancelled, refused, balance, stock): one cancel wins, all given back once"
    );
    let audit = audit(&shop).await?;
    assert_eq!(audit["paid_cents"], 0);
    assert_eq!(order_counts(&audit), [0, 0, 0, 1]);
    Ok(())
}
