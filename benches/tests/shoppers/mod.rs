//! A shop made through the API, for the resilience and edge tests: shoppers
//! with money and one product in a fresh deployment; and a process of the
//! lab started by hand, with its own flags and internal token. Shared by
//! several test crates, each using part of it.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use shoplab::client::{Reply, ShopClient};
use shoplab::deployment::{Deployment, Kind, Options, Storage};

use crate::mugs::bin_dir;

pub const DEPOSIT: i64 = 100_000_000;

/// One shopper with 100.00, ten units of one product at 10.00.
pub const ONE_SHOPPER: Stock = Stock::of(1, 10_000, 1000, 10);

/// A deployment of `kind` on fresh SQLite files, under the fault plan
/// `plan` (TOML) if given, with `/metrics` on every process if `metrics`.
pub async fn start(kind: Kind, scratch: &Path, plan: Option<&str>, metrics: bool) -> Deployment {
    let mut options = Options::new(kind, bin_dir(), Storage::Sqlite(scratch.join("data")));
    options.fault_plan = plan.map(|text| {
        let path = scratch.join("plan.toml");
        std::fs::write(&path, text).expect("the plan is written");
        path
    });
    options.metrics = metrics;
    Deployment::start(&options)
        .await
        .expect("the deployment starts on fresh SQLite files")
}

/// `users` users, each with `deposit` cents, and one product of `stock`
/// units at `price` cents: their ids.
pub async fn shop_of(
    shop: &ShopClient,
    users: usize,
    deposit: i64,
    price: i64,
    stock: i64,
) -> (Vec<i64>, i64) {
    let product = created(
        shop,
        "/products",
        json!({"name": "Mug", "price_cents": price, "stock": stock}),
    )
    .await;
    let mut ids = Vec::new();
    for index in 0..users {
        let user = created(
            shop,
            "/users",
            json!({"name": format!("Shopper {index}"), "email": format!("s{index}@example.com")}),
        )
        .await;
        let reply = shop
            .post(
                &format!("/users/{user}/wallet/deposit"),
                &json!({ "amount_cents": deposit }),
            )
            .await
            .expect("the shop answers");
        assert_eq!(reply.status, 200, "{}", reply.body);
        ids.push(user);
    }
    (ids, product)
}

/// A running deployment, the scratch directory its databases live in
/// (removed when this is dropped: keep it bound), its front door, and the
/// shop [`shop_of`] made in it.
pub struct Running {
    pub deployment: Deployment,
    pub shop: ShopClient,
    pub users: Vec<i64>,
    pub product: i64,
    pub scratch: tempfile::TempDir,
}

/// What [`shop_of`] puts in a fresh deployment.
pub struct Stock {
    pub users: usize,
    pub deposit: i64,
    pub price: i64,
    pub units: i64,
}

impl Stock {
    /// `users` users with `deposit` cents each, and one product of `units`
    /// at `price` cents.
    pub const fn of(users: usize, deposit: i64, price: i64, units: i64) -> Self {
        Self {
            users,
            deposit,
            price,
            units,
        }
    }
}

/// A fresh deployment of `kind` (under `plan`, with `/metrics` if
/// `metrics`) with `stock` in it.
pub async fn running(kind: Kind, plan: Option<&str>, metrics: bool, stock: Stock) -> Running {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let deployment = start(kind, scratch.path(), plan, metrics).await;
    let shop = ShopClient::new(&deployment.base_url);
    let (users, product) =
        shop_of(&shop, stock.users, stock.deposit, stock.price, stock.units).await;
    Running {
        deployment,
        shop,
        users,
        product,
        scratch,
    }
}

pub async fn created(shop: &ShopClient, path: &str, body: Value) -> i64 {
    let reply = shop.post(path, &body).await.expect("the shop answers");
    assert_eq!(reply.status, 201, "{path}: {}", reply.body);
    reply.body["id"].as_i64().expect("an id")
}

pub fn order_of(user: i64, product: i64) -> Value {
    json!({"user_id": user, "items": [{"product_id": product, "quantity": 1}]})
}

pub async fn order(shop: &ShopClient, body: &Value, headers: &[(&str, &str)]) -> Reply {
    shop.send(Method::POST, "/orders", Some(body), headers)
        .await
        .expect("the front door answers")
}

pub async fn balance(shop: &ShopClient, user: i64) -> i64 {
    let reply = shop
        .get(&format!("/users/{user}/wallet"))
        .await
        .expect("the shop answers");
    reply.body["balance_cents"].as_i64().expect("a balance")
}
pub const OTHER_TOKEN: &str = "not-the-deployments-token";

/// Starts `binary` on a free port with the internal token `token`, and
/// waits for it to say where it listens (on stdout): the child (killed when
/// dropped) and its base URL.
pub async fn spawn(binary: &str, token: &str, args: &[String]) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(bin_dir().join(binary))
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .env("SHOPLAB_INTERNAL_TOKEN", token)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| panic!("{binary} starts: {error}"));
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some((_, url)) = line.split_once("listening on ") {
                return url.trim().to_owned();
            }
        }
        panic!("{binary} exited before it listened");
    })
    .await
    .unwrap_or_else(|_| panic!("{binary} listened within 20 s"));
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

pub const SERVICES: [&str; 4] = ["users", "catalog", "payments", "orders"];

/// Where `services` of `deployment` listen, as the flags that name them
/// (`--users-url URL`, ...).
pub fn urls_of(deployment: &Deployment, services: &[&str]) -> Vec<String> {
    let mut args = Vec::new();
    for service in services {
        let url = deployment
            .url_of(&format!("shoplab-{service}"))
            .unwrap_or_else(|| panic!("the {service} service runs"));
        args.extend([format!("--{service}-url"), url.to_owned()]);
    }
    args
}
