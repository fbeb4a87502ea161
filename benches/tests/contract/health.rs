//! `GET /health`, and what every deployment answers outside its routes:
//! 404 for an unknown route, 405 (naming the methods it serves in `Allow`)
//! for a known path asked with the wrong method.

use reqwest::Method;
use serde_json::json;
use shoplab::client::ShopClient;

use crate::api::assert_error;
use crate::support::contract;

contract!(
    a_running_deployment_reports_itself_healthy,
    unknown_routes_are_not_found_and_known_paths_refuse_other_methods,
    the_services_internal_endpoints_are_not_reachable_with_any_method,
);

async fn a_running_deployment_reports_itself_healthy(shop: ShopClient) -> anyhow::Result<()> {
    let reply = shop.get("/health").await?;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, json!({"status": "ok"}));
    assert!(
        reply
            .header("content-type")
            .is_some_and(|value| value.starts_with("application/json")),
        "JSON out: {:?}",
        reply.header("content-type")
    );
    Ok(())
}

async fn unknown_routes_are_not_found_and_known_paths_refuse_other_methods(
    shop: ShopClient,
) -> anyhow::Result<()> {
    for path in [
        "/nope",
        "/users/1/nope",
        "/products/1/wallet",
        "/orders/1/refund",
    ] {
        let reply = shop.get(path).await?;
        assert_error(&reply, 404, "not_found");
    }
    // Each with the methods its path serves: a 405 must name them in
    // `Allow` (RFC 9110), whichever deployment answers.
    let wrong_methods = [
        (Method::DELETE, "/users/1", "GET"),
        (Method::PUT, "/users/1", "GET"),
        (Method::DELETE, "/products/1", "GET"),
        (Method::PATCH, "/products", "POST, GET"),
        (Method::DELETE, "/users", "POST"),
        (Method::PUT, "/orders/1", "GET"),
        (Method::GET, "/orders/1/cancel", "POST"),
        (Method::GET, "/users/1/wallet/deposit", "POST"),
        (Method::POST, "/users/1/orders", "GET"),
        (Method::POST, "/audit", "GET"),
        (Method::POST, "/health", "GET"),
    ];
    for (method, path, allow) in wrong_methods {
        let reply = shop.raw(method.clone(), path, None, None, &[]).await?;
        assert_eq!(reply.status, 405, "{method} {path}: {}", reply.body);
        assert_error(&reply, 405, "method_not_allowed");
        assert_eq!(
            reply.header("allow"),
            Some(allow),
            "{method} {path}: the methods it serves"
        );
    }
    Ok(())
}

/// The services' `/internal/...` endpoints (how the orders service reserves
/// stock and takes payment) are not API.md's: through the gateway, as on the
/// monolith, every one of them is 404 whatever the method, so no caller can
/// take stock or money outside an order.
async fn the_services_internal_endpoints_are_not_reachable_with_any_method(
    shop: ShopClient,
) -> anyhow::Result<()> {
    let body = json!({"order_id": 1, "step_key": "k", "user_id": 1, "amount_cents": 1});
    let internal = [
        "/internal/audit/orders",
        "/internal/products/lookup",
        "/internal/reservations",
        "/internal/reservations/k",
        "/internal/reservations/k/release",
        "/internal/charges",
        "/internal/charges/k",
        "/internal/charges/k/refund",
        "/internal/orders/1",
    ];
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
    ];
    for path in internal {
        for method in &methods {
            let reply = shop.send(method.clone(), path, Some(&body), &[]).await?;
            assert_eq!(reply.status, 404, "{method} {path}: {}", reply.body);
        }
    }
    Ok(())
}
