//! `POST /orders/{id}/cancel`: only a completed order can be cancelled, and
//! cancelling gives the money and the stock back exactly once.
//!
//! In the monolith this is one transaction; in the microservices the orders
//! service asks payments to refund and catalog to release, then records it.

use anyhow::Context;
use shoplab::client::ShopClient;

use crate::api::{
    assert_error, audit, balance, cancel, completed_order, create_product, funded_user, id_of,
    order_counts, orders_of, place_order, stock,
};
use crate::support::contract;

contract!(
    cancelling_a_completed_order_refunds_the_wallet_and_returns_the_stock_once,
    only_completed_orders_can_be_cancelled,
);

async fn cancelling_a_completed_order_refunds_the_wallet_and_returns_the_stock_once(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 10_000).await?;
    let mug = create_product(&shop, "Mug", 1250, 10).await?;
    let placed = place_order(&shop, ada, &[(mug, 4)]).await?;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let order_id = id_of(&placed)?;
    assert_eq!(
        (balance(&shop, ada).await?, stock(&shop, mug).await?),
        (5000, 6)
    );

    let reply = cancel(&shop, order_id).await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    for field in ["id", "user_id", "total_cents", "items"] {
        assert_eq!(
            reply.body[field], placed.body[field],
            "a cancelled order keeps its {field}"
        );
    }
    assert_eq!(reply.body["status"], "cancelled");
    assert_eq!(
        (balance(&shop, ada).await?, stock(&shop, mug).await?),
        (10_000, 10),
        "all given back"
    );
    let read = shop.get(&format!("/orders/{order_id}")).await?;
    assert_eq!(read.body, reply.body, "the cancellation is recorded");

    let again = cancel(&shop, order_id).await?;
    assert_error(&again, 409, "invalid_state");
    assert_eq!(
        (balance(&shop, ada).await?, stock(&shop, mug).await?),
        (10_000, 10),
        "refunded only once"
    );

    let audit = audit(&shop).await?;
    assert_eq!(audit["paid_cents"], 0);
    assert_eq!(audit["wallet_cents"], 10_000);
    assert_eq!(audit["stock_units"], 10);
    assert_eq!(order_counts(&audit), [0, 0, 0, 1]);

    // What came back can be spent and bought again.
    completed_order(&shop, ada, &[(mug, 8)]).await?;
    assert_eq!(
        (balance(&shop, ada).await?, stock(&shop, mug).await?),
        (0, 2)
    );
    Ok(())
}

async fn only_completed_orders_can_be_cancelled(shop: ShopClient) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 1000).await?;
    let mug = create_product(&shop, "Mug", 1250, 10).await?;
    let rejected = place_order(&shop, ada, &[(mug, 1)]).await?;
    assert_error(&rejected, 409, "insufficient_funds");
    let failed = orders_of(&shop, ada).await?;
    let failed_id = failed
        .first()
        .and_then(|order| order["id"].as_i64())
        .context("the rejected order is not listed")?;

    let reply = cancel(&shop, failed_id).await?;
    assert_error(&reply, 409, "invalid_state");
    let read = shop.get(&format!("/orders/{failed_id}")).await?;
    assert_eq!(
        read.body["status"], "failed",
        "a refused cancel changes nothing"
    );
    assert_eq!(
        (balance(&shop, ada).await?, stock(&shop, mug).await?),
        (1000, 10),
        "nothing refunded"
    );

    let unknown = failed_id + 1;
    assert_error(&cancel(&shop, unknown).await?, 404, "not_found");
    assert_error(
        &shop.get(&format!("/orders/{unknown}")).await?,
        404,
        "not_found",
    );
    assert_eq!(order_counts(&audit(&shop).await?), [0, 0, 1, 0]);
    Ok(())
}
