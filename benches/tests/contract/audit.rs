//! `GET /audit`, the ground truth of the consistency experiments: exact
//! figures after a known scenario, and API.md's invariants (money and stock
//! are conserved; only completed orders are paid for) recomputed from what
//! the other routes show.

use anyhow::Context;
use serde_json::{json, Value};
use shoplab::client::ShopClient;

use crate::api::{
    assert_error, audit, balance, cancel, completed_order, create_product, deposit, funded_user,
    id_of, order_counts, orders_of, place_order,
};
use crate::support::contract;

contract!(
    the_audit_reports_exact_figures_after_a_known_scenario,
    the_audit_invariants_hold_after_orders_failures_and_cancellations,
    the_order_audit_shows_what_each_component_holds_for_one_order,
);

async fn the_audit_reports_exact_figures_after_a_known_scenario(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let empty = json!({
        "users": 0, "products": 0, "stock_units": 0, "wallet_cents": 0, "paid_cents": 0,
        "orders": {"pending": 0, "completed": 0, "failed": 0, "cancelled": 0}
    });
    assert_eq!(audit(&shop).await?, empty);

    // API.md's example figures: 3 users, 5 products, deposits of 10_000.
    let ada = funded_user(&shop, "Ada", 3_000).await?;
    let bob = funded_user(&shop, "Bob", 5_000).await?;
    let carol = funded_user(&shop, "Carol", 2_000).await?;
    let a = create_product(&shop, "A", 500, 30).await?;
    let b = create_product(&shop, "B", 800, 30).await?;
    let c = create_product(&shop, "C", 1_000, 20).await?;
    let d = create_product(&shop, "D", 200, 20).await?;
    create_product(&shop, "E", 100, 27).await?;

    let adas = completed_order(&shop, ada, &[(a, 2), (d, 1)]).await?; // 1_200, 3 units
    completed_order(&shop, bob, &[(b, 1), (d, 3)]).await?; // 1_400, 4 units
    let rejected = place_order(&shop, carol, &[(c, 3)]).await?; // 3_000 > 2_000
    assert_error(&rejected, 409, "insufficient_funds");

    let expected = json!({
        "users": 3, "products": 5, "stock_units": 120, "wallet_cents": 7_400, "paid_cents": 2_600,
        "orders": {"pending": 0, "completed": 2, "failed": 1, "cancelled": 0}
    });
    assert_eq!(audit(&shop).await?, expected);

    let reply = cancel(&shop, adas).await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let expected = json!({
        "users": 3, "products": 5, "stock_units": 123, "wallet_cents": 8_600, "paid_cents": 1_400,
        "orders": {"pending": 0, "completed": 1, "failed": 1, "cancelled": 1}
    });
    assert_eq!(
        audit(&shop).await?,
        expected,
        "a cancel moves the money and the stock back"
    );
    Ok(())
}

/// What the routes other than `/audit` show, summed over every user's orders.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    completed_units: i64,
    completed_totals: i64,
    /// `[pending, completed, failed, cancelled]`
    counts: [i64; 4],
}

fn tally_orders(orders: &[Value], seen: &mut Seen) {
    for order in orders {
        let status = order["status"].as_str().unwrap_or("?");
        let index = ["pending", "completed", "failed", "cancelled"]
            .iter()
            .position(|known| *known == status);
        let index = index.unwrap_or_else(|| panic!("unknown status in {order}"));
        seen.counts[index] += 1;
        if status == "completed" {
            seen.completed_totals += order["total_cents"].as_i64().unwrap_or(0);
            let items = order["items"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            seen.completed_units += items
                .iter()
                .filter_map(|item| item["quantity"].as_i64())
                .sum::<i64>();
        }
    }
}

async fn the_audit_invariants_hold_after_orders_failures_and_cancellations(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let mut deposits = 0;
    let mut stock_created = 0;
    let mut users = Vec::new();
    for (n, amount) in [4_000, 9_000, 2_500, 0, 15_000].into_iter().enumerate() {
        users.push(funded_user(&shop, &format!("User {n}"), amount).await?);
        deposits += amount;
    }
    let mut products = Vec::new();
    for (n, (price, stock)) in [(300, 12), (1_250, 4), (990, 0), (5_000, 3)]
        .into_iter()
        .enumerate()
    {
        products.push(create_product(&shop, &format!("Product {n}"), price, stock).await?);
        stock_created += stock;
    }

    // A fixed mix of orders: some complete, some run out of stock or money.
    let mut completed = Vec::new();
    for round in 0..4_usize {
        for (u, user) in users.iter().enumerate() {
            let first = products[(u + round) % products.len()];
            let second = products[(u + round + 1) % products.len()];
            let quantity = if round % 2 == 0 { 1 } else { 2 };
            let items = [(first, quantity), (second, 1)];
            let reply = place_order(&shop, *user, &items).await?;
            match reply.status {
                201 => completed.push(id_of(&reply)?),
                409 => assert!(
                    matches!(
                        reply.error_code(),
                        Some("insufficient_stock" | "insufficient_funds")
                    ),
                    "{}",
                    reply.body
                ),
                other => panic!(
                    "order {items:?} for user {user}: unexpected {other} {}",
                    reply.body
                ),
            }
        }
        // Top one wallet up between rounds, and cancel every third completed order.
        deposit(&shop, users[3], 1_000).await?;
        deposits += 1_000;
        if let Some(order) = completed.get(round * 3) {
            let reply = cancel(&shop, *order).await?;
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
    }

    let mut seen = Seen::default();
    let mut balances = 0;
    for user in &users {
        tally_orders(&orders_of(&shop, *user).await?, &mut seen);
        balances += balance(&shop, *user).await?;
    }
    let audit = audit(&shop).await?;
    let figure = |name: &str| audit[name].as_i64().unwrap_or(i64::MIN);
    assert!(
        seen.counts[1] > 0 && seen.counts[2] > 0 && seen.counts[3] > 0,
        "the mix has every outcome: {seen:?}"
    );

    assert_eq!(
        figure("wallet_cents") + figure("paid_cents"),
        deposits,
        "money is conserved: {audit}"
    );
    assert_eq!(
        figure("stock_units") + seen.completed_units,
        stock_created,
        "stock is conserved: {audit}"
    );
    assert_eq!(
        figure("paid_cents"),
        seen.completed_totals,
        "exactly the completed orders are paid for"
    );
    assert_eq!(figure("wallet_cents"), balances, "the sum of the balances");
    assert_eq!(
        order_counts(&audit),
        seen.counts,
        "the audit counts the orders the users see"
    );
    assert_eq!((figure("users"), figure("products")), (5, 4));
    Ok(())
}

/// `GET /audit/orders/{id}`: a completed order is charged its total and
/// holds its units; a failed one and a cancelled one hold nothing; an
/// unknown order is 404 and a bad id 400.
async fn the_order_audit_shows_what_each_component_holds_for_one_order(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let ada = funded_user(&shop, "Ada", 5_000).await?;
    let mug = create_product(&shop, "Mug", 1_250, 10).await?;
    let lamp = create_product(&shop, "Lamp", 300, 10).await?;
    let kept = completed_order(&shop, ada, &[(mug, 2), (lamp, 1)]).await?; // 2_800, 3 units
    let cancelled = completed_order(&shop, ada, &[(lamp, 2)]).await?; // 600, 2 units
    let refused = place_order(&shop, ada, &[(mug, 3)]).await?; // 3_750 > 1_600
    assert_error(&refused, 409, "insufficient_funds");
    let reply = cancel(&shop, cancelled).await?;
    assert_eq!(reply.status, 200, "{}", reply.body);

    let order_audit = |id: i64| {
        let shop = shop.clone();
        async move { shop.get(&format!("/audit/orders/{id}")).await }
    };
    let reply = order_audit(kept).await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body,
        json!({"order_id": kept, "status": "completed", "total_cents": 2_800,
               "charged_cents": 2_800, "reserved_units": 3})
    );
    let reply = order_audit(cancelled).await?;
    assert_eq!(
        reply.body,
        json!({"order_id": cancelled, "status": "cancelled", "total_cents": 600,
               "charged_cents": 0, "reserved_units": 0})
    );
    // The error body has no id: the failed order is found among the user's.
    let orders = orders_of(&shop, ada).await?;
    let failed_id = orders
        .iter()
        .find(|order| order["status"] == "failed")
        .and_then(|order| order["id"].as_i64())
        .context("the refused order is kept as failed")?;
    let reply = order_audit(failed_id).await?;
    assert_eq!(
        reply.body,
        json!({"order_id": failed_id, "status": "failed", "total_cents": 3_750,
               "charged_cents": 0, "reserved_units": 0})
    );
    assert_error(&order_audit(999_999).await?, 404, "not_found");
    assert_error(&order_audit(0).await?, 400, "invalid_request");
    Ok(())
}
