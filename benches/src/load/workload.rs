//! What the load generator sends: the workloads (`read`, `browse`, `order`,
//! `mix`), the data set they run over, and how that data set is seeded
//! through the public API.
//!
//! A workload is a seeded stream of requests: the same seed and the same data
//! set give the same requests in the same order, so the monolith and the
//! microservices are measured on identical work. On fresh databases the
//! seeded ids are the same in both deployments too (API.md: ids are assigned
//! in increasing order of creation).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use anyhow::{bail, ensure, Context};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde::Serialize;
use serde_json::{json, Value};

use crate::client::ShopClient;

/// The endpoints a workload touches, each with the status API.md gives a
/// request that succeeds: any other status counts as an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Endpoint {
    /// `GET /products/{id}`
    Read,
    /// `GET /products?limit=20&offset=N`
    Browse,
    /// `POST /orders`
    Order,
    /// `POST /users/{id}/wallet/deposit`
    Deposit,
    /// A trivial `GET` (the floor's `/hello`): the generator's own ceiling.
    Hello,
}

impl Endpoint {
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::Read => "GET /products/{id}",
            Endpoint::Browse => "GET /products",
            Endpoint::Order => "POST /orders",
            Endpoint::Deposit => "POST /users/{id}/wallet/deposit",
            Endpoint::Hello => "GET /hello",
        }
    }

    pub fn expected_status(self) -> u16 {
        match self {
            Endpoint::Order => 201,
            _ => 200,
        }
    }
}

/// One request, ready to send.
#[derive(Debug, Clone)]
pub struct Request {
    pub endpoint: Endpoint,
    pub method: Method,
    pub path: String,
    pub body: Option<Vec<u8>>,
}

/// The share of each endpoint in the `mix` workload, in percent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mix {
    pub read: u32,
    pub browse: u32,
    pub order: u32,
    pub deposit: u32,
}

impl Default for Mix {
    /// DESIGN.md's default: mostly reads, some browsing, some orders.
    fn default() -> Self {
        Mix {
            read: 70,
            browse: 10,
            order: 15,
            deposit: 5,
        }
    }
}

impl FromStr for Mix {
    type Err = String;

    /// `read=70,browse=10,order=15,deposit=5`; a share left out is 0.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut mix = Mix {
            read: 0,
            browse: 0,
            order: 0,
            deposit: 0,
        };
        for part in text.split(',') {
            let (name, share) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: write NAME=PERCENT"))?;
            let share: u32 = share
                .trim()
                .parse()
                .map_err(|_| format!("`{part}`: the share must be a whole number"))?;
            let slot = match name.trim() {
                "read" => &mut mix.read,
                "browse" => &mut mix.browse,
                "order" => &mut mix.order,
                "deposit" => &mut mix.deposit,
                other => {
                    return Err(format!(
                        "`{other}`: the mix knows read, browse, order and deposit"
                    ))
                }
            };
            *slot = share;
        }
        if mix.total() == 0 {
            return Err("the mix's shares add up to 0".into());
        }
        Ok(mix)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read={},browse={},order={},deposit={}",
            self.read, self.browse, self.order, self.deposit
        )
    }
}

impl Mix {
    fn total(&self) -> u32 {
        self.read + self.browse + self.order + self.deposit
    }

    fn pick(&self, rng: &mut StdRng) -> Endpoint {
        let mut ticket = rng.random_range(0..self.total());
        for (endpoint, share) in [
            (Endpoint::Read, self.read),
            (Endpoint::Browse, self.browse),
            (Endpoint::Order, self.order),
            (Endpoint::Deposit, self.deposit),
        ] {
            if ticket < share {
                return endpoint;
            }
            ticket -= share;
        }
        unreachable!("a ticket below the total falls in some share")
    }
}

/// A workload: which requests, in which proportions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// `GET /products/{id}` of a random seeded product.
    Read,
    /// `GET /products?limit=20&offset=N`.
    Browse,
    /// `POST /orders` of 1–3 distinct products, 1–3 of each.
    Order,
    /// Reads, browsing, orders and deposits in the given proportions.
    Mix(Mix),
    /// The floor's trivial `GET /hello`.
    Hello,
}

impl Workload {
    /// The name the CLI and the report use.
    pub fn name(&self) -> &'static str {
        match self {
            Workload::Read => "read",
            Workload::Browse => "browse",
            Workload::Order => "order",
            Workload::Mix(_) => "mix",
            Workload::Hello => "hello",
        }
    }

    /// Whether it changes data (and so needs seeded users and wallets).
    pub fn writes(&self) -> bool {
        match self {
            Workload::Order => true,
            Workload::Mix(mix) => mix.order > 0 || mix.deposit > 0,
            _ => false,
        }
    }

    /// The next request of the stream `rng` draws.
    pub fn next(&self, rng: &mut StdRng, data: &DataSet) -> Request {
        let endpoint = match self {
            Workload::Read => Endpoint::Read,
            Workload::Browse => Endpoint::Browse,
            Workload::Order => Endpoint::Order,
            Workload::Mix(mix) => mix.pick(rng),
            Workload::Hello => Endpoint::Hello,
        };
        data.request(endpoint, rng)
    }
}

/// The parsing the CLI uses: `read`, `browse`, `order`, `mix` (the default
/// mix; `--mix` sets another).
pub fn parse_workload(name: &str, mix: Option<Mix>) -> anyhow::Result<Workload> {
    Ok(match name {
        "read" => Workload::Read,
        "browse" => Workload::Browse,
        "order" => Workload::Order,
        "mix" => Workload::Mix(mix.unwrap_or_default()),
        other => bail!("unknown workload `{other}`: choose read, browse, order or mix"),
    })
}

/// How many rows a browse asks for.
const BROWSE_LIMIT: usize = 20;

/// The ids a workload draws from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DataSet {
    pub users: Vec<i64>,
    pub products: Vec<i64>,
}

/// How big a data set to seed.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SeedSize {
    pub users: usize,
    pub products: usize,
}

impl Default for SeedSize {
    fn default() -> Self {
        SeedSize {
            users: 100,
            products: 100,
        }
    }
}

/// Every product starts with this much stock (API.md's maximum): no run of
/// the lab can sell it out, so an order never fails for want of stock.
const SEED_STOCK: i64 = 1_000_000_000;
/// Every wallet gets this much (API.md's largest deposit): about 20 000
/// orders of the seeded prices, far beyond any run's orders per user.
const SEED_DEPOSIT_CENTS: i64 = 100_000_000;

impl DataSet {
    /// Creates users with funded wallets and products with ample stock
    /// through the public API. Emails carry `run`, so seeding twice into the
    /// same deployment never collides.
    pub async fn seed(
        shop: &ShopClient,
        size: SeedSize,
        seed: u64,
        run: &str,
    ) -> anyhow::Result<Self> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut data = DataSet::default();
        for index in 0..size.products {
            let body = json!({
                "name": format!("Product {index}"),
                "price_cents": rng.random_range(100..=2_000),
                "stock": SEED_STOCK,
            });
            data.products.push(created_id(
                shop.post("/products", &body).await?,
                "a product",
            )?);
        }
        for index in 0..size.users {
            let body = json!({
                "name": format!("Shopper {index}"),
                "email": format!("shopper{index}-{run}@load.example"),
            });
            let user = created_id(shop.post("/users", &body).await?, "a user")?;
            let reply = shop
                .post(
                    &format!("/users/{user}/wallet/deposit"),
                    &json!({ "amount_cents": SEED_DEPOSIT_CENTS }),
                )
                .await?;
            ensure!(
                reply.status == 200,
                "seeding: funding wallet {user} answered {}",
                reply.status
            );
            data.users.push(user);
        }
        Ok(data)
    }

    /// Reuses the products a deployment already has (`--no-seed`): enough
    /// for `read` and `browse`, which write nothing.
    pub async fn existing_products(shop: &ShopClient) -> anyhow::Result<Self> {
        let reply = shop.get("/products?limit=500").await?;
        ensure!(
            reply.status == 200,
            "GET /products answered {}",
            reply.status
        );
        let products: Vec<i64> = reply
            .body
            .as_array()
            .context("GET /products did not answer a list")?
            .iter()
            .filter_map(|product| product.get("id").and_then(Value::as_i64))
            .collect();
        ensure!(
            !products.is_empty(),
            "the deployment has no products: seed it, or drop --no-seed"
        );
        Ok(DataSet {
            users: Vec::new(),
            products,
        })
    }

    /// Whether `workload` can run over this data set.
    pub fn check_serves(&self, workload: &Workload) -> anyhow::Result<()> {
        if *workload != Workload::Hello && self.products.is_empty() {
            bail!("no products to run `{}` over", workload.name());
        }
        if workload.writes() && self.users.is_empty() {
            bail!(
                "`{}` places orders or deposits, which need seeded users: drop --no-seed",
                workload.name()
            );
        }
        Ok(())
    }

    fn request(&self, endpoint: Endpoint, rng: &mut StdRng) -> Request {
        let get = |path: String| Request {
            endpoint,
            method: Method::GET,
            path,
            body: None,
        };
        let post = |path: String, body: Value| Request {
            endpoint,
            method: Method::POST,
            path,
            body: Some(body.to_string().into_bytes()),
        };
        match endpoint {
            Endpoint::Read => get(format!("/products/{}", self.product(rng))),
            Endpoint::Browse => {
                let last = self.products.len().saturating_sub(BROWSE_LIMIT);
                let offset = rng.random_range(0..=last);
                get(format!("/products?limit={BROWSE_LIMIT}&offset={offset}"))
            }
            Endpoint::Order => {
                let lines = rng.random_range(1..=3).min(self.products.len());
                let items: Vec<Value> = self
                    .products
                    .choose_multiple(rng, lines)
                    .map(|product| json!({"product_id": product, "quantity": rng.random_range(1..=3)}))
                    .collect();
                post(
                    "/orders".into(),
                    json!({"user_id": self.user(rng), "items": items}),
                )
            }
            Endpoint::Deposit => post(
                format!("/users/{}/wallet/deposit", self.user(rng)),
                json!({"amount_cents": rng.random_range(1_000..=5_000)}),
            ),
            Endpoint::Hello => get("/hello".into()),
        }
    }

    // Checked when the workload was made: it has products and users.
    #[allow(clippy::expect_used)]
    fn product(&self, rng: &mut StdRng) -> i64 {
        *self.products.choose(rng).expect("checked: products exist")
    }

    #[allow(clippy::expect_used)]
    fn user(&self, rng: &mut StdRng) -> i64 {
        *self.users.choose(rng).expect("checked: users exist")
    }
}

/// The id in a 201's body, or why there is none (seeding stops there).
pub(crate) fn created_id(reply: crate::client::Reply, what: &str) -> anyhow::Result<i64> {
    ensure!(
        reply.status == 201,
        "seeding: creating {what} answered {} {}",
        reply.status,
        reply.body
    );
    reply
        .body
        .get("id")
        .and_then(Value::as_i64)
        .with_context(|| format!("seeding: {what} came back without an id"))
}

/// How many requests of each endpoint a stream of `count` draws: for tests
/// and for the report's note on the mix actually sent.
pub fn tally(
    workload: &Workload,
    data: &DataSet,
    seed: u64,
    count: usize,
) -> BTreeMap<Endpoint, usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut counts = BTreeMap::new();
    for _ in 0..count {
        *counts
            .entry(workload.next(&mut rng, data).endpoint)
            .or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> DataSet {
        DataSet {
            users: (1..=10).collect(),
            products: (1..=30).collect(),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_requests() {
        let workload = Workload::Mix(Mix::default());
        let stream = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..200)
                .map(|_| {
                    let request = workload.next(&mut rng, &data());
                    (request.path, request.body)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(stream(7), stream(7));
        assert_ne!(stream(7), stream(8));
    }

    #[test]
    fn the_default_mix_sends_each_endpoint_in_its_proportion() {
        let counts = tally(&Workload::Mix(Mix::default()), &data(), 1, 100_000);
        let share = |endpoint| counts.get(&endpoint).copied().unwrap_or(0) as f64 / 1000.0;
        assert!((share(Endpoint::Read) - 70.0).abs() < 1.0, "{counts:?}");
        assert!((share(Endpoint::Browse) - 10.0).abs() < 1.0, "{counts:?}");
        assert!((share(Endpoint::Order) - 15.0).abs() < 1.0, "{counts:?}");
        assert!((share(Endpoint::Deposit) - 5.0).abs() < 1.0, "{counts:?}");
    }

    #[test]
    fn an_order_has_one_to_three_distinct_products_of_one_to_three_units() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..500 {
            let request = Workload::Order.next(&mut rng, &data());
            let body: Value =
                serde_json::from_slice(&request.body.expect("an order has a body")).expect("json");
            let items = body["items"].as_array().expect("items");
            assert!((1..=3).contains(&items.len()));
            let mut ids: Vec<i64> = items
                .iter()
                .map(|item| item["product_id"].as_i64().expect("id"))
                .collect();
            ids.dedup();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), items.len(), "products repeat in {body}");
            for item in items {
                assert!((1..=3).contains(&item["quantity"].as_i64().expect("quantity")));
            }
        }
    }

    #[test]
    fn a_mix_is_parsed_from_shares_and_refused_when_empty_or_unknown() {
        assert_eq!(
            "read=70,browse=10,order=15,deposit=5".parse::<Mix>(),
            Ok(Mix::default())
        );
        assert_eq!("order=1".parse::<Mix>().map(|mix| mix.order), Ok(1));
        assert!("read=0".parse::<Mix>().is_err());
        assert!("write=5".parse::<Mix>().is_err());
        assert!("read=x".parse::<Mix>().is_err());
    }
}
