//! The load of `shoplab isolation`: four groups of endpoints, each one the
//! public face of some components, sent to at once, each in an open loop of
//! its own (a constant arrival rate, every request due on schedule whether
//! or not earlier ones have answered, its latency counted from then), each
//! over its own HTTP client, as four independent callers would be. So a
//! stalled group never slows another's sending: what one group sees is the
//! deployment's doing, not the generator's.
//!
//! Every request is counted in the phase (before, during, after the fault)
//! in which it was due, even if it is answered (or times out) in the next.
//! The run is scheduled by the clock, so the phases line up with a fault
//! plan's window written before the deployment started.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::SeedableRng;
use reqwest::Method;
use serde::Serialize;
use serde_json::json;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::load::DataSet;

/// A group of endpoints, named for what it reads or does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Users,
    Products,
    Wallets,
    Orders,
}

impl Group {
    pub const ALL: [Group; 4] = [Group::Users, Group::Products, Group::Wallets, Group::Orders];

    pub fn name(self) -> &'static str {
        match self {
            Group::Users => "users",
            Group::Products => "products",
            Group::Wallets => "wallets",
            Group::Orders => "orders",
        }
    }

    /// API.md's route.
    pub fn route(self) -> &'static str {
        match self {
            Group::Users => "GET /users/{id}",
            Group::Products => "GET /products/{id}",
            Group::Wallets => "GET /users/{id}/wallet",
            Group::Orders => "POST /orders",
        }
    }

    /// The components a request of the group needs in either deployment
    /// (a wallet read checks the user; an order needs all of them). A
    /// fault in any other component should leave the group alone.
    pub fn needs(self) -> &'static [&'static str] {
        match self {
            Group::Users => &["users"],
            Group::Products => &["catalog"],
            Group::Wallets => &["payments", "users"],
            Group::Orders => &["orders", "users", "catalog", "payments"],
        }
    }

    /// The status of a request that succeeded.
    fn expected_status(self) -> u16 {
        match self {
            Group::Orders => 201,
            _ => 200,
        }
    }

    /// The next request: a seeded user or product; an order of one unit of
    /// one product (the seeded stock and wallets outlast any run).
    fn request(self, rng: &mut StdRng, data: &DataSet) -> (Method, String, Option<String>) {
        let user = data.users.choose(rng).copied().unwrap_or(1);
        let product = data.products.choose(rng).copied().unwrap_or(1);
        match self {
            Group::Users => (Method::GET, format!("/users/{user}"), None),
            Group::Products => (Method::GET, format!("/products/{product}"), None),
            Group::Wallets => (Method::GET, format!("/users/{user}/wallet"), None),
            Group::Orders => {
                let body =
                    json!({"user_id": user, "items": [{"product_id": product, "quantity": 1}]});
                (Method::POST, "/orders".into(), Some(body.to_string()))
            }
        }
    }
}

/// The three phases of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Before,
    During,
    After,
}

impl Phase {
    pub const ALL: [Phase; 3] = [Phase::Before, Phase::During, Phase::After];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Before => "before",
            Phase::During => "during",
            Phase::After => "after",
        }
    }
}

/// When each phase begins and the run ends.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub start: Instant,
    pub before: Duration,
    pub during: Duration,
    pub after: Duration,
}

impl Schedule {
    pub fn fault_starts(&self) -> Instant {
        self.start + self.before
    }

    pub fn fault_ends(&self) -> Instant {
        self.fault_starts() + self.during
    }

    pub fn end(&self) -> Instant {
        self.fault_ends() + self.after
    }

    fn phase_at(&self, due: Instant) -> Phase {
        if due < self.fault_starts() {
            Phase::Before
        } else if due < self.fault_ends() {
            Phase::During
        } else {
            Phase::After
        }
    }
}

/// How one request ended.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Status(u16),
    Timeout,
    /// Refused or broken connection: no answer at all.
    Transport,
}

/// What one group saw in one phase.
#[derive(Debug, Clone)]
pub struct Tally {
    pub sent: u64,
    /// Answered with the group's success status.
    pub ok: u64,
    pub timeouts: u64,
    pub transport_errors: u64,
    /// Every status other than the success status, by code.
    pub error_statuses: BTreeMap<u16, u64>,
    /// Latency of every answered request (any status), in microseconds.
    pub answered: Histogram<u64>,
}

impl Tally {
    fn new() -> Self {
        Tally {
            sent: 0,
            ok: 0,
            timeouts: 0,
            transport_errors: 0,
            error_statuses: BTreeMap::new(),
            answered: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .expect("1 µs to 1 h at 3 digits is a valid histogram"),
        }
    }

    fn add(&mut self, group: Group, answer: Answer, latency: Duration) {
        self.sent += 1;
        match answer {
            Answer::Status(status) => {
                let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                self.answered.saturating_record(micros.max(1));
                if status == group.expected_status() {
                    self.ok += 1;
                } else {
                    *self.error_statuses.entry(status).or_default() += 1;
                }
            }
            Answer::Timeout => self.timeouts += 1,
            Answer::Transport => self.transport_errors += 1,
        }
    }
}

/// Every group's tallies, by phase.
pub type Tallies = BTreeMap<Group, BTreeMap<Phase, Tally>>;

/// Sends every group's requests at `rate` per second each, on `schedule`,
/// and waits for the last answer (or its timeout).
pub async fn drive(
    base_url: &str,
    data: &DataSet,
    rate: f64,
    schedule: Schedule,
    timeout: Duration,
    seed: u64,
) -> anyhow::Result<Tallies> {
    anyhow::ensure!(rate > 0.0 && rate.is_finite(), "the rate must be above 0");
    let mut groups = JoinSet::new();
    for (index, group) in Group::ALL.into_iter().enumerate() {
        let caller = Caller {
            http: crate::load::http_client()?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            timeout,
            group,
        };
        let data = data.clone();
        let rng = StdRng::seed_from_u64(seed.wrapping_add(index as u64));
        groups.spawn(async move { (group, caller.open_loop(rate, schedule, &data, rng).await) });
    }
    let mut tallies = Tallies::new();
    while let Some(joined) = groups.join_next().await {
        let (group, tally) = joined?;
        tallies.insert(group, tally);
    }
    Ok(tallies)
}

/// A request that has ended: its phase, how, and its latency from its due time.
type Done = (Phase, Answer, Duration);

/// One group's caller: its own client, its own loop.
struct Caller {
    http: reqwest::Client,
    base_url: String,
    timeout: Duration,
    group: Group,
}

impl Caller {
    async fn open_loop(
        self,
        rate: f64,
        schedule: Schedule,
        data: &DataSet,
        mut rng: StdRng,
    ) -> BTreeMap<Phase, Tally> {
        let span = schedule.end() - schedule.start;
        let total = (rate * span.as_secs_f64()).round() as u64;
        let mut tallies: BTreeMap<Phase, Tally> = Phase::ALL
            .into_iter()
            .map(|phase| (phase, Tally::new()))
            .collect();
        let mut in_flight = JoinSet::new();
        let group = self.group;
        let add = |tallies: &mut BTreeMap<Phase, Tally>, (phase, answer, latency): Done| {
            if let Some(tally) = tallies.get_mut(&phase) {
                tally.add(group, answer, latency);
            }
        };
        for index in 0..total {
            let due = schedule.start + Duration::from_secs_f64(index as f64 / rate);
            let (method, path, body) = self.group.request(&mut rng, data);
            tokio::time::sleep_until(due).await;
            let mut request = self
                .http
                .request(method, format!("{}{path}", self.base_url))
                .header("x-request-id", format!("iso-{}-{index}", self.group.name()))
                .timeout(self.timeout);
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body);
            }
            let phase = schedule.phase_at(due);
            in_flight.spawn(async move {
                let answer = match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        match response.bytes().await {
                            Ok(_) => Answer::Status(status),
                            Err(error) if error.is_timeout() => Answer::Timeout,
                            Err(_) => Answer::Transport,
                        }
                    }
                    Err(error) if error.is_timeout() => Answer::Timeout,
                    Err(_) => Answer::Transport,
                };
                (phase, answer, due.elapsed())
            });
            // Count finished requests as we go, so the set stays small.
            while let Some(Ok(done)) = in_flight.try_join_next() {
                add(&mut tallies, done);
            }
        }
        while let Some(joined) = in_flight.join_next().await {
            if let Ok(done) = joined {
                add(&mut tallies, done);
            }
        }
        tallies
    }
}
