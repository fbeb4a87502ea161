//! The experiment itself: the probe seeded through the public API, then a
//! window in which order loops place orders that can only fail while readers
//! read the products those orders touch.
//!
//! Every order is bound to fail (its user has no money), so a reader that
//! sees less stock than was seeded has seen stock held by an order that will
//! never complete: an intermediate state of that order, a dirty read. Only
//! what the readers were actually answered is counted ([`Reads::record`]):
//! nothing here knows which deployment it is reading.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::SeedableRng;
use serde::Serialize;
use serde_json::{json, Value};

use super::Parameters;
use crate::client::{Reply, ShopClient};
use crate::load::workload::created_id;

/// What was seeded: the probe products (each with `stock` units) and one
/// user with an empty wallet per order loop.
#[derive(Debug, Clone)]
pub struct Probe {
    pub products: Vec<i64>,
    pub users: Vec<i64>,
}

/// A probe product's price. Any price above 0 will do: a wallet of 0 pays
/// for nothing.
const PRICE_CENTS: i64 = 1_250;

impl Probe {
    /// Creates the probe products and the users through the public API.
    /// No deposit is made: every wallet stays at 0.
    pub async fn seed(shop: &ShopClient, parameters: &Parameters) -> anyhow::Result<Self> {
        let mut probe = Probe {
            products: Vec::new(),
            users: Vec::new(),
        };
        for index in 0..parameters.products {
            let body = json!({
                "name": format!("Probe {index}"),
                "price_cents": PRICE_CENTS,
                "stock": parameters.stock,
            });
            let reply = shop.post("/products", &body).await?;
            probe.products.push(created_id(reply, "a probe product")?);
        }
        for index in 0..parameters.order_loops {
            let body = json!({
                "name": format!("Penniless {index}"),
                "email": format!("penniless{index}@anomalies.example"),
            });
            let reply = shop.post("/users", &body).await?;
            probe.users.push(created_id(reply, "a user")?);
        }
        Ok(probe)
    }
}

/// What the readers were answered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reads {
    /// `GET /products/{id}` answered 200.
    pub total: u64,
    /// Of those, answers whose `stock` was below the seeded stock.
    pub dirty: u64,
    /// The lowest `stock` any 200 showed (`None`: no 200 at all).
    pub lowest_stock: Option<i64>,
    /// Reads that did not answer 200 with a stock, by status (or
    /// `no answer`): they count neither as clean nor as dirty.
    pub failed: BTreeMap<String, u64>,
}

impl Reads {
    /// Counts one read of a product seeded with `full_stock` units: a dirty
    /// read is a 200 whose `stock` is below it.
    pub fn record(&mut self, answer: anyhow::Result<Reply>, full_stock: i64) {
        let stock = match &answer {
            Ok(reply) if reply.status == 200 => reply.body.get("stock").and_then(Value::as_i64),
            _ => None,
        };
        let Some(stock) = stock else {
            *self.failed.entry(outcome(&answer)).or_default() += 1;
            return;
        };
        self.total += 1;
        if stock < full_stock {
            self.dirty += 1;
        }
        self.lowest_stock = Some(self.lowest_stock.map_or(stock, |lowest| lowest.min(stock)));
    }

    fn merge(&mut self, other: Reads) {
        self.total += other.total;
        self.dirty += other.dirty;
        self.lowest_stock = match (self.lowest_stock, other.lowest_stock) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        merge_counts(&mut self.failed, other.failed);
    }
}

/// How the orders were answered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Orders {
    /// `POST /orders` sent (and answered or not).
    pub placed: u64,
    /// Answered 409 `insufficient_funds`, the only answer expected.
    pub refused_for_funds: u64,
    /// Every other answer, by status and code (or `no answer`).
    pub unexpected: BTreeMap<String, u64>,
}

/// The one answer an order from an empty wallet may get.
const EXPECTED_CODE: &str = "insufficient_funds";

impl Orders {
    pub fn record(&mut self, answer: anyhow::Result<Reply>) {
        self.placed += 1;
        match &answer {
            Ok(reply) if reply.status == 409 && reply.error_code() == Some(EXPECTED_CODE) => {
                self.refused_for_funds += 1;
            }
            _ => *self.unexpected.entry(outcome(&answer)).or_default() += 1,
        }
    }

    fn merge(&mut self, other: Orders) {
        self.placed += other.placed;
        self.refused_for_funds += other.refused_for_funds;
        merge_counts(&mut self.unexpected, other.unexpected);
    }
}

/// `201`, `409 insufficient_stock`, `no answer`: how an answer is counted
/// when it is not the expected one.
fn outcome(answer: &anyhow::Result<Reply>) -> String {
    match answer {
        Ok(reply) => match reply.error_code() {
            Some(code) => format!("{} {code}", reply.status),
            None => reply.status.to_string(),
        },
        Err(_) => "no answer".to_owned(),
    }
}

fn merge_counts(into: &mut BTreeMap<String, u64>, from: BTreeMap<String, u64>) {
    for (key, count) in from {
        *into.entry(key).or_default() += count;
    }
}

/// What one window saw.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub reads: Reads,
    pub orders: Orders,
    /// How long the loops actually ran (the last request ends after the
    /// deadline).
    pub elapsed: Duration,
}

/// Where the order loops' seeded streams start: loop `index` draws from
/// `seed + 1 + index`.
const ORDER_STREAMS: u64 = 1;
/// Where the readers' start, far from the order loops'.
const READER_STREAMS: u64 = 1_000_001;

/// The seeded stream of choices of one loop, so that the same seed makes the
/// same choices in both deployments.
fn stream(seed: u64, offset: u64, index: usize) -> StdRng {
    StdRng::seed_from_u64(seed.wrapping_add(offset).wrapping_add(index as u64))
}

/// Runs the order loops and the readers side by side until the window ends.
pub async fn observe(
    shop: &ShopClient,
    probe: &Probe,
    parameters: &Parameters,
) -> anyhow::Result<Observed> {
    let started = Instant::now();
    let deadline = started + parameters.window();
    let mut order_loops = tokio::task::JoinSet::new();
    for (index, &user) in probe.users.iter().enumerate() {
        let (shop, products) = (shop.clone(), probe.products.clone());
        let mut choices = stream(parameters.seed, ORDER_STREAMS, index);
        let quantity = parameters.quantity;
        order_loops.spawn(async move {
            let mut orders = Orders::default();
            while Instant::now() < deadline {
                // Seeded with products; with none, there is nothing to do.
                let Some(&product) = products.choose(&mut choices) else {
                    break;
                };
                let body = json!({
                    "user_id": user,
                    "items": [{"product_id": product, "quantity": quantity}],
                });
                orders.record(shop.post("/orders", &body).await);
            }
            orders
        });
    }
    let mut readers = tokio::task::JoinSet::new();
    for index in 0..parameters.readers {
        let (shop, products) = (shop.clone(), probe.products.clone());
        let mut choices = stream(parameters.seed, READER_STREAMS, index);
        let full_stock = parameters.stock;
        readers.spawn(async move {
            let mut reads = Reads::default();
            while Instant::now() < deadline {
                // Seeded with products; with none, there is nothing to do.
                let Some(&product) = products.choose(&mut choices) else {
                    break;
                };
                reads.record(shop.get(&format!("/products/{product}")).await, full_stock);
            }
            reads
        });
    }
    let mut observed = Observed::default();
    while let Some(orders) = order_loops.join_next().await {
        observed
            .orders
            .merge(orders.context("an order loop stopped")?);
    }
    while let Some(reads) = readers.join_next().await {
        observed.reads.merge(reads.context("a reader stopped")?);
    }
    observed.elapsed = started.elapsed();
    Ok(observed)
}

/// Each probe product's stock once every order has been answered (`None`:
/// it could not be read).
pub async fn final_stock(shop: &ShopClient, probe: &Probe) -> BTreeMap<i64, Option<i64>> {
    let mut stock = BTreeMap::new();
    for &product in &probe.products {
        let read = shop.get(&format!("/products/{product}")).await;
        let units = match read {
            Ok(reply) if reply.status == 200 => reply.body.get("stock").and_then(Value::as_i64),
            _ => None,
        };
        stock.insert(product, units);
    }
    stock
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn reply(status: u16, body: Value) -> anyhow::Result<Reply> {
        Ok(Reply {
            status,
            headers: HeaderMap::new(),
            body,
            elapsed: Duration::ZERO,
        })
    }

    #[test]
    fn a_read_is_dirty_only_when_its_answer_shows_less_than_the_seeded_stock() {
        let mut reads = Reads::default();
        reads.record(reply(200, json!({"id": 1, "stock": 10})), 10);
        assert_eq!((reads.total, reads.dirty), (1, 0));
        reads.record(reply(200, json!({"id": 1, "stock": 8})), 10);
        reads.record(reply(200, json!({"id": 1, "stock": 6})), 10);
        assert_eq!((reads.total, reads.dirty), (3, 2));
        assert_eq!(reads.lowest_stock, Some(6));
    }

    #[test]
    fn a_read_without_a_200_and_a_stock_is_neither_clean_nor_dirty() {
        let mut reads = Reads::default();
        let unavailable = json!({"error": {"code": "service_unavailable", "message": "down"}});
        reads.record(reply(503, unavailable), 10);
        reads.record(Err(anyhow::anyhow!("connection refused")), 10);
        reads.record(reply(200, json!({"id": 1})), 10);
        assert_eq!((reads.total, reads.dirty, reads.lowest_stock), (0, 0, None));
        assert_eq!(reads.failed.get("503 service_unavailable"), Some(&1));
        assert_eq!(reads.failed.get("no answer"), Some(&1));
        assert_eq!(reads.failed.get("200"), Some(&1));
    }

    #[test]
    fn only_a_refusal_for_funds_is_an_expected_order_answer() {
        let mut orders = Orders::default();
        let funds = json!({"error": {"code": "insufficient_funds", "message": "short"}});
        let stock = json!({"error": {"code": "insufficient_stock", "message": "short"}});
        orders.record(reply(409, funds));
        orders.record(reply(409, stock));
        orders.record(reply(201, json!({"id": 1, "status": "completed"})));
        assert_eq!((orders.placed, orders.refused_for_funds), (3, 1));
        assert_eq!(orders.unexpected.get("409 insufficient_stock"), Some(&1));
        assert_eq!(orders.unexpected.get("201"), Some(&1));
    }

    #[test]
    fn merged_tallies_keep_the_lowest_stock_of_either() {
        let mut one = Reads::default();
        one.record(reply(200, json!({"stock": 7})), 10);
        let mut other = Reads::default();
        other.record(reply(200, json!({"stock": 4})), 10);
        one.merge(other);
        assert_eq!((one.total, one.dirty, one.lowest_stock), (2, 2, Some(4)));
    }
}
