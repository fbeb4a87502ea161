//! Wallets: every user has one, starting at 0; deposits of 1 cent to one
//! million units (100_000_000 cents) each are added, anything else is refused
//! and changes nothing.

use serde_json::json;
use shoplab::client::ShopClient;

use crate::api::{assert_error, balance, create_user, deposit};
use crate::support::contract;

contract!(
    a_wallet_starts_empty_and_grows_with_each_deposit,
    deposits_outside_1_cent_to_100_million_cents_are_refused,
);

async fn a_wallet_starts_empty_and_grows_with_each_deposit(shop: ShopClient) -> anyhow::Result<()> {
    let ada = create_user(&shop, "Ada", "ada@example.com").await?;
    let wallet = shop.get(&format!("/users/{ada}/wallet")).await?;
    assert_eq!(wallet.status, 200);
    assert_eq!(wallet.body, json!({"user_id": ada, "balance_cents": 0}));

    let deposit_path = format!("/users/{ada}/wallet/deposit");
    let reply = shop
        .post(&deposit_path, &json!({"amount_cents": 1}))
        .await?;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, json!({"user_id": ada, "balance_cents": 1}));
    let reply = shop
        .post(&deposit_path, &json!({"amount_cents": 100_000_000}))
        .await?;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        json!({"user_id": ada, "balance_cents": 100_000_001})
    );
    let reply = shop
        .post(&deposit_path, &json!({"amount_cents": 5000}))
        .await?;
    assert_eq!(
        reply.body,
        json!({"user_id": ada, "balance_cents": 100_005_001})
    );

    let wallet = shop.get(&format!("/users/{ada}/wallet")).await?;
    assert_eq!(
        wallet.body,
        json!({"user_id": ada, "balance_cents": 100_005_001})
    );

    // Wallets are per user.
    let bob = create_user(&shop, "Bob", "bob@example.com").await?;
    assert_eq!(balance(&shop, bob).await?, 0);

    let unknown = bob + 1;
    assert_error(
        &shop.get(&format!("/users/{unknown}/wallet")).await?,
        404,
        "not_found",
    );
    let reply = shop
        .post(
            &format!("/users/{unknown}/wallet/deposit"),
            &json!({"amount_cents": 100}),
        )
        .await?;
    assert_error(&reply, 404, "not_found");
    let audit = shop.get("/audit").await?;
    assert_eq!(
        audit.body["wallet_cents"], 100_005_001,
        "the deposit to nobody went nowhere"
    );
    Ok(())
}

async fn deposits_outside_1_cent_to_100_million_cents_are_refused(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let ada = create_user(&shop, "Ada", "ada@example.com").await?;
    let deposit_path = format!("/users/{ada}/wallet/deposit");
    deposit(&shop, ada, 700).await?;
    for amount in [0, -5, -100_000_000, 100_000_001, i64::MAX] {
        let reply = shop
            .post(&deposit_path, &json!({"amount_cents": amount}))
            .await?;
        assert_eq!(reply.status, 400, "depositing {amount}: {}", reply.body);
        assert_error(&reply, 400, "invalid_request");
    }
    assert_eq!(
        balance(&shop, ada).await?,
        700,
        "refused deposits change nothing"
    );
    Ok(())
}
