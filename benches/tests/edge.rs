//! The gateway's edge and the internal token, checked from outside on real
//! processes: a body that never arrives, an answer over the gateway's
//! limit, a peer holding another internal token, and a flag out of its
//! range (docs/SAGA.md, "Answers that tell the truth"; API.md's limits).
//! Each test prints the figure it judges.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use shoplab::client::ShopClient;
use shoplab::deployment::Kind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod mugs;
mod shoppers;

use mugs::bin_dir;
use shoppers::*;

/// A body that does not arrive within the gateway's limit (5 s by default)
/// is cut off with 408 and the error body; nothing is passed on.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_never_arrives_is_cut_off_with_408() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = start(Kind::Micro, scratch.path(), None, false).await;
    let address = deployment.base_url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("the gateway listens");
    let head = format!(
        "POST /users HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"name\":"
    );
    stream
        .write_all(head.as_bytes())
        .await
        .expect("the head is sent");
    let began = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buffer = [0u8; 4096];
        loop {
            let count = stream.read(&mut buffer).await.unwrap_or(0);
            if count == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..count]);
            if answer.windows(4).any(|window| window == b"\r\n\r\n") && answer.ends_with(b"}}") {
                break;
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&answer);
    eprintln!("slow body: answered after {:?}: {text}", began.elapsed());
    assert!(read.is_ok(), "the gateway answered within 20 s");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains(r#""code":"request_timeout""#), "{text}");
    let users = ShopClient::new(&deployment.base_url)
        .get("/users/1")
        .await
        .expect("the shop answers");
    assert_eq!(users.status, 404, "nothing was created");
    deployment.stop().await;
}

/// A gateway given another internal token than the services: every call it
/// makes of a service's `/internal` side (`/audit`) is refused with 401.
/// The public answer is 503 `service_unavailable`, never 401 (API.md). An orders
/// service with another token: its order fails 503 and records
/// `failure: "service_unavailable"`.
#[tokio::test(flavor = "multi_thread")]
async fn a_peer_refusing_the_internal_token_is_a_503_never_a_401() {
    let run = running(Kind::Micro, None, false, ONE_SHOPPER).await;
    let (deployment, users, product, scratch) =
        (run.deployment, run.users, run.product, &run.scratch);
    let mut args = vec![
        "--database-url".to_owned(),
        format!(
            "sqlite://{}",
            scratch.path().join("other-orders.db").display()
        ),
    ];
    args.extend(urls_of(&deployment, &["users", "catalog", "payments"]));
    let orders = spawn("shoplab-orders", OTHER_TOKEN, &args).await;
    let other_orders = ShopClient::new(&orders.1);
    let reply = order(&other_orders, &order_of(users[0], product), &[]).await;
    eprintln!(
        "orders service with another token: {} {}",
        reply.status, reply.body
    );
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.error_code(), Some("service_unavailable"));
    let kept = other_orders
        .get(&format!("/users/{}/orders", users[0]))
        .await
        .expect("the orders service answers");
    for order in kept.body.as_array().map(Vec::as_slice).unwrap_or_default() {
        assert_eq!(order["failure"], "service_unavailable", "{order}");
    }

    let gateway = spawn(
        "shoplab-gateway",
        OTHER_TOKEN,
        &urls_of(&deployment, &SERVICES),
    )
    .await;
    let through = ShopClient::new(&gateway.1);
    // Public routes pass through untouched (a service asks no token of
    // them); `/audit` the gateway gathers from each service's internal side.
    let read = through.get("/audit").await.expect("the gateway answers");
    eprintln!("gateway with another token: {} {}", read.status, read.body);
    assert_eq!(read.status, 503, "{}", read.body);
    assert_eq!(read.error_code(), Some("service_unavailable"));
    drop((orders, gateway));
    deployment.stop().await;
}

/// A gateway whose answers may be at most 1 KiB: a product list over that
/// is 502 `bad_gateway` and the error body, not a truncated list; a small
/// answer passes.
#[tokio::test(flavor = "multi_thread")]
async fn an_answer_over_the_gateways_limit_is_a_502() {
    let run = running(Kind::Micro, None, false, ONE_SHOPPER).await;
    let (deployment, shop) = (run.deployment, run.shop);
    for index in 0..30 {
        created(
            &shop,
            "/products",
            json!({"name": format!("Product {index}"), "price_cents": 100, "stock": 1}),
        )
        .await;
    }
    let token = deployment.internal_token.clone().unwrap_or_default();
    let mut args = urls_of(&deployment, &SERVICES);
    args.extend(["--max-answer-bytes".into(), "1024".into()]);
    let gateway = spawn("shoplab-gateway", &token, &args).await;
    let small = ShopClient::new(&gateway.1);
    let one = small.get("/products/1").await.expect("the gateway answers");
    assert_eq!(one.status, 200, "{}", one.body);
    let all = small.get("/products").await.expect("the gateway answers");
    eprintln!("answer over 1 KiB: {} {}", all.status, all.body);
    assert_eq!(all.status, 502, "{}", all.body);
    assert_eq!(all.error_code(), Some("bad_gateway"));
    drop(gateway);
    deployment.stop().await;
}

/// A flag out of its range is refused at start, with one line naming the
/// flag and the range, and a non-zero exit.
#[tokio::test]
async fn a_flag_out_of_range_is_refused_at_start_naming_it() {
    for (binary, flag, value) in [
        ("shoplab-orders", "--call-timeout-ms", "0"),
        ("shoplab-orders", "--breaker-cool-down-ms", "99999999999"),
        ("shoplab-orders", "--peer-max-in-flight", "0"),
        ("shoplab-gateway", "--body-timeout-ms", "0"),
        ("shoplab-monolith", "--deadline-ms", "0"),
    ] {
        let output = tokio::process::Command::new(bin_dir().join(binary))
            .args([flag, value])
            .output()
            .await
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{binary} {flag} {value} was accepted"
        );
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains(flag) && first.contains("..="),
            "{binary} {flag} {value}: {stderr}"
        );
    }
}
