//! What `shoplab isolation` measured: `isolation.json`'s shape, the table
//! on stdout, and a one-line verdict per deployment, computed from the
//! figures alone.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::experiment::Stamp;
use crate::report::text::{Align, Columns};

use super::fault::{Component, Fault};
use super::traffic::{Group, Phase, Tallies, Tally};

/// Everything a run measured (`isolation.json`).
#[derive(Debug, Clone, Serialize)]
pub struct IsolationResult {
    #[serde(flatten)]
    pub stamp: Stamp,
    pub build_profile: &'static str,
    /// `sqlite` or `postgres`.
    pub storage: String,
    /// Seeds the data set, the request streams and the fault plan.
    pub seed: u64,
    pub component: Component,
    pub fault: Fault,
    /// Requests per second sent to each group (the orders group:
    /// `order_rate_rps`).
    pub rate_per_group_rps: f64,
    pub order_rate_rps: f64,
    /// How far into the fault the failures are tallied apart as its
    /// settled cost (`settled_failures`).
    pub settle_s: f64,
    pub before_s: f64,
    pub during_s: f64,
    pub after_s: f64,
    /// A request with no answer after this long counts as failed.
    pub timeout_ms: u64,
    pub deployments: Vec<DeploymentFigures>,
}

/// One deployment's run.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentFigures {
    pub deployment: String,
    /// How the fault was done to it.
    pub how: String,
    /// The monolith's fault plan, as given to it.
    pub fault_plan: Option<String>,
    /// When the fault began and ended, seconds after the load began (the
    /// monolith: the plan's window; the microservices: when the signal was
    /// sent).
    pub fault_began_s: f64,
    pub fault_ended_s: f64,
    /// Microservices after a crash: from the restart to the service's
    /// `/health` passing.
    pub restart_ms: Option<f64>,
    /// Each process's restarts over the run.
    pub restarts: BTreeMap<String, u32>,
    /// The process that places orders (the orders service, or the
    /// monolith): what the fault cost it.
    pub ordering_process: ProcessFigures,
    /// Once the load had ended: how long until no order was pending, and
    /// whether money and stock were conserved.
    pub settled: Settled,
    pub groups: Vec<GroupFigures>,
    pub verdict: String,
}

/// Threads and resident memory of one process: once the deployment was
/// seeded and idle, and the most seen over the run (sampled every 100 ms).
#[derive(Debug, Clone, Serialize)]
pub struct ProcessFigures {
    pub process: String,
    pub idle_threads: u64,
    pub max_threads: u64,
    pub idle_rss_mib: f64,
    pub max_rss_mib: f64,
}

/// The deployment once the load had ended, from `GET /audit`.
#[derive(Debug, Clone, Serialize)]
pub struct Settled {
    /// Seconds from the end of the load until no order was pending; `None`
    /// if some still were after [`SETTLE_LIMIT_S`].
    pub no_pending_after_s: Option<f64>,
    pub pending: i64,
    /// `wallet_cents + paid_cents` as after seeding (API.md's invariant 1).
    pub money_conserved: bool,
    /// `stock_units` + units in completed orders as after seeding
    /// (invariant 2; every order of the run is one unit).
    pub stock_conserved: bool,
}

/// How long the run waits, after the load, for no order to be pending.
pub const SETTLE_LIMIT_S: u64 = 60;

/// One group of endpoints, phase by phase.
#[derive(Debug, Clone, Serialize)]
pub struct GroupFigures {
    pub group: Group,
    pub route: &'static str,
    /// The components its requests need.
    pub needs: &'static [&'static str],
    pub before: PhaseFigures,
    pub during: PhaseFigures,
    pub after: PhaseFigures,
}

impl GroupFigures {
    fn phase(&self, phase: Phase) -> &PhaseFigures {
        match phase {
            Phase::Before => &self.before,
            Phase::During => &self.during,
            Phase::After => &self.after,
        }
    }
}

/// One group in one phase.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseFigures {
    /// Requests due in the phase.
    pub requests: u64,
    /// Answered with the success status (200, or 201 for an order).
    pub ok: u64,
    /// `ok / requests`; timeouts and refused connections count as failures.
    pub success_rate: f64,
    pub timeouts: u64,
    pub transport_errors: u64,
    /// Every other status, by code.
    pub error_statuses: BTreeMap<String, u64>,
    /// Latency of the answered requests (any status), from their due time;
    /// `None` if none was answered.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// During the fault only: the failures due once it had settled
    /// (`--settle` seconds in), by status (`timeout`, `transport` for no
    /// answer), and the median time the answered ones took.
    pub settled_failures: BTreeMap<String, u64>,
    pub settled_failure_p50_ms: Option<f64>,
    /// How long into the phase the last failed request was due: after the
    /// fault, how long the group took to recover (`None`: nothing failed).
    pub last_failure_ms: Option<f64>,
}

impl PhaseFigures {
    fn of(tally: &Tally) -> Self {
        let answered = !tally.answered.is_empty();
        let quantile =
            |q: f64| answered.then(|| tally.answered.value_at_quantile(q) as f64 / 1000.0);
        PhaseFigures {
            requests: tally.sent,
            ok: tally.ok,
            success_rate: tally.ok as f64 / tally.sent.max(1) as f64,
            timeouts: tally.timeouts,
            transport_errors: tally.transport_errors,
            error_statuses: tally
                .error_statuses
                .iter()
                .map(|(status, count)| (status.to_string(), *count))
                .collect(),
            p50_ms: quantile(0.5),
            p99_ms: quantile(0.99),
            max_ms: answered.then(|| tally.answered.max() as f64 / 1000.0),
            settled_failures: tally.settled_failures.clone(),
            settled_failure_p50_ms: (!tally.settled_failure_latency.is_empty())
                .then(|| tally.settled_failure_latency.value_at_quantile(0.5) as f64 / 1000.0),
            last_failure_ms: tally.last_failure.map(|due| due.as_secs_f64() * 1000.0),
        }
    }
}

/// The groups' figures, in the table's order.
pub fn groups(tallies: &Tallies) -> Vec<GroupFigures> {
    Group::ALL
        .into_iter()
        .filter_map(|group| {
            let phases = tallies.get(&group)?;
            let figures = |phase| phases.get(&phase).map(PhaseFigures::of);
            Some(GroupFigures {
                group,
                route: group.route(),
                needs: group.needs(),
                before: figures(Phase::Before)?,
                during: figures(Phase::During)?,
                after: figures(Phase::After)?,
            })
        })
        .collect()
}

/// How far a group's success rate may fall below its own before-phase
/// before the group counts as hit by the fault (or as not yet recovered).
const SUCCESS_SLACK: f64 = 0.05;
/// A group whose p99 grows past this (and past ten times its before-phase
/// p99) counts as hit even if its requests end up succeeding: a hang.
const SLOW_MS: f64 = 1000.0;

/// Whether the fault reached the group: it failed, or it crawled.
fn hit(group: &GroupFigures) -> bool {
    group.during.success_rate < group.before.success_rate - SUCCESS_SLACK || crawled(group)
}

/// Whether the group's answers came far slower during the fault.
fn crawled(group: &GroupFigures) -> bool {
    let usual = group.before.p99_ms.unwrap_or(0.0);
    group
        .during
        .p99_ms
        .is_some_and(|p99| p99 > SLOW_MS.max(10.0 * usual))
}

/// One line from the figures: each group's success during the fault, which
/// groups were hit that do not even need the failed component (the claim
/// under test: a fault spreads in the monolith, stays put in the services),
/// and whether every group came back after it.
pub fn verdict(label: &str, component: Component, fault: Fault, groups: &[GroupFigures]) -> String {
    let during: Vec<String> = groups
        .iter()
        .map(|group| {
            let figures = &group.during;
            let mut notes = Vec::new();
            if figures.timeouts > 0 {
                notes.push(format!("{} timed out", figures.timeouts));
            }
            if crawled(group) {
                notes.push(format!("p99 {:.0} ms", figures.p99_ms.unwrap_or_default()));
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join(", "))
            };
            format!(
                "{} {} ok{notes}",
                group.group.name(),
                percent(figures.success_rate)
            )
        })
        .collect();
    let beyond: Vec<&str> = groups
        .iter()
        .filter(|group| hit(group) && !group.needs.contains(&component.name()))
        .map(|group| group.group.name())
        .collect();
    let lagging: Vec<String> = groups
        .iter()
        .filter(|group| group.after.success_rate < group.before.success_rate - SUCCESS_SLACK)
        .map(|group| {
            format!(
                "{} {} ok",
                group.group.name(),
                percent(group.after.success_rate)
            )
        })
        .collect();
    format!(
        "{label}: {} {} → {}; groups hit that do not need {}: {}; after: {}",
        component.name(),
        fault.past(),
        during.join(", "),
        component.name(),
        if beyond.is_empty() {
            "none".to_owned()
        } else {
            beyond.join(", ")
        },
        if lagging.is_empty() {
            "every group back".to_owned()
        } else {
            format!("not back: {}", lagging.join(", "))
        }
    )
}

/// `100%`, `0%`, or one decimal in between (so 99.96% never reads as 100%).
fn percent(rate: f64) -> String {
    if rate >= 1.0 {
        "100%".into()
    } else if rate <= 0.0 {
        "0%".into()
    } else {
        // Rounded down, so 99.96% reads 99.9%, not 100.0%.
        format!("{:.1}%", (rate * 1000.0).floor() / 10.0)
    }
}

/// The table on stdout, then the verdicts.
pub fn print(result: &IsolationResult) {
    println!(
        "\nshoplab isolation: {} {} for {:.1} s, {:.0} req/s per group, client timeout {:.1} s ({}, {} build)\n",
        result.component.name(),
        result.fault.past(),
        result.during_s,
        result.rate_per_group_rps,
        result.timeout_ms as f64 / 1000.0,
        result.storage,
        result.build_profile
    );
    // A deployment and a group, then three figures for each phase.
    let lead = Columns {
        columns: &[(14, Align::Left), (10, Align::Left)],
        gap: "",
    };
    let phase_columns =
        Columns::spaced(&[(8, Align::Right), (10, Align::Right), (6, Align::Right)]);
    let mut header = format!("{:<24}", "");
    let mut columns = lead.line(&["deployment", "group"]);
    for phase in Phase::ALL {
        let title = format!("{} ({:.1} s)", phase.name(), phase_seconds(result, phase));
        header.push_str(&format!("{title:>26}   "));
        columns.push_str(&phase_columns.line(&["ok", "p99 ms", "reqs"]));
        columns.push_str("   ");
    }
    println!("{}", header.trim_end());
    println!("{}", columns.trim_end());
    for deployment in &result.deployments {
        for group in &deployment.groups {
            let mut line = lead.line(&[deployment.deployment.as_str(), group.group.name()]);
            for phase in Phase::ALL {
                let figures = group.phase(phase);
                line.push_str(
                    &phase_columns.line(&[
                        percent(figures.success_rate),
                        figures
                            .p99_ms
                            .map_or("-".to_owned(), |p99| format!("{p99:.2}")),
                        figures.requests.to_string(),
                    ]),
                );
                line.push_str("   ");
            }
            println!("{}", line.trim_end());
        }
    }
    println!();
    for deployment in &result.deployments {
        println!("{}", deployment.verdict);
    }
    println!();
    for deployment in &result.deployments {
        println!("{}", cost(deployment, result.settle_s));
    }
}

/// What the fault cost the process that places orders, how the orders that
/// failed once it had settled were answered, how soon orders came back, and
/// whether the deployment settled with money and stock conserved.
pub fn cost(deployment: &DeploymentFigures, settle_s: f64) -> String {
    let process = &deployment.ordering_process;
    let orders = deployment
        .groups
        .iter()
        .find(|group| group.group == Group::Orders);
    let failing = orders.map_or_else(String::new, |orders| {
        let during = &orders.during;
        let statuses: Vec<String> = during
            .settled_failures
            .iter()
            .map(|(status, count)| format!("{count}x {status}"))
            .collect();
        let answered = during
            .settled_failure_p50_ms
            .map_or(String::new(), |p50| format!(", p50 {p50:.1} ms"));
        let back = match orders.after.last_failure_ms {
            None => "every order after it succeeded".to_owned(),
            Some(ms) => format!("orders all succeed from {ms:.0} ms after it"),
        };
        let failed = if statuses.is_empty() {
            "none failed".to_owned()
        } else {
            statuses.join(", ")
        };
        format!("; orders due from {settle_s:.0} s into the fault: {failed}{answered}; {back}")
    });
    let settled = &deployment.settled;
    let pending = match settled.no_pending_after_s {
        Some(seconds) => format!("nothing pending {seconds:.1} s after the load"),
        None => format!(
            "{} orders still pending {SETTLE_LIMIT_S} s after the load",
            settled.pending
        ),
    };
    let conserved = |ok: bool| if ok { "conserved" } else { "NOT conserved" };
    format!(
        "{}: {} threads {} -> {} (+{}), RSS {:.1} -> {:.1} MiB (+{:.1}){failing}; {pending}; money {}, stock {}",
        deployment.deployment,
        process.process,
        process.idle_threads,
        process.max_threads,
        process.max_threads.saturating_sub(process.idle_threads),
        process.idle_rss_mib,
        process.max_rss_mib,
        process.max_rss_mib - process.idle_rss_mib,
        conserved(settled.money_conserved),
        conserved(settled.stock_conserved),
    )
}

fn phase_seconds(result: &IsolationResult, phase: Phase) -> f64 {
    match phase {
        Phase::Before => result.before_s,
        Phase::During => result.during_s,
        Phase::After => result.after_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(success_rate: f64, p99_ms: f64) -> PhaseFigures {
        PhaseFigures {
            requests: 100,
            ok: (success_rate * 100.0) as u64,
            success_rate,
            timeouts: 0,
            transport_errors: 0,
            error_statuses: BTreeMap::new(),
            p50_ms: Some(p99_ms / 2.0),
            p99_ms: Some(p99_ms),
            max_ms: Some(p99_ms),
            settled_failures: BTreeMap::new(),
            settled_failure_p50_ms: None,
            last_failure_ms: None,
        }
    }

    fn group(group: Group, during: PhaseFigures, after: PhaseFigures) -> GroupFigures {
        GroupFigures {
            group,
            route: group.route(),
            needs: group.needs(),
            before: phase(1.0, 2.0),
            during,
            after,
        }
    }

    #[test]
    fn a_fault_that_reaches_a_group_not_needing_the_component_is_named() {
        let groups = [
            group(Group::Users, phase(0.2, 2.0), phase(1.0, 2.0)),
            group(Group::Products, phase(0.0, 1.0), phase(1.0, 2.0)),
            group(Group::Wallets, phase(1.0, 4000.0), phase(1.0, 2.0)),
            group(Group::Orders, phase(0.0, 1.0), phase(0.5, 2.0)),
        ];
        let said = verdict("monolith", Component::Catalog, Fault::Hang, &groups);
        assert!(
            said.starts_with("monolith: catalog hung → users 20.0% ok, products 0% ok,"),
            "{said}"
        );
        assert!(said.contains("wallets 100% ok (p99 4000 ms)"), "{said}");
        assert!(
            said.contains("do not need catalog: users, wallets;"),
            "{said}"
        );
        assert!(said.ends_with("not back: orders 50.0% ok"), "{said}");
    }

    #[test]
    fn a_fault_that_stays_in_its_component_spares_the_others() {
        let groups = [
            group(Group::Users, phase(1.0, 2.0), phase(1.0, 2.0)),
            group(Group::Products, phase(0.0, 1.0), phase(0.99, 2.0)),
        ];
        let said = verdict("microservices", Component::Catalog, Fault::Crash, &groups);
        assert!(said.contains("users 100% ok, products 0% ok;"), "{said}");
        assert!(said.contains("do not need catalog: none;"), "{said}");
        assert!(said.ends_with("every group back"), "{said}");
    }
}
