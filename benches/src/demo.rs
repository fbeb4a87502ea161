//! `shoplab demo`: both deployments, fresh SQLite databases, the same short
//! scripted scenario against each, the results side by side.
//!
//! It is a first look, not a benchmark: one run, a few requests, timings on
//! whatever else the machine is doing. `cargo bench` and the later
//! `shoplab compare` are where figures are measured with care.

use std::time::Duration;

use anyhow::Context;
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{Reply, ShopClient};
use crate::deployment::{Deployment, Kind, Options, Storage};

/// One request of the scenario, and the status it should get.
struct Step {
    label: &'static str,
    expect: u16,
    method: Method,
    path: &'static str,
    body: Option<Value>,
    idempotency_key: Option<&'static str>,
}

fn step(label: &'static str, expect: u16, method: Method, path: &'static str) -> Step {
    Step {
        label,
        expect,
        method,
        path,
        body: None,
        idempotency_key: None,
    }
}

impl Step {
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn key(mut self, key: &'static str) -> Self {
        self.idempotency_key = Some(key);
        self
    }
}

/// The scenario: users, products, deposits, orders, one order the wallet
/// cannot pay, one cancel, one idempotent retry, the audit.
fn scenario() -> Vec<Step> {
    let ada_order = json!({"user_id": 1, "items": [
        {"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 1}]});
    let tea = json!({"user_id": 1, "items": [{"product_id": 2, "quantity": 1}]});
    vec![
        step("register Ada", 201, Method::POST, "/users")
            .body(json!({"name": "Ada", "email": "ada@example.com"})),
        step("register Grace", 201, Method::POST, "/users")
            .body(json!({"name": "Grace", "email": "grace@example.com"})),
        step(
            "add Mug (12.50, 10 in stock)",
            201,
            Method::POST,
            "/products",
        )
        .body(json!({"name": "Mug", "price_cents": 1250, "stock": 10})),
        step("add Tea (8.00, 5 in stock)", 201, Method::POST, "/products")
            .body(json!({"name": "Tea", "price_cents": 800, "stock": 5})),
        step(
            "Ada deposits 50.00",
            200,
            Method::POST,
            "/users/1/wallet/deposit",
        )
        .body(json!({"amount_cents": 5000})),
        step(
            "Grace deposits 10.00",
            200,
            Method::POST,
            "/users/2/wallet/deposit",
        )
        .body(json!({"amount_cents": 1000})),
        step("Ada orders 2 Mugs + 1 Tea", 201, Method::POST, "/orders").body(ada_order),
        step("Grace orders a Mug: no funds", 409, Method::POST, "/orders")
            .body(json!({"user_id": 2, "items": [{"product_id": 1, "quantity": 1}]})),
        step(
            "Ada cancels her order",
            200,
            Method::POST,
            "/orders/1/cancel",
        ),
        step(
            "Ada orders Tea (Idempotency-Key)",
            201,
            Method::POST,
            "/orders",
        )
        .body(tea.clone())
        .key("demo-tea"),
        step(
            "...and retries the same request",
            201,
            Method::POST,
            "/orders",
        )
        .body(tea)
        .key("demo-tea"),
        step("Ada's wallet", 200, Method::GET, "/users/1/wallet"),
        step("audit", 200, Method::GET, "/audit"),
    ]
}

/// All money ever deposited and all stock ever created in the scenario: what
/// API.md's invariants must add up to.
const DEPOSITED_CENTS: i64 = 6000;
const STOCK_CREATED: i64 = 15;
/// Reads timed for the latency line.
const READS: usize = 50;

/// What one deployment did.
struct Run {
    kind: Kind,
    startup: Duration,
    processes: usize,
    rss_bytes: u64,
    replies: Vec<Reply>,
    read_median: Duration,
    invariants: Result<(), String>,
}

pub async fn run(bin_dir: std::path::PathBuf) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for kind in [Kind::Monolith, Kind::Micro] {
        let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
        eprintln!(
            "starting the {} on fresh SQLite databases ...",
            kind.label()
        );
        let options = Options::new(
            kind,
            bin_dir.clone(),
            Storage::Sqlite(scratch.path().to_path_buf()),
        );
        let deployment = Deployment::start(&options).await?;
        eprintln!(
            "  up at {} in {:?}; running the scenario ...",
            deployment.base_url, deployment.startup
        );
        let outcome = drive(&deployment).await;
        deployment.stop().await;
        runs.push(outcome?);
    }
    print_side_by_side(&runs);
    let all_as_expected = runs.iter().all(|run| {
        run.invariants.is_ok()
            && run
                .replies
                .iter()
                .zip(scenario())
                .all(|(reply, step)| reply.status == step.expect)
    });
    anyhow::ensure!(
        all_as_expected,
        "a deployment did not answer as API.md says (marked ✗ above)"
    );
    anyhow::ensure!(
        identical_bodies(&runs) == scenario().len(),
        "the two deployments answered the same request with different bodies"
    );
    Ok(())
}

async fn drive(deployment: &Deployment) -> anyhow::Result<Run> {
    let shop = ShopClient::new(&deployment.base_url);
    let mut replies = Vec::new();
    for step in scenario() {
        let headers: Vec<(&str, &str)> = step
            .idempotency_key
            .map(|key| vec![("idempotency-key", key)])
            .unwrap_or_default();
        let reply = shop
            .send(step.method.clone(), step.path, step.body.as_ref(), &headers)
            .await
            .with_context(|| format!("{}: {} {}", step.label, step.method, step.path))?;
        replies.push(reply);
    }
    let mut reads = Vec::with_capacity(READS);
    for _ in 0..READS {
        reads.push(shop.get("/products/1").await?.elapsed);
    }
    reads.sort();
    let invariants = check_invariants(&shop).await?;
    Ok(Run {
        kind: deployment.kind,
        startup: deployment.startup,
        processes: deployment.process_count(),
        rss_bytes: deployment.rss_bytes(),
        replies,
        read_median: reads[READS / 2],
        invariants,
    })
}

/// API.md's invariants 1 and 2, from `/audit` and the orders themselves.
async fn check_invariants(shop: &ShopClient) -> anyhow::Result<Result<(), String>> {
    let audit = shop.get("/audit").await?.body;
    let figure = |name: &str| audit.get(name).and_then(Value::as_i64).unwrap_or(i64::MIN);
    let mut completed_units = 0;
    for user in [1, 2] {
        let orders = shop.get(&format!("/users/{user}/orders")).await?.body;
        for order in orders.as_array().into_iter().flatten() {
            if order.get("status").and_then(Value::as_str) == Some("completed") {
                for item in order
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    completed_units += item.get("quantity").and_then(Value::as_i64).unwrap_or(0);
                }
            }
        }
    }
    let money = figure("wallet_cents") + figure("paid_cents");
    let stock = figure("stock_units") + completed_units;
    Ok(if money != DEPOSITED_CENTS {
        Err(format!(
            "money: wallets + paid = {money}, deposits = {DEPOSITED_CENTS}"
        ))
    } else if stock != STOCK_CREATED {
        Err(format!(
            "stock: in stock + sold = {stock}, created = {STOCK_CREATED}"
        ))
    } else {
        Ok(())
    })
}

fn print_side_by_side(runs: &[Run]) {
    let steps = scenario();
    print!("\n{:LABEL$}", "");
    for run in runs {
        print!("  {:<COLUMN$}", run.kind.label());
    }
    println!();
    for (index, step) in steps.iter().enumerate() {
        print!("{:LABEL$}", step.label);
        for run in runs {
            let reply = &run.replies[index];
            let mark = if reply.status == step.expect {
                " "
            } else {
                "✗"
            };
            let code = reply
                .error_code()
                .map(|code| format!(" {code}"))
                .unwrap_or_default();
            let cell = format!("{mark}{}{code}", reply.status);
            print!("  {cell:<26}{:>10}", millis(reply.elapsed));
        }
        println!();
    }
    let same = identical_bodies(runs);
    println!();
    row("start-up (spawn to /health)", runs, |run| {
        millis(run.startup)
    });
    row("processes", runs, |run| run.processes.to_string());
    row("resident memory after the run", runs, |run| {
        format!("{:.1} MiB", run.rss_bytes as f64 / (1024.0 * 1024.0))
    });
    row(
        &format!("median of {READS} x GET /products/1"),
        runs,
        |run| millis(run.read_median),
    );
    row("audit invariants (money, stock)", runs, |run| {
        match &run.invariants {
            Ok(()) => "hold".to_owned(),
            Err(broken) => format!("✗ {broken}"),
        }
    });
    println!(
        "\nidentical response bodies in both deployments: {same} of {} steps",
        steps.len()
    );
    println!("(one run on this machine, debug or release as built: a first look, not a benchmark)");
}

/// How many steps got the same response body from every deployment (on fresh
/// databases the ids match too, so every body should).
fn identical_bodies(runs: &[Run]) -> usize {
    (0..scenario().len())
        .filter(|&index| {
            runs.iter()
                .all(|run| run.replies[index].body == runs[0].replies[index].body)
        })
        .count()
}

/// Widths of the table: the label column, and each deployment's column.
const LABEL: usize = 36;
const COLUMN: usize = 36;

fn row(label: &str, runs: &[Run], cell: impl Fn(&Run) -> String) {
    print!("{label:LABEL$}");
    for run in runs {
        print!("  {:<COLUMN$}", cell(run));
    }
    println!();
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}
