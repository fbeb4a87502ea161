//! After a mode's run: waiting until nothing is in flight, the audit of
//! API.md's invariants (each order, and the money and stock equations), and
//! every Idempotency-Key sent again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::Method;
use serde::Serialize;

use crate::client::{Reply, ShopClient};
use crate::deployment::Deployment;

use super::exercise::Seeded;
use super::{BrokenOrder, Mode};

/// Waits until no order is `pending` and, in the microservices, no saga
/// (cancels included) is in flight; false if that did not happen in `within`.
pub(super) async fn settle(
    shop: &ShopClient,
    deployment: &Deployment,
    mode: Mode,
    within: Duration,
) -> bool {
    let deadline = Instant::now() + within;
    let orders_service = deployment
        .url_of(&mode.orders_process())
        .map(ShopClient::new);
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
        let in_flight = match &orders_service {
            Some(orders) if mode.runs_sagas() => match orders
                .send(Method::GET, "/internal/audit/orders", None, &token)
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

/// What [`audit`] found: API.md's invariants, order by order and in total.
pub struct Audited {
    pub violations: usize,
    pub orders: BTreeMap<String, i64>,
    /// Every order's status, by id.
    pub statuses: BTreeMap<i64, String>,
    pub broken: Vec<BrokenOrder>,
    pub money_holds: bool,
    pub stock_holds: bool,
    pub cents_involved: i64,
    pub units_involved: i64,
}

/// Every order of every user, each checked against invariant 3; then the
/// money and stock equations.
pub async fn audit(shop: &ShopClient, seeded: &Seeded) -> anyhow::Result<Audited> {
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
pub(super) async fn replay(
    shop: &ShopClient,
    keys: &[(String, serde_json::Value)],
    statuses: &BTreeMap<i64, String>,
) -> Replays {
    let mut replays = Replays::default();
    let mut answered_with = std::collections::BTreeSet::new();
    for (key, body) in keys {
        let Some(reply) = replay_one(shop, key, body).await else {
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

/// How long a replay waits for a deployment that does not answer at all:
/// longer than the supervisor's longest pause before a restart (3 s).
const REPLAY_ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// One key sent again with its body, until the deployment answers. A key
/// that kept nothing places its order now, under the same fault plan, so
/// its replay may crash the process that serves it (in the monolith and the
/// modular monolith, the only one): the keys after it then get no answer
/// until the process is back, which says nothing of their orders. Any
/// answer is final, though: a refused order's stored answer is a 503 or 504
/// too, and nothing is in flight any more to wait for.
async fn replay_one(shop: &ShopClient, key: &str, body: &serde_json::Value) -> Option<Reply> {
    let headers = [("idempotency-key", key)];
    let deadline = Instant::now() + REPLAY_ANSWER_WITHIN;
    loop {
        if let Ok(reply) = shop
            .send(Method::POST, "/orders", Some(body), &headers)
            .await
        {
            return Some(reply);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
