//! One mode's run under the fault plan: the data set seeded through the
//! API, the orders placed (each retried with its Idempotency-Key) and some
//! cancelled by concurrent clients, the kill and the freeze, then the
//! settling, the audit and the replays, summed up as the mode's result.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::sys::signal::Signal;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::json;

use crate::client::{Reply, ShopClient};
use crate::deployment::Deployment;
use crate::progress::Step;
use crate::stats::percentile;

use super::audit::{audit, replay, settle};
use super::{Mode, ModeResult, Options};

/// What a run created before its orders: the users and products, and the
/// money and stock put in (the invariants' right-hand sides).
pub struct Seeded {
    pub users: Vec<i64>,
    pub products: Vec<i64>,
    pub deposits_cents: i64,
    pub stock_created: i64,
}

pub(super) async fn exercise(
    options: &Options,
    mode: Mode,
    deployment: &Deployment,
) -> anyhow::Result<ModeResult> {
    let shop = ShopClient::new(&deployment.base_url);
    let seeded = seed(&shop, options).await?;

    let step = Step::begin(format!(
        "{}: {} orders from {} clients under the fault plan",
        mode.name(),
        options.orders,
        options.concurrency
    ));
    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicUsize::new(0));
    let seeded = Arc::new(seeded);
    let mut clients = Vec::new();
    for _ in 0..options.concurrency {
        let (shop, tally, next, seeded) =
            (shop.clone(), tally.clone(), next.clone(), seeded.clone());
        let (orders, seed) = (options.orders, options.seed);
        clients.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= orders {
                    break;
                }
                place_one(&shop, &seeded, seed, index, &tally).await;
            }
        }));
    }
    let mut killed = false;
    let (mut frozen, mut thawed): (Option<(String, Instant)>, bool) = (None, false);
    let first_replica = deployment
        .replicas_of(&mode.orders_process())
        .into_iter()
        .next()
        .with_context(|| format!("no {} in the deployment", mode.orders_process()))?;
    while clients.iter().any(|client| !client.is_finished()) || frozen.is_some() {
        let done = next.load(Ordering::Relaxed).min(options.orders);
        step.set(done as f64 / options.orders as f64);
        if options.kill && !killed && done >= options.orders / 3 {
            // A process the fault plan has just crashed is down while it
            // restarts: it is killed once it is back, on a later look.
            killed = deployment.signal(&first_replica, Signal::SIGKILL).is_ok();
        }
        if let Some(freeze) = options.freeze {
            let due = done >= options.orders * 2 / 3;
            match &frozen {
                // As with the kill: frozen once it is up.
                None if due
                    && !thawed
                    && deployment.signal(&first_replica, Signal::SIGSTOP).is_ok() =>
                {
                    frozen = Some((first_replica.clone(), Instant::now()));
                }
                Some((name, since)) if since.elapsed() >= freeze => {
                    deployment
                        .signal(name, Signal::SIGCONT)
                        .with_context(|| format!("cannot thaw {name}"))?;
                    frozen = None;
                    thawed = true;
                }
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for client in clients {
        client.await.context("a client task failed")?;
    }
    let load_ended = Instant::now();
    step.done("placed");

    let step = Step::begin(format!(
        "{}: waiting for nothing to be in flight (at most {:?})",
        mode.name(),
        options.settle
    ));
    let settled = settle(&shop, deployment, mode, options.settle).await;
    let settled_after_ms = settled.then(|| load_ended.elapsed().as_secs_f64() * 1000.0);
    step.done(if settled { "settled" } else { "did not settle" });

    let step = Step::begin(format!("{}: auditing every order", mode.name()));
    let mut audit = audit(&shop, &seeded).await?;
    step.done(&format!("{} violations", audit.violations));

    let step = Step::begin(format!("{}: replaying every Idempotency-Key", mode.name()));
    let keys = tally
        .keys
        .lock()
        .map(|keys| keys.clone())
        .unwrap_or_default();
    let replays = replay(&shop, &keys, &audit.statuses).await;
    audit.violations += replays.violations();
    step.done(&format!(
        "{} keys answered their order's outcome, {} keys broke it",
        replays.matched,
        replays.violations()
    ));

    let answers = tally
        .answers
        .lock()
        .map(|map| map.clone())
        .unwrap_or_default();
    let cancels = tally
        .cancels
        .lock()
        .map(|map| map.clone())
        .unwrap_or_default();
    let mut latencies = tally
        .completed_ms
        .lock()
        .map(|list| list.clone())
        .unwrap_or_default();
    latencies.sort_by(f64::total_cmp);
    Ok(ModeResult {
        mode,
        violations: audit.violations,
        orders: audit.orders,
        broken_orders: audit.broken,
        keys_replayed: replays,
        money_equation_holds: audit.money_holds,
        stock_equation_holds: audit.stock_holds,
        deposits_cents: seeded.deposits_cents,
        stock_created: seeded.stock_created,
        cents_involved: audit.cents_involved,
        units_involved: audit.units_involved,
        answers,
        cancels,
        restarts: deployment.restarts().into_iter().collect(),
        settled_after_ms,
        completed_p50_ms: percentile(&latencies, 0.50),
        completed_p99_ms: percentile(&latencies, 0.99),
    })
}

/// Users (two in three with money, enough for most of the run's orders),
/// products (stock that runs out under the run's demand).
async fn seed(shop: &ShopClient, options: &Options) -> anyhow::Result<Seeded> {
    let step = Step::begin("seeding users, wallets and products");
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut seeded = Seeded {
        users: Vec::new(),
        products: Vec::new(),
        deposits_cents: 0,
        stock_created: 0,
    };
    for n in 0..options.users {
        let body = json!({"name": format!("Chaos {n}"), "email": format!("chaos{n}@example.com")});
        let user = created(shop.post("/users", &body).await?, "a user")?;
        if n % 3 != 2 {
            let amount = rng.random_range(20_000..=200_000);
            let reply = shop
                .post(
                    &format!("/users/{user}/wallet/deposit"),
                    &json!({"amount_cents": amount}),
                )
                .await?;
            anyhow::ensure!(reply.status == 200, "a deposit failed: {}", reply.body);
            seeded.deposits_cents += amount;
        }
        seeded.users.push(user);
    }
    // Demand: about 1.5 lines of 2 units per order; stock for two thirds.
    let stock_each = (options.orders * 2 / options.products.max(1)).max(1) as i64;
    for n in 0..options.products {
        let price = rng.random_range(100..=2_000);
        let body = json!({"name": format!("Item {n}"), "price_cents": price, "stock": stock_each});
        seeded
            .products
            .push(created(shop.post("/products", &body).await?, "a product")?);
        seeded.stock_created += stock_each;
    }
    step.done(&format!(
        "{} users, {} products",
        seeded.users.len(),
        seeded.products.len()
    ));
    Ok(seeded)
}

fn created(reply: Reply, what: &str) -> anyhow::Result<i64> {
    anyhow::ensure!(
        reply.status == 201,
        "creating {what} failed: {}",
        reply.body
    );
    reply.body["id"]
        .as_i64()
        .with_context(|| format!("no id in {}", reply.body))
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    /// Every order's Idempotency-Key and body, to replay at the end.
    keys: Mutex<Vec<(String, serde_json::Value)>>,
    answers: Mutex<BTreeMap<String, usize>>,
    cancels: Mutex<BTreeMap<String, usize>>,
    completed_ms: Mutex<Vec<f64>>,
}

impl Tally {
    fn count(map: &Mutex<BTreeMap<String, usize>>, outcome: &Result<Reply, anyhow::Error>) {
        let key = match outcome {
            Ok(reply) => reply.status.to_string(),
            Err(_) => "none".to_owned(),
        };
        if let Ok(mut map) = map.lock() {
            *map.entry(key).or_default() += 1;
        }
    }
}

/// How often a client tries a request that got a 502/503/504 or no answer,
/// with the same Idempotency-Key, as a careful client would.
const TRIES: usize = 3;

/// One order (and, for one in ten that complete, its cancel), retried with
/// its Idempotency-Key while the answer says "try again".
async fn place_one(shop: &ShopClient, seeded: &Seeded, seed: u64, index: usize, tally: &Tally) {
    let mut rng = StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let user = seeded.users[rng.random_range(0..seeded.users.len())];
    let lines = rng.random_range(1..=2);
    let mut items = Vec::new();
    let first = rng.random_range(0..seeded.products.len());
    for line in 0..lines {
        let product = seeded.products[(first + line) % seeded.products.len()];
        items.push(json!({"product_id": product, "quantity": rng.random_range(1..=3)}));
    }
    let body = json!({"user_id": user, "items": items});
    let key = format!("chaos-{seed}-{index}");
    if let Ok(mut keys) = tally.keys.lock() {
        keys.push((key.clone(), body.clone()));
    }
    let headers = [("idempotency-key", key.as_str())];
    let started = Instant::now();
    let outcome = retried(|| shop.send(Method::POST, "/orders", Some(&body), &headers)).await;
    Tally::count(&tally.answers, &outcome);
    let Ok(reply) = outcome else { return };
    if reply.status != 201 {
        return;
    }
    if let Ok(mut list) = tally.completed_ms.lock() {
        list.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    if rng.random_range(0..10) == 0 {
        if let Some(id) = reply.body["id"].as_i64() {
            let (path, empty) = (format!("/orders/{id}/cancel"), json!({}));
            let cancelled = retried(|| shop.send(Method::POST, &path, Some(&empty), &[])).await;
            Tally::count(&tally.cancels, &cancelled);
        }
    }
}

async fn retried<F, Fut>(mut send: F) -> anyhow::Result<Reply>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Reply>>,
{
    let mut outcome = send().await;
    for _ in 1..TRIES {
        let again = match &outcome {
            Ok(reply) => matches!(reply.status, 502..=504),
            Err(_) => true,
        };
        if !again {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        outcome = send().await;
    }
    outcome
}
