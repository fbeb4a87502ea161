//! Failures across containers, each under load, on the lab's compose files
//! (`deploy/compose/`) and the images of `scripts/images.sh`:
//!
//! - **a partition**: payments cut off from the services' network (`docker
//!   network disconnect`): orders answer 503 or 504 within 7 s while product
//!   reads stay 200; after the reconnect orders are 201 again within 20 s;
//!   within 30 s nothing is pending and money and stock are conserved;
//! - **a lost process**: SIGKILL of a container's main process (not `docker
//!   kill`, which the engine takes for a manual stop and restart policies
//!   ignore): the restart policy brings it back, and no acknowledged order
//!   is lost and none is left pending.
//!
//! Ignored unless asked: they need a Docker engine and the images.
//! `scripts/images.sh`, then `cargo test -p shoplab --test containers --
//! --include-ignored --nocapture` (the figures are printed).

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use reqwest::Method;
use serde_json::json;
use shoplab::chaos::{audit, Audited, Seeded};
use shoplab::client::ShopClient;
use shoplab::containers::{compose_dir, docker, Project, Stack};

/// Clients placing orders, and clients reading products, all the time.
const ORDER_CLIENTS: usize = 4;
const READ_CLIENTS: usize = 2;
/// Each client's pause between requests: load, not a flood (the engine,
/// the containers and the test share two cores).
const PAUSE: Duration = Duration::from_millis(20);

/// What a request was and how it went.
#[derive(Debug, Clone)]
struct Sample {
    order: bool,
    sent: Instant,
    took: Duration,
    /// `None`: no answer (the connection failed).
    status: Option<u16>,
    /// The order's id, when it was created (201).
    order_id: Option<i64>,
}

/// The load: order and read clients until stopped, every request sampled.
struct Load {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(shop: &ShopClient, seeded: &Seeded) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let mut clients = Vec::new();
        for client in 0..ORDER_CLIENTS + READ_CLIENTS {
            let (shop, stop, samples) = (shop.clone(), stop.clone(), samples.clone());
            let users = seeded.users.clone();
            let products = seeded.products.clone();
            let order = client < ORDER_CLIENTS;
            clients.push(tokio::spawn(async move {
                let mut n = client;
                while !stop.load(Ordering::Relaxed) {
                    n += ORDER_CLIENTS + READ_CLIENTS;
                    let product = products[n % products.len()];
                    let sent = Instant::now();
                    let reply = if order {
                        let body = json!({
                            "user_id": users[n % users.len()],
                            "items": [{"product_id": product, "quantity": 1}],
                        });
                        let key = uuid::Uuid::new_v4().to_string();
                        shop.send(
                            Method::POST,
                            "/orders",
                            Some(&body),
                            &[("idempotency-key", &key)],
                        )
                        .await
                    } else {
                        shop.get(&format!("/products/{product}")).await
                    };
                    let sample = Sample {
                        order,
                        sent,
                        took: sent.elapsed(),
                        status: reply.as_ref().ok().map(|reply| reply.status),
                        order_id: reply
                            .as_ref()
                            .ok()
                            .filter(|reply| reply.status == 201)
                            .and_then(|reply| reply.body["id"].as_i64()),
                    };
                    samples
                        .lock()
                        .expect("no client panics holding it")
                        .push(sample);
                    tokio::time::sleep(PAUSE).await;
                }
            }));
        }
        Self {
            stop,
            samples,
            clients,
        }
    }

    fn samples(&self) -> Vec<Sample> {
        self.samples
            .lock()
            .expect("no client panics holding it")
            .clone()
    }

    /// Stops the clients and waits for their last requests.
    async fn stop(mut self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        for client in std::mem::take(&mut self.clients) {
            let _ = client.await;
        }
        self.samples()
    }
}

/// Users with money and products with stock enough that no order fails for
/// want of either.
async fn seed(shop: &ShopClient) -> anyhow::Result<Seeded> {
    let mut seeded = Seeded {
        users: Vec::new(),
        products: Vec::new(),
        deposits_cents: 0,
        stock_created: 0,
    };
    for n in 0..8 {
        let user = shop
            .post(
                "/users",
                &json!({"name": format!("U{n}"), "email": format!("u{n}@example.com")}),
            )
            .await?;
        ensure!(user.status == 201, "a user: {} {}", user.status, user.body);
        let id = user.body["id"].as_i64().context("a user id")?;
        let amount = 50_000_000;
        let deposit = shop
            .post(
                &format!("/users/{id}/wallet/deposit"),
                &json!({"amount_cents": amount}),
            )
            .await?;
        ensure!(
            deposit.status == 200,
            "a deposit: {} {}",
            deposit.status,
            deposit.body
        );
        seeded.users.push(id);
        seeded.deposits_cents += amount;
    }
    for n in 0..8 {
        let stock = 100_000;
        let product = shop
            .post(
                "/products",
                &json!({"name": format!("P{n}"), "price_cents": 100 + n, "stock": stock}),
            )
            .await?;
        ensure!(
            product.status == 201,
            "a product: {} {}",
            product.status,
            product.body
        );
        seeded
            .products
            .push(product.body["id"].as_i64().context("a product id")?);
        seeded.stock_created += stock;
    }
    Ok(seeded)
}

/// Waits until `/audit` counts no pending order: when it saw none, or
/// `None` if that did not happen by `deadline`.
async fn settled(shop: &ShopClient, deadline: Instant) -> Option<Instant> {
    while Instant::now() < deadline {
        if let Ok(reply) = shop.get("/audit").await {
            if reply.status == 200 && reply.body["orders"]["pending"].as_i64() == Some(0) {
                return Some(Instant::now());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

/// `at - since` in seconds, or "never".
fn after(since: Instant, at: Option<Instant>) -> String {
    at.map_or("never".into(), |at| {
        format!("{:.2} s", (at - since).as_secs_f64())
    })
}

/// Waits until the first order sent after `since` is created; when it was
/// sent, measured from `since`.
async fn first_created_after(load: &Load, since: Instant, within: Duration) -> Option<Duration> {
    let deadline = since + within;
    loop {
        let created = load
            .samples()
            .into_iter()
            .filter(|sample| sample.order && sample.sent >= since && sample.status == Some(201))
            .map(|sample| sample.sent - since)
            .min();
        if created.is_some() || Instant::now() > deadline {
            return created;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Statuses and their counts, for messages: `201×40 503×12 none×1`.
fn tally<'a>(samples: impl Iterator<Item = &'a Sample>) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for sample in samples {
        let status = sample
            .status
            .map_or("none".to_owned(), |status| status.to_string());
        *counts.entry(status).or_insert(0) += 1;
    }
    counts
        .iter()
        .map(|(status, count)| format!("{status}×{count}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The invariants hold and no order is broken.
fn assert_conserved(audited: &Audited) {
    assert!(audited.money_holds, "money is not conserved");
    assert!(audited.stock_holds, "stock is not conserved");
    assert!(
        audited.broken.is_empty(),
        "orders whose money or stock is wrong: {:?}",
        audited.broken
    );
}

/// Runs `experiment` on a fresh project of `stack`, which is removed
/// afterwards whatever happened.
async fn on_project<F, Fut>(stack: Stack, experiment: F) -> anyhow::Result<()>
where
    F: FnOnce(Arc<Project>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let project = Arc::new(Project::up(stack, &compose_dir()).await?);
    let outcome = tokio::spawn(experiment(project.clone())).await;
    match Arc::try_unwrap(project) {
        Ok(project) => project.down().await,
        Err(_) => eprintln!("the project is still in use; not removed"),
    }
    match outcome {
        Ok(result) => result,
        Err(panicked) => std::panic::resume_unwind(panicked.into_panic()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and the images: scripts/images.sh, then --include-ignored"]
async fn a_partitioned_payments_fails_orders_fast_keeps_reads_and_heals() -> anyhow::Result<()> {
    on_project(Stack::Microservices, |project| async move {
        let shop = ShopClient::new(&project.base_url);
        let seeded = seed(&shop).await?;
        let load = Load::start(&shop, &seeded);
        tokio::time::sleep(Duration::from_secs(3)).await;

        let network = project.network_name(Stack::Microservices.network());
        let payments = project.container("payments").await?;
        docker(&["network", "disconnect", &network, &payments]).await?;
        // From here the cut is in effect: an order sent while the command
        // ran may still have gone through.
        let cut = Instant::now();
        tokio::time::sleep(Duration::from_secs(10)).await;
        // Back under its service's name, as compose attached it.
        docker(&["network", "connect", "--alias", "payments", &network, &payments]).await?;
        let healed = Instant::now();
        let recovered = first_created_after(&load, healed, Duration::from_secs(20)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let samples = load.stop().await;
        let pending_gone = settled(&shop, healed + Duration::from_secs(30)).await;
        let audited = audit(&shop, &seeded).await?;

        let before: Vec<_> = samples.iter().filter(|s| s.order && s.sent < cut).collect();
        let orders_cut: Vec<_> = samples
            .iter()
            .filter(|s| s.order && s.sent >= cut && s.sent < healed)
            .collect();
        let reads_cut: Vec<_> = samples
            .iter()
            .filter(|s| !s.order && s.sent >= cut && s.sent < healed)
            .collect();
        let slowest = orders_cut.iter().map(|s| s.took).max().unwrap_or_default();
        println!(
            "partition: before the cut orders {}; during the 10 s cut orders {} (slowest answer {:.2} s), reads {}; \
             first order created {} after the reconnect; nothing pending {} after it; \
             money {}, stock {}, {} orders checked",
            tally(before.iter().copied()),
            tally(orders_cut.iter().copied()),
            slowest.as_secs_f64(),
            tally(reads_cut.iter().copied()),
            recovered.map_or("never".into(), |d| format!("{:.2} s", d.as_secs_f64())),
            after(healed, pending_gone),
            if audited.money_holds { "conserved" } else { "NOT conserved" },
            if audited.stock_holds { "conserved" } else { "NOT conserved" },
            audited.statuses.len(),
        );

        assert!(before.iter().any(|s| s.status == Some(201)), "no order was created before the cut");
        assert!(!orders_cut.is_empty() && !reads_cut.is_empty(), "no load during the cut");
        for sample in &orders_cut {
            assert!(
                matches!(sample.status, Some(503 | 504)),
                "an order sent during the cut answered {:?}: {}",
                sample.status,
                tally(orders_cut.iter().copied())
            );
            assert!(sample.took <= Duration::from_secs(7), "an order took {:?} to answer", sample.took);
        }
        assert!(
            reads_cut.iter().all(|s| s.status == Some(200)),
            "product reads during the cut: {}",
            tally(reads_cut.iter().copied())
        );
        assert!(recovered.is_some(), "no order was created within 20 s of the reconnect");
        assert!(pending_gone.is_some(), "orders still pending 30 s after the reconnect");
        assert_conserved(&audited);
        Ok(())
    })
    .await
}

/// SIGKILLs the main process of `service`'s container under load, and
/// checks that the restart policy brings it back with nothing lost or left
/// pending.
async fn lost_process(project: Arc<Project>, service: &str) -> anyhow::Result<()> {
    let shop = ShopClient::new(&project.base_url);
    let seeded = seed(&shop).await?;
    let load = Load::start(&shop, &seeded);
    tokio::time::sleep(Duration::from_secs(3)).await;

    let container = project.container(service).await?;
    let pid = project.main_pid(service).await?;
    let killed = Instant::now();
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL)
        .with_context(|| format!("cannot SIGKILL {service}'s process {pid} (run as root)"))?;
    // Back: a new main process, and orders created again.
    let mut restarted = None;
    while killed.elapsed() < Duration::from_secs(30) {
        let now = project.main_pid(service).await.ok();
        if now.is_some_and(|now| now != pid) {
            restarted = Some(Instant::now());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let restarts = docker(&["inspect", "--format", "{{.RestartCount}}", &container]).await?;
    let recovered =
        first_created_after(&load, restarted.unwrap_or(killed), Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let samples = load.stop().await;
    let pending_gone = settled(&shop, killed + Duration::from_secs(45)).await;
    let audited = audit(&shop, &seeded).await?;

    let acknowledged: Vec<i64> = samples
        .iter()
        .filter_map(|sample| sample.order_id)
        .collect();
    let lost: Vec<i64> = acknowledged
        .iter()
        .copied()
        .filter(|id| audited.statuses.get(id).map(String::as_str) != Some("completed"))
        .collect();
    let outage: Vec<_> = samples
        .iter()
        .filter(|s| s.order && s.sent >= killed && !restarted.is_some_and(|at| s.sent >= at))
        .collect();
    println!(
        "lost process ({}: {service}): SIGKILL of pid {pid}; a new process {} after it (restart count {}); \
         orders sent meanwhile {}; first order created {} after the restart; nothing pending {} after the kill; \
         {} orders acknowledged, {} of them lost; money {}, stock {}",
        project.stack.name(),
        after(killed, restarted),
        restarts.trim(),
        tally(outage.iter().copied()),
        recovered.map_or("never".into(), |d| format!("{:.2} s", d.as_secs_f64())),
        after(killed, pending_gone),
        acknowledged.len(),
        lost.len(),
        if audited.money_holds { "conserved" } else { "NOT conserved" },
        if audited.stock_holds { "conserved" } else { "NOT conserved" },
    );

    assert!(
        restarted.is_some(),
        "{service} was not started again within 30 s"
    );
    assert_eq!(restarts.trim(), "1", "the engine's restart count");
    assert!(
        recovered.is_some(),
        "no order was created within 20 s of the restart"
    );
    assert!(
        lost.is_empty(),
        "acknowledged orders not completed: {lost:?}"
    );
    assert!(
        pending_gone.is_some(),
        "orders still pending 45 s after the kill"
    );
    assert_conserved(&audited);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and the images: scripts/images.sh, then --include-ignored"]
async fn a_killed_monolith_is_restarted_with_nothing_lost() -> anyhow::Result<()> {
    on_project(Stack::Monolith, |project| lost_process(project, "monolith")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and the images: scripts/images.sh, then --include-ignored"]
async fn a_killed_orders_service_is_restarted_with_nothing_lost_or_pending() -> anyhow::Result<()> {
    on_project(Stack::Microservices, |project| {
        lost_process(project, "orders")
    })
    .await
}
