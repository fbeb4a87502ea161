//! The load of `shoplab isolation`: four groups of endpoints, each one the
//! public face of some components, sent to at once, each in an open loop of
//! its own on the lab's load generator (a constant arrival rate, every
//! request due on schedule whether or not earlier ones have answered, its
//! latency counted from then, no bound on connections), each over its own
//! HTTP client, as four independent callers would be. So a stalled group
//! never slows another's sending: what one group sees is the deployment's
//! doing, not the generator's.
//!
//! Every request is counted in the phase (before, during, after the fault)
//! in which it was due, even if it is answered (or times out) in the next.
//! The run is scheduled by the clock, so the phases line up with a fault
//! plan's window written before the deployment started.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use loadgen::{Mode, Outcome, Pacing, Request, Requests, Sample};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use reqwest::Method;
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;
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
}

/// A group's requests over the seeded data, as the generator takes them.
struct GroupRequests {
    group: Group,
    data: DataSet,
}

impl Requests for GroupRequests {
    /// The next request: a seeded user or product; an order of one unit of
    /// one product (the seeded stock and wallets outlast any run).
    fn next(&self, rng: &mut StdRng) -> Request {
        let user = self.data.users.choose(rng).copied().unwrap_or(1);
        let product = self.data.products.choose(rng).copied().unwrap_or(1);
        let (method, path, body) = match self.group {
            Group::Users => (Method::GET, format!("/users/{user}"), None),
            Group::Products => (Method::GET, format!("/products/{product}"), None),
            Group::Wallets => (Method::GET, format!("/users/{user}/wallet"), None),
            Group::Orders => {
                let body =
                    json!({"user_id": user, "items": [{"product_id": product, "quantity": 1}]});
                (
                    Method::POST,
                    "/orders".into(),
                    Some(body.to_string().into_bytes()),
                )
            }
        };
        Request {
            label: self.group.route().into(),
            method,
            path,
            body,
            expected_status: self.group.expected_status(),
            id_headers: &[],
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
    /// How long into the fault a deployment may take to settle into how it
    /// fails (a circuit opening, say): the failures due later are tallied
    /// apart, as the fault's settled cost.
    pub settle: Duration,
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

    /// Whether a request due at `due` falls in the fault's settled part.
    fn settled(&self, due: Instant) -> bool {
        due >= self.fault_starts() + self.settle && due < self.fault_ends()
    }

    fn phase_begins(&self, phase: Phase) -> Instant {
        match phase {
            Phase::Before => self.start,
            Phase::During => self.fault_starts(),
            Phase::After => self.fault_ends(),
        }
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
    /// The failures due once the fault had settled (see
    /// [`Schedule::settle`]; only in the fault's phase), by status
    /// (`timeout` and `transport` for no answer), and how long the answered
    /// ones took.
    pub settled_failures: BTreeMap<String, u64>,
    pub settled_failure_latency: Histogram<u64>,
    /// How long after its phase began the last failed request was due:
    /// after the fault, how long the group took to recover.
    pub last_failure: Option<Duration>,
}

impl Tally {
    // A true invariant: these bounds are constants hdrhistogram accepts.
    #[allow(clippy::expect_used)]
    fn new() -> Self {
        let histogram = || {
            Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .expect("1 µs to 1 h at 3 digits is a valid histogram")
        };
        Tally {
            sent: 0,
            ok: 0,
            timeouts: 0,
            transport_errors: 0,
            error_statuses: BTreeMap::new(),
            answered: histogram(),
            settled_failures: BTreeMap::new(),
            settled_failure_latency: histogram(),
            last_failure: None,
        }
    }

    /// Counts `sample`, due `into_phase` after its phase began; `settled`
    /// if it was due once the fault had settled.
    fn add(&mut self, sample: &Sample, into_phase: Duration, settled: bool) {
        self.sent += 1;
        let micros = u64::try_from(sample.latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        match sample.outcome {
            Outcome::Status(status) => {
                self.answered.saturating_record(micros);
                if sample.failed() {
                    *self.error_statuses.entry(status).or_default() += 1;
                } else {
                    self.ok += 1;
                }
            }
            Outcome::Timeout => self.timeouts += 1,
            Outcome::Transport => self.transport_errors += 1,
        }
        if !sample.failed() {
            return;
        }
        self.last_failure = self.last_failure.max(Some(into_phase));
        if settled {
            *self
                .settled_failures
                .entry(sample.outcome.key())
                .or_default() += 1;
            if matches!(sample.outcome, Outcome::Status(_)) {
                self.settled_failure_latency.saturating_record(micros);
            }
        }
    }
}

/// Every group's tallies, by phase.
pub type Tallies = BTreeMap<Group, BTreeMap<Phase, Tally>>;

/// Requests per second for each group.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    /// The users, products and wallets groups'.
    pub reads: f64,
    /// The orders group's.
    pub orders: f64,
}

impl Rates {
    pub fn of(self, group: Group) -> f64 {
        match group {
            Group::Orders => self.orders,
            _ => self.reads,
        }
    }
}

/// Sends every group's requests at its rate, on `schedule`, and waits for
/// the last answer (or its timeout).
pub async fn drive(
    base_url: &str,
    data: &DataSet,
    rates: Rates,
    schedule: Schedule,
    timeout: Duration,
    seed: u64,
) -> anyhow::Result<Tallies> {
    let mut groups = JoinSet::new();
    for (index, group) in Group::ALL.into_iter().enumerate() {
        let rate = rates.of(group);
        anyhow::ensure!(rate > 0.0 && rate.is_finite(), "the rate must be above 0");
        let run = loadgen::Run {
            base_url: base_url.to_owned(),
            name: group.name().into(),
            mode: Mode::Open {
                rate,
                connections: loadgen::UNBOUNDED,
            },
            duration: schedule.end() - schedule.start,
            seed: seed.wrapping_add(index as u64),
            timeout,
            request_id_prefix: format!("iso-{}", group.name()),
            // Tens of requests a second: the timer is precise enough, and a
            // core spinning for four groups would be load of its own.
            pacing: Pacing::Timer,
            start: Some(schedule.start.into_std()),
        };
        let http = crate::load::http_client()?;
        let requests = GroupRequests {
            group,
            data: data.clone(),
        };
        groups.spawn(async move {
            let (samples, mut arrived) = mpsc::unbounded_channel();
            let sending = loadgen::drive(&http, &run, requests, |_| {}, Some(samples));
            let tallying = async {
                let mut tallies: BTreeMap<Phase, Tally> = Phase::ALL
                    .into_iter()
                    .map(|phase| (phase, Tally::new()))
                    .collect();
                while let Some(sample) = arrived.recv().await {
                    let due = Instant::from_std(sample.due);
                    let phase = schedule.phase_at(due);
                    let into_phase = due - schedule.phase_begins(phase);
                    if let Some(tally) = tallies.get_mut(&phase) {
                        tally.add(&sample, into_phase, schedule.settled(due));
                    }
                }
                tallies
            };
            let (sent, tallies) = tokio::join!(sending, tallying);
            sent.map(|_| (group, tallies))
        });
    }
    let mut tallies = Tallies::new();
    while let Some(joined) = groups.join_next().await {
        let (group, tally) = joined??;
        tallies.insert(group, tally);
    }
    Ok(tallies)
}
