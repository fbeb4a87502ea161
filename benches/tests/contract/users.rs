//! `POST /users` and `GET /users/{id}`: what a user looks like, which names
//! and emails are accepted, that an email is registered once whatever its
//! case, and how path ids are parsed on every route that takes one.

use reqwest::Method;
use serde_json::json;
use shoplab::client::ShopClient;

use crate::api::{assert_error, audit, create_user};
use crate::support::contract;

contract!(
    a_new_user_is_created_with_a_trimmed_name_and_read_back,
    an_email_is_registered_only_once_whatever_its_case,
    names_must_have_1_to_200_characters_after_trimming,
    emails_must_have_one_at_sign_between_text_and_at_most_254_characters,
    path_ids_must_be_positive_integers_that_fit_in_i64,
);

async fn a_new_user_is_created_with_a_trimmed_name_and_read_back(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let reply = shop
        .post(
            "/users",
            &json!({"name": "Ada", "email": "ada@example.com"}),
        )
        .await?;
    assert_eq!(reply.status, 201);
    assert_eq!(
        reply.body,
        json!({"id": 1, "name": "Ada", "email": "ada@example.com"})
    );

    let reply = shop
        .post(
            "/users",
            &json!({"name": "  Grace Hopper \t", "email": "grace@example.com"}),
        )
        .await?;
    assert_eq!(reply.status, 201);
    assert_eq!(
        reply.body,
        json!({"id": 2, "name": "Grace Hopper", "email": "grace@example.com"})
    );

    let read = shop.get("/users/2").await?;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, reply.body, "a user reads back as it was created");
    let first = shop.get("/users/1").await?;
    assert_eq!(
        first.body,
        json!({"id": 1, "name": "Ada", "email": "ada@example.com"})
    );

    let missing = shop.get("/users/3").await?;
    assert_error(&missing, 404, "not_found");
    let missing = shop.get("/users/9223372036854775807").await?;
    assert_error(&missing, 404, "not_found");
    Ok(())
}

async fn an_email_is_registered_only_once_whatever_its_case(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let ada = create_user(&shop, "Ada", "ada@example.com").await?;
    for email in ["ada@example.com", "ADA@example.com", "Ada@Example.COM"] {
        let reply = shop
            .post("/users", &json!({"name": "Another Ada", "email": email}))
            .await?;
        assert_error(&reply, 409, "email_taken");
    }
    let read = shop.get(&format!("/users/{ada}")).await?;
    assert_eq!(read.body["name"], "Ada", "the first registration stands");
    assert_eq!(audit(&shop).await?["users"], 1, "no user was added");

    let bob = create_user(&shop, "Bob", "bob@example.com").await?;
    assert!(bob > ada, "ids grow in order of creation");
    Ok(())
}

async fn names_must_have_1_to_200_characters_after_trimming(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let longest = "n".repeat(200);
    let padded_longest = format!("   {longest}  ");
    // Characters, not bytes: 200 two-byte letters are still 200 characters.
    let longest_accented = "é".repeat(200);
    let accepted = [
        ("A", "A"),
        (longest.as_str(), longest.as_str()),
        (padded_longest.as_str(), longest.as_str()),
        (longest_accented.as_str(), longest_accented.as_str()),
    ];
    for (n, (name, stored)) in accepted.into_iter().enumerate() {
        let reply = shop
            .post(
                "/users",
                &json!({"name": name, "email": format!("ok{n}@example.com")}),
            )
            .await?;
        assert_eq!(
            reply.status,
            201,
            "name of {} characters: {}",
            name.chars().count(),
            reply.body
        );
        assert_eq!(reply.body["name"], stored);
    }

    let too_long = "n".repeat(201);
    let too_long_accented = "é".repeat(201);
    for name in [
        "",
        " ",
        "   \t  ",
        too_long.as_str(),
        too_long_accented.as_str(),
    ] {
        let reply = shop
            .post(
                "/users",
                &json!({"name": name, "email": "refused@example.com"}),
            )
            .await?;
        assert_eq!(
            reply.status,
            400,
            "name of {} characters: {}",
            name.chars().count(),
            reply.body
        );
        assert_error(&reply, 400, "invalid_request");
    }
    assert_eq!(audit(&shop).await?["users"], 4);
    Ok(())
}

async fn emails_must_have_one_at_sign_between_text_and_at_most_254_characters(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let domain = "@example.com";
    let longest = format!("{}{domain}", "a".repeat(254 - domain.len()));
    let too_long = format!("{}{domain}", "a".repeat(255 - domain.len()));
    assert_eq!((longest.len(), too_long.len()), (254, 255));

    let reply = shop
        .post("/users", &json!({"name": "Long", "email": longest}))
        .await?;
    assert_eq!(
        reply.status, 201,
        "an email of 254 characters: {}",
        reply.body
    );
    assert_eq!(reply.body["email"], longest.as_str());
    let reply = shop
        .post("/users", &json!({"name": "Short", "email": "a@b"}))
        .await?;
    assert_eq!(
        reply.status, 201,
        "a@b has text on both sides of its @: {}",
        reply.body
    );

    let refused = [
        too_long.as_str(),
        "",
        "ada.example.com",
        "ada@@example.com",
        "a@b@example.com",
        "@example.com",
        "ada@",
        "@",
    ];
    for email in refused {
        let reply = shop
            .post("/users", &json!({"name": "Ada", "email": email}))
            .await?;
        assert_eq!(reply.status, 400, "email {email:?}: {}", reply.body);
        assert_error(&reply, 400, "invalid_request");
    }
    assert_eq!(audit(&shop).await?["users"], 2);
    Ok(())
}

async fn path_ids_must_be_positive_integers_that_fit_in_i64(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let deposit = json!({"amount_cents": 100});
    // Every route with an id in its path; `{}` stands for the id.
    let routes: [(Method, &str, Option<&serde_json::Value>); 7] = [
        (Method::GET, "/users/{}", None),
        (Method::GET, "/users/{}/wallet", None),
        (Method::POST, "/users/{}/wallet/deposit", Some(&deposit)),
        (Method::GET, "/users/{}/orders", None),
        (Method::GET, "/products/{}", None),
        (Method::GET, "/orders/{}", None),
        (Method::POST, "/orders/{}/cancel", None),
    ];
    for (method, pattern, body) in &routes {
        for id in ["abc", "0", "-1", "1.5", "99999999999999999999"] {
            let path = pattern.replace("{}", id);
            let reply = shop.send(method.clone(), &path, *body, &[]).await?;
            assert_eq!(reply.status, 400, "{method} {path}: {}", reply.body);
            assert_error(&reply, 400, "invalid_request");
        }
        // Well-formed, naming nothing: the largest i64 and an ordinary id.
        for id in ["9223372036854775807", "1"] {
            let path = pattern.replace("{}", id);
            let reply = shop.send(method.clone(), &path, *body, &[]).await?;
            assert_eq!(reply.status, 404, "{method} {path}: {}", reply.body);
            assert_error(&reply, 404, "not_found");
        }
    }
    Ok(())
}
