//! What `shoplab partitions` measured, as written to `partitions.json`, and
//! what is worked out from it: the ranking, the cost of the split taken
//! apart, and the calls each grouping sends across processes.

use std::collections::BTreeMap;

use serde::Serialize;
use shoplab_common::components::Component;
use shoplab_common::grouping::Grouping;

use crate::experiment::Stamp;
use crate::pin::Pinning;

/// One run of `shoplab partitions`.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionsResult {
    #[serde(flatten)]
    pub stamp: Stamp,
    pub build_profile: &'static str,
    pub pinning: Option<Pinning>,
    pub storage: String,
    pub quick: bool,
    pub seed: u64,
    pub duration_s: f64,
    pub connections: usize,
    /// Each workload's open-loop rate, the same for every deployment: a
    /// quarter of the microservices' maximum.
    pub rates: BTreeMap<String, f64>,
    /// Every deployment measured: the references (monolith, modular over
    /// HTTP, microservices) and the fifteen groupings, in the order run.
    pub deployments: Vec<Measured>,
    /// For each pair of components, the calls per request between them,
    /// by workload, counted from a traced pass on the microservices.
    pub pairs: Vec<PairCalls>,
    /// The fifteen groupings, cheapest first.
    pub ranking: Vec<Ranked>,
    /// By workload: the microservices' cost over the monolith, in three
    /// pieces.
    pub decomposition: BTreeMap<String, Decomposition>,
    pub verdicts: Vec<String>,
}

/// One deployment's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// As flags name it: `monolith`, `micro`, `modular-http`,
    /// `group:users+payments/catalog/orders`.
    pub deployment: String,
    /// The grouping, for the fifteen (`modular` is the first of them).
    pub grouping: Option<String>,
    pub processes: usize,
    /// By workload.
    pub workloads: BTreeMap<String, Figures>,
}

/// One workload on one deployment.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Figures {
    /// CPU of every process of the deployment over the closed loop, per
    /// request.
    pub cpu_us: f64,
    /// Median latency in the open loop at the workload's rate.
    pub p50_ms: f64,
    /// The closed loop's throughput.
    pub max_rps: f64,
    /// Requests that failed in either loop.
    pub errors: u64,
    /// User-space instructions per request, every process, from a counting
    /// pass under callgrind (`None`: `--no-count`, or valgrind missing).
    pub instructions: Option<f64>,
}

/// The calls per request between two components.
#[derive(Debug, Clone, Serialize)]
pub struct PairCalls {
    pub pair: String,
    pub per_request: BTreeMap<String, f64>,
}

/// One grouping's place in the ranking.
#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub rank: usize,
    pub grouping: String,
    pub processes: usize,
    /// By workload: the calls per request that cross between its processes.
    pub crossing_calls: BTreeMap<String, f64>,
    pub workloads: BTreeMap<String, Figures>,
}

/// The microservices' cost over the monolith on one workload, in three
/// pieces that add up to it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Decomposition {
    /// Modular − monolith: one process both, but a database per component
    /// and the order a saga.
    pub databases_and_saga: Piece,
    /// Modular over HTTP − modular: the same process, its calls over
    /// loopback HTTP.
    pub network: Piece,
    /// Microservices − modular over HTTP: the same calls, across five
    /// processes, the gateway among them (so each request's own hop
    /// through the gateway is in this piece).
    pub processes: Piece,
    /// Microservices − monolith.
    pub total: Piece,
}

/// One piece of the cost: a difference and a ratio (later ÷ earlier), of
/// CPU per request and of p50.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Piece {
    pub cpu_us: f64,
    pub cpu_ratio: f64,
    pub p50_ms: f64,
    pub p50_ratio: f64,
}

impl Piece {
    /// From `before` to `after`.
    pub fn between(before: Figures, after: Figures) -> Piece {
        let ratio = |after: f64, before: f64| {
            if before > 0.0 {
                after / before
            } else {
                f64::NAN
            }
        };
        Piece {
            cpu_us: after.cpu_us - before.cpu_us,
            cpu_ratio: ratio(after.cpu_us, before.cpu_us),
            p50_ms: after.p50_ms - before.p50_ms,
            p50_ratio: ratio(after.p50_ms, before.p50_ms),
        }
    }
}

impl Decomposition {
    /// From the four reference points of one workload.
    pub fn of(monolith: Figures, modular: Figures, modular_http: Figures, micro: Figures) -> Self {
        Decomposition {
            databases_and_saga: Piece::between(monolith, modular),
            network: Piece::between(modular, modular_http),
            processes: Piece::between(modular_http, micro),
            total: Piece::between(monolith, micro),
        }
    }

    /// Each piece's share of the total CPU difference, in percent, in the
    /// order databases and saga, network, processes.
    pub fn cpu_shares(&self) -> [f64; 3] {
        let total = self.total.cpu_us;
        [
            self.databases_and_saga.cpu_us,
            self.network.cpu_us,
            self.processes.cpu_us,
        ]
        .map(|piece| {
            if total != 0.0 {
                piece / total * 100.0
            } else {
                f64::NAN
            }
        })
    }
}

/// A pair of components as the lab's notation joins them: `users+orders`.
pub fn pair_name(a: Component, b: Component) -> String {
    let (a, b) = if (a as usize) <= (b as usize) {
        (a, b)
    } else {
        (b, a)
    };
    format!("{a}+{b}")
}

/// The six pairs of the four components.
pub fn pairs() -> Vec<(Component, Component)> {
    let mut pairs = Vec::new();
    for (at, &a) in Component::ALL.iter().enumerate() {
        for &b in &Component::ALL[at + 1..] {
            pairs.push((a, b));
        }
    }
    pairs
}

/// The calls per request that cross between `grouping`'s processes on
/// `workload`: those of every pair it keeps apart.
pub fn crossing_calls(grouping: Grouping, pairs: &[PairCalls], workload: &str) -> f64 {
    self::pairs()
        .into_iter()
        .filter(|&(a, b)| !grouping.together(a, b))
        .filter_map(|(a, b)| {
            let name = pair_name(a, b);
            pairs
                .iter()
                .find(|pair| pair.pair == name)
                .and_then(|pair| pair.per_request.get(workload))
        })
        .fold(0.0, |sum, calls| sum + calls)
}

/// The fifteen groupings among `deployments`, cheapest first by CPU per
/// request on `by` (then by p50), numbered from 1.
pub fn rank(deployments: &[Measured], pairs: &[PairCalls], by: &str) -> Vec<Ranked> {
    let mut ranked: Vec<Ranked> = deployments
        .iter()
        .filter_map(|measured| {
            let grouping: Grouping = measured.grouping.as_ref()?.parse().ok()?;
            Some(Ranked {
                rank: 0,
                grouping: grouping.to_string(),
                processes: grouping.processes(),
                crossing_calls: measured
                    .workloads
                    .keys()
                    .map(|workload| (workload.clone(), crossing_calls(grouping, pairs, workload)))
                    .collect(),
                workloads: measured.workloads.clone(),
            })
        })
        .collect();
    let key = |ranked: &Ranked| {
        ranked
            .workloads
            .get(by)
            .map_or((f64::INFINITY, f64::INFINITY), |figures| {
                (figures.cpu_us, figures.p50_ms)
            })
    };
    ranked.sort_by(|a, b| {
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for (at, ranked) in ranked.iter_mut().enumerate() {
        ranked.rank = at + 1;
    }
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(cpu_us: f64, p50_ms: f64) -> Figures {
        Figures {
            cpu_us,
            p50_ms,
            max_rps: 1000.0,
            errors: 0,
            instructions: None,
        }
    }

    #[test]
    fn the_three_pieces_add_up_to_the_whole_cost_of_the_split() {
        let split = Decomposition::of(
            figures(250.0, 0.8),
            figures(380.0, 1.0),
            figures(700.0, 1.4),
            figures(1100.0, 1.8),
        );
        assert_eq!(split.databases_and_saga.cpu_us, 130.0);
        assert_eq!(split.network.cpu_us, 320.0);
        assert_eq!(split.processes.cpu_us, 400.0);
        assert_eq!(split.total.cpu_us, 850.0);
        assert!((split.total.p50_ratio - 2.25).abs() < 1e-9);
        let shares = split.cpu_shares();
        assert!((shares.iter().sum::<f64>() - 100.0).abs() < 1e-9);
        assert!((shares[1] - 320.0 / 8.5).abs() < 1e-9);
    }

    #[test]
    fn a_grouping_sends_across_only_the_calls_of_the_pairs_it_keeps_apart() {
        let calls = |pair: &str, order: f64| PairCalls {
            pair: pair.into(),
            per_request: BTreeMap::from([("order".to_owned(), order)]),
        };
        let pairs = [
            calls("users+orders", 1.0),
            calls("catalog+orders", 2.0),
            calls("payments+orders", 1.0),
        ];
        let together: Grouping = "users+catalog+payments+orders".parse().expect("a grouping");
        let apart: Grouping = "users/catalog/payments/orders".parse().expect("a grouping");
        let catalog_with_orders: Grouping =
            "users/catalog+orders/payments".parse().expect("a grouping");
        assert_eq!(crossing_calls(together, &pairs, "order"), 0.0);
        assert_eq!(crossing_calls(apart, &pairs, "order"), 4.0);
        assert_eq!(crossing_calls(catalog_with_orders, &pairs, "order"), 2.0);
        assert_eq!(pairs_named(), 6);
    }

    fn pairs_named() -> usize {
        let names: std::collections::BTreeSet<String> =
            pairs().into_iter().map(|(a, b)| pair_name(b, a)).collect();
        names.len()
    }

    #[test]
    fn the_ranking_puts_the_cheapest_first_and_numbers_from_one() {
        let measured = |grouping: &str, cpu: f64| Measured {
            deployment: format!("group:{grouping}"),
            grouping: Some(grouping.into()),
            processes: 0,
            workloads: BTreeMap::from([("mix".to_owned(), figures(cpu, 1.0))]),
        };
        let deployments = [
            measured("users/catalog/payments/orders", 300.0),
            Measured {
                grouping: None,
                ..measured("users+catalog+payments+orders", 10.0)
            },
            measured("users+catalog+payments+orders", 80.0),
            measured("users+payments/catalog/orders", 200.0),
        ];
        let ranked = rank(&deployments, &[], "mix");
        let order: Vec<(usize, &str)> = ranked
            .iter()
            .map(|ranked| (ranked.rank, ranked.grouping.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                (1, "users+catalog+payments+orders"),
                (2, "users+payments/catalog/orders"),
                (3, "users/catalog/payments/orders")
            ]
        );
        assert_eq!(ranked[2].processes, 4);
    }
}
