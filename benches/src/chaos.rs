//! `shoplab chaos`: consistency under faults, for each way of holding an
//! order together.
//!
//! For each mode — `acid` (the monolith's one transaction), `saga` and
//! `naive` (the microservices with and without saga state, compensations and
//! recovery) — it starts a fresh deployment under one fault plan, seeds users
//! (some with money, some without) and products (stock that runs out), places
//! N orders from concurrent clients, cancels some of the completed ones, and
//! kills the process that runs the orders component once mid-run, letting the
//! supervisor restart whatever crashed. Then it waits until nothing is in
//! flight (or a bounded settle time) and audits API.md's invariants through
//! `GET /audit` and `GET /audit/orders/{id}`.
//!
//! Violations: each order that breaks invariant 3 (a `completed` one not
//! charged its total or not holding its units, a `failed` or `cancelled` one
//! charged or holding any, one still `pending`) counts one; each of the
//! money and stock equations that fails counts one. Then every order's
//! Idempotency-Key is sent again with its body ([`Replays`]): a key that
//! answers with an order that did not complete, an order another key also
//! answers with, a conflict with its own body, or a completed order no key
//! answers with (some key placed two) counts one each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use nix::sys::signal::Signal;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;

use crate::client::{Reply, ShopClient};
use crate::compare::figures::Machine;
use crate::compare::{commit, machine, results_dir, Backend, Databases};
use crate::deploy::{Deployment, Kind, Options as DeployOptions, ReplicaCounts, Tx};
use crate::progress::Step;
use crate::stats::percentile;

/// One way of holding an order together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The monolith: one database transaction per order.
    Acid,
    /// The microservices: a saga with recorded state, compensations, recovery.
    Saga,
    /// The microservices with the same calls and none of that.
    Naive,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Acid, Mode::Saga, Mode::Naive];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Acid => "acid",
            Mode::Saga => "saga",
            Mode::Naive => "naive",
        }
    }

    fn kind(self) -> Kind {
        match self {
            Mode::Acid => Kind::Monolith,
            Mode::Saga | Mode::Naive => Kind::Micro,
        }
    }

    /// The process that runs the orders component: the one killed mid-run.
    fn orders_process(self) -> &'static str {
        match self {
            Mode::Acid => "shoplab-monolith",
            Mode::Saga | Mode::Naive => "shoplab-orders",
        }
    }

    /// The part of the deployment that runs the orders component, as
    /// replica counts name it.
    fn orders_part(self) -> &'static str {
        match self {
            Mode::Acid => "monolith",
            Mode::Saga | Mode::Naive => "orders",
        }
    }
}

/// What `shoplab chaos` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub bin_dir: PathBuf,
    pub backend: Backend,
    pub out: Option<PathBuf>,
    pub modes: Vec<Mode>,
    /// Orders to place.
    pub orders: usize,
    /// Clients placing them at once.
    pub concurrency: usize,
    pub users: usize,
    pub products: usize,
    /// The plan given to every process; `None` writes the default one.
    pub fault_plan: Option<PathBuf>,
    /// Kill the orders process once, a third of the way through.
    pub kill: bool,
    /// Processes running the orders component (the orders service, or the
    /// monolith) behind the gateway.
    pub orders_replicas: usize,
    /// Freeze the first of them for this long, two thirds of the way
    /// through.
    pub freeze: Option<Duration>,
    /// The longest wait for nothing to be in flight after the orders.
    pub settle: Duration,
    pub seed: u64,
}

/// The default plan: errors and delays on every step of an order, and
/// crashes before and after the steps that take stock and money, rare
/// enough that a run finishes. Seeding is never struck: it uses no step (a
/// deposit's user check is only ever delayed).
pub fn default_plan(seed: u64) -> String {
    let rule = |op: &str, kind: &str, probability: f64, extra: &str| {
        format!(
            "[[fault]]\nop = \"{op}\"\nkind = \"{kind}\"\nprobability = {probability}\n{extra}\n"
        )
    };
    let mut plan =
        format!("# shoplab chaos: the default fault plan (docs/FAULTS.md)\nseed = {seed}\n\n");
    for op in [
        "catalog.reserve",
        "payments.charge",
        "catalog.release",
        "payments.refund",
    ] {
        plan += &rule(op, "error", 0.02, "");
        plan += &rule(op, "delay", 0.05, "delay_ms = 20");
    }
    plan += &rule("users.user", "delay", 0.05, "delay_ms = 20");
    plan += &rule("catalog.reserve", "crash_after", 0.002, "");
    plan += &rule("payments.charge", "crash_after", 0.002, "");
    plan += &rule("payments.charge", "crash_before", 0.001, "");
    plan
}

/// Everything one mode's run measured.
#[derive(Debug, Clone, Serialize)]
pub struct ModeResult {
    pub mode: Mode,
    pub violations: usize,
    /// Orders by status, as the audit counts them at the end.
    pub orders: BTreeMap<String, i64>,
    /// Each order that broke invariant 3, and how.
    pub broken_orders: Vec<BrokenOrder>,
    /// Every order's Idempotency-Key sent again once nothing was in flight:
    /// one order per key, and each replay its order's outcome.
    pub keys_replayed: Replays,
    pub money_equation_holds: bool,
    pub stock_equation_holds: bool,
    pub deposits_cents: i64,
    pub stock_created: i64,
    /// Cents and units held for orders that should hold none, or missing
    /// from orders that should hold them.
    pub cents_involved: i64,
    pub units_involved: i64,
    /// What the clients saw: answers by status (`none` = no answer).
    pub answers: BTreeMap<String, usize>,
    pub cancels: BTreeMap<String, usize>,
    /// Restarts of each process by the supervisor.
    pub restarts: BTreeMap<String, u32>,
    /// From the end of the load (when the last fault could strike) to the
    /// first audit with nothing in flight; `None` if it never came within the
    /// settle time.
    pub settled_after_ms: Option<f64>,
    /// Latency of the orders that completed (201), in milliseconds.
    pub completed_p50_ms: Option<f64>,
    pub completed_p99_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BrokenOrder {
    pub order_id: i64,
    pub status: String,
    pub total_cents: i64,
    pub units: i64,
    pub charged_cents: i64,
    pub reserved_units: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChaosResult {
    pub started_at: String,
    pub machine: Machine,
    pub commit: Option<String>,
    pub backend: String,
    pub seed: u64,
    pub orders: usize,
    pub concurrency: usize,
    pub fault_plan: String,
    pub killed_mid_run: bool,
    /// Processes running the orders component, behind the gateway.
    pub orders_replicas: usize,
    /// How long the first of them was frozen, two thirds of the way through.
    pub frozen_s: Option<f64>,
    pub modes: Vec<ModeResult>,
}

/// Runs every mode, prints the verdict lines and the table, writes chaos.json.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let out = results_dir(options.out.clone(), "chaos-")?;
    let result = tokio::select! {
        measured = measure(&options, &out) => measured?,
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted"),
    };
    for mode in &result.modes {
        println!("{}: {} violations", mode.mode.name(), mode.violations);
    }
    print_table(&result);
    std::fs::write(
        out.join("chaos.json"),
        serde_json::to_string_pretty(&result)?,
    )
    .context("cannot write chaos.json")?;
    println!("\nwritten: {}", out.join("chaos.json").display());
    Ok(())
}

/// Runs every mode, with the fault plan written to `out` (fault-plan.toml),
/// and drops the databases it created, however it ends.
pub async fn measure(options: &Options, out: &Path) -> anyhow::Result<ChaosResult> {
    let plan_text = match &options.fault_plan {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the fault plan {}", path.display()))?,
        None => default_plan(options.seed),
    };
    let plan_path = out.join("fault-plan.toml");
    std::fs::write(&plan_path, &plan_text).context("cannot write the fault plan")?;
    let mut databases = Databases::new(&options.backend, "chaos");
    let measured = measure_modes(options, &plan_path, &plan_text, &mut databases).await;
    databases.drop_all().await;
    measured
}

async fn measure_modes(
    options: &Options,
    plan_path: &Path,
    plan_text: &str,
    databases: &mut Databases,
) -> anyhow::Result<ChaosResult> {
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let mut modes = Vec::new();
    for &mode in &options.modes {
        modes.push(run_mode(options, mode, plan_path, databases).await?);
    }
    Ok(ChaosResult {
        started_at,
        machine: machine(),
        commit: commit(),
        backend: match &options.backend {
            Backend::Sqlite => "sqlite".into(),
            Backend::Postgres(_) => "postgres".into(),
        },
        seed: options.seed,
        orders: options.orders,
        concurrency: options.concurrency,
        fault_plan: plan_text.to_owned(),
        killed_mid_run: options.kill,
        orders_replicas: options.orders_replicas,
        frozen_s: options.freeze.map(|freeze| freeze.as_secs_f64()),
        modes,
    })
}

/// One mode: a fresh deployment, the data set, the orders under faults, the
/// settling, the audit.
async fn run_mode(
    options: &Options,
    mode: Mode,
    plan_path: &Path,
    databases: &mut Databases,
) -> anyhow::Result<ModeResult> {
    let step = Step::begin(format!("{}: starting a fresh deployment", mode.name()));
    let mut deploy = DeployOptions::new(
        mode.kind(),
        options.bin_dir.clone(),
        databases.fresh(mode.kind())?,
    );
    deploy.fault_plan = Some(plan_path.to_path_buf());
    if mode == Mode::Naive {
        deploy.tx = Tx::Naive;
    }
    deploy.replicas = ReplicaCounts::of_part(mode.orders_part(), options.orders_replicas);
    let deployment = Deployment::start(&deploy).await?;
    step.done("up");
    let outcome = exercise(options, mode, &deployment).await;
    deployment.stop().await;
    outcome
}

/// The data set, as the run knows it.
struct Seeded {
    users: Vec<i64>,
    products: Vec<i64>,
    deposits_cents: i64,
    stock_created: i64,
}

async fn exercise(
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
        .replicas_of(mode.orders_process())
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

/// Waits until no order is `pending` and, in the microservices, no saga
/// (cancels included) is in flight; false if that did not happen in `within`.
async fn settle(shop: &ShopClient, deployment: &Deployment, mode: Mode, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let orders_service = deployment.url_of("shoplab-orders").map(ShopClient::new);
    let token: Vec<(&str, &str)> = deployment
        .internal_token
        .iter()
        .map(|token| ("x-internal-token", token.as_str()))
        .collect();
    loop {
        let pending = match shop.get("/audit").await {
            Ok(reply) if reply.status == 200 => reply.body["orders"]["pending"].as_i64(),
            _ => None,
        };
        let in_flight = match (&orders_service, mode) {
            (Some(orders), Mode::Saga) => match orders
                .send(Method::GET, "/internal/audit", None, &token)
                .await
            {
                Ok(reply) if reply.status == 200 => reply.body["sagas_in_flight"].as_i64(),
                _ => None,
            },
            _ => Some(0),
        };
        if pending == Some(0) && in_flight == Some(0) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

struct Audited {
    violations: usize,
    orders: BTreeMap<String, i64>,
    /// Every order's status, by id.
    statuses: BTreeMap<i64, String>,
    broken: Vec<BrokenOrder>,
    money_holds: bool,
    stock_holds: bool,
    cents_involved: i64,
    units_involved: i64,
}

/// Every order of every user, each checked against invariant 3; then the
/// money and stock equations.
async fn audit(shop: &ShopClient, seeded: &Seeded) -> anyhow::Result<Audited> {
    let mut audited = Audited {
        violations: 0,
        orders: BTreeMap::new(),
        statuses: BTreeMap::new(),
        broken: Vec::new(),
        money_holds: false,
        stock_holds: false,
        cents_involved: 0,
        units_involved: 0,
    };
    let mut completed_units = 0;
    for user in &seeded.users {
        let reply = answered(shop, &format!("/users/{user}/orders")).await?;
        let orders = reply.body.as_array().cloned().unwrap_or_default();
        for order in orders {
            let id = order["id"].as_i64().context("an order without an id")?;
            let status = order["status"].as_str().unwrap_or("?").to_owned();
            *audited.orders.entry(status.clone()).or_default() += 1;
            audited.statuses.insert(id, status.clone());
            let units: i64 = order["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| item["quantity"].as_i64())
                        .sum()
                })
                .unwrap_or(0);
            let total = order["total_cents"].as_i64().unwrap_or(0);
            if status == "completed" {
                completed_units += units;
            }
            let held = answered(shop, &format!("/audit/orders/{id}")).await?.body;
            let charged = held["charged_cents"].as_i64().unwrap_or(-1);
            let reserved = held["reserved_units"].as_i64().unwrap_or(-1);
            let (want_cents, want_units) = match status.as_str() {
                "completed" => (total, units),
                _ => (0, 0),
            };
            if status == "pending" || charged != want_cents || reserved != want_units {
                audited.violations += 1;
                audited.cents_involved += (charged - want_cents).abs();
                audited.units_involved += (reserved - want_units).abs();
                audited.broken.push(BrokenOrder {
                    order_id: id,
                    status,
                    total_cents: total,
                    units,
                    charged_cents: charged,
                    reserved_units: reserved,
                });
            }
        }
    }
    let totals = answered(shop, "/audit").await?.body;
    let figure = |name: &str| totals[name].as_i64().unwrap_or(i64::MIN);
    audited.money_holds = figure("wallet_cents") + figure("paid_cents") == seeded.deposits_cents;
    audited.stock_holds = figure("stock_units") + completed_units == seeded.stock_created;
    audited.violations += usize::from(!audited.money_holds) + usize::from(!audited.stock_holds);
    Ok(audited)
}

/// What replaying every Idempotency-Key found. Each is a violation
/// (counted in the mode's): a key answered with an order that did not
/// complete, or with an order another key also answered with; a key
/// answered `idempotency_conflict` for its own body; or fewer keys answered
/// with a completed (or since cancelled) order than there are such orders,
/// so some key placed more than one.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Replays {
    /// Keys replayed with 201 and an order that completed (or was cancelled
    /// since).
    pub matched: usize,
    /// Keys replayed with 201 and an order that did not complete.
    pub not_completed: usize,
    /// Orders two keys answered with.
    pub shared: usize,
    /// Keys that conflicted with their own body.
    pub conflicts: usize,
    /// Completed or cancelled orders no key answered with.
    pub unclaimed: usize,
    /// Keys answered with an error (a refused order replays its error; a
    /// key that kept nothing places its order now), by status.
    pub errors: BTreeMap<String, usize>,
}

impl Replays {
    pub fn violations(&self) -> usize {
        self.not_completed + self.shared + self.conflicts + self.unclaimed
    }
}

/// Sends every order's Idempotency-Key again with its body. `statuses`:
/// every order the audit found, before the replays.
async fn replay(
    shop: &ShopClient,
    keys: &[(String, serde_json::Value)],
    statuses: &BTreeMap<i64, String>,
) -> Replays {
    let mut replays = Replays::default();
    let mut answered_with = std::collections::BTreeSet::new();
    for (key, body) in keys {
        // One try: a refused order's stored answer is a 503 or 504 too, and
        // nothing is in flight any more to wait for.
        let headers = [("idempotency-key", key.as_str())];
        let reply = shop
            .send(Method::POST, "/orders", Some(body), &headers)
            .await;
        let Ok(reply) = reply else {
            *replays.errors.entry("none".into()).or_default() += 1;
            continue;
        };
        if reply.status != 201 {
            if reply.error_code() == Some("idempotency_conflict") {
                replays.conflicts += 1;
            }
            *replays.errors.entry(reply.status.to_string()).or_default() += 1;
            continue;
        }
        let Some(id) = reply.body["id"].as_i64() else {
            replays.not_completed += 1;
            continue;
        };
        match statuses.get(&id).map(String::as_str) {
            Some("completed" | "cancelled") => {
                if answered_with.insert(id) {
                    replays.matched += 1;
                } else {
                    replays.shared += 1;
                }
            }
            // An order the audit did not see: the key had kept nothing, and
            // its replay placed the order now.
            None => {}
            Some(_) => replays.not_completed += 1,
        }
    }
    let completed = statuses
        .values()
        .filter(|status| matches!(status.as_str(), "completed" | "cancelled"))
        .count();
    replays.unclaimed = completed.saturating_sub(answered_with.len());
    replays
}

/// A read the audit needs, retried a few times (a process may be restarting).
async fn answered(shop: &ShopClient, path: &str) -> anyhow::Result<Reply> {
    let mut last = None;
    for _ in 0..20 {
        match shop.get(path).await {
            Ok(reply) if reply.status == 200 => return Ok(reply),
            Ok(reply) => last = Some(format!("{} {}", reply.status, reply.body)),
            Err(error) => last = Some(error.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    anyhow::bail!("GET {path} kept failing: {}", last.unwrap_or_default())
}

fn print_table(result: &ChaosResult) {
    println!();
    println!(
        "{:<6} {:>9} {:>6} {:>9} {:>7} {:>10} {:>7} {:>6} {:>6} {:>10} {:>8} {:>8}",
        "mode",
        "completed",
        "failed",
        "cancelled",
        "pending",
        "violations",
        "cents",
        "units",
        "money",
        "settled ms",
        "p50 ms",
        "p99 ms"
    );
    for mode in &result.modes {
        let count = |status: &str| mode.orders.get(status).copied().unwrap_or(0);
        let ms = |value: Option<f64>| value.map_or("-".to_owned(), |value| format!("{value:.1}"));
        println!(
            "{:<6} {:>9} {:>6} {:>9} {:>7} {:>10} {:>7} {:>6} {:>6} {:>10} {:>8} {:>8}",
            mode.mode.name(),
            count("completed"),
            count("failed"),
            count("cancelled"),
            count("pending"),
            mode.violations,
            mode.cents_involved,
            mode.units_involved,
            if mode.money_equation_holds {
                "ok"
            } else {
                "BROKEN"
            },
            ms(mode.settled_after_ms),
            ms(mode.completed_p50_ms),
            ms(mode.completed_p99_ms),
        );
    }
    println!("\nrestarts by the supervisor:");
    for mode in &result.modes {
        let restarts: Vec<String> = mode
            .restarts
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(name, count)| format!("{name} {count}"))
            .collect();
        println!(
            "  {}: {}",
            mode.mode.name(),
            if restarts.is_empty() {
                "none".to_owned()
            } else {
                restarts.join(", ")
            }
        );
    }
}
