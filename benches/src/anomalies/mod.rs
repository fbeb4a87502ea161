//! `shoplab anomalies`: what a saga gives up, measured from outside.
//!
//! A saga commits each step on its own, so others can see its intermediate
//! states; one database transaction hides them (the I of ACID). Here an
//! order reserves stock and then charges the wallet. In the monolith both
//! happen in one transaction (`monolith/src/checkout.rs`); in the
//! microservices the catalog commits the reservation before payments is
//! asked, and releases it when the charge fails
//! (`microservices/orders/src/checkout.rs`).
//!
//! The experiment, the same for both deployments, each started fresh:
//! probe products with `stock` units each, users with empty wallets; for a
//! window, order loops place orders that must all fail with
//! `insufficient_funds` while readers read the probe products. A read that
//! shows less than the seeded stock saw an order that never happened: a
//! dirty read ([`window`]). A run counts only if every order failed that way
//! and all the stock came back ([`figures`]).

mod args;
pub mod figures;
pub mod table;
pub mod window;

pub use args::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;

use crate::client::ShopClient;
use crate::deployment::{Deployment, Kind, Options as DeployOptions, Storage};
use crate::experiment::{self, until_interrupted, Experiment, Stamp};
use crate::progress::Step;
use crate::scratch::{Backend, Databases};
use figures::{AnomaliesResult, RunFigures};
use window::Probe;

/// The experiment's knobs, the same for both deployments.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Parameters {
    /// Seconds the order loops and readers run.
    pub window_s: f64,
    /// Order loops running at once (c), each as its own penniless user.
    pub order_loops: usize,
    /// Units each order asks for (q).
    pub quantity: i64,
    /// Readers running at once (R).
    pub readers: usize,
    /// Probe products.
    pub products: usize,
    /// Each probe product's seeded stock (S).
    pub stock: i64,
    /// Seed of every choice of product the loops make.
    pub seed: u64,
}

pub const DEFAULT_WINDOW_S: f64 = 5.0;
pub const DEFAULT_ORDER_LOOPS: usize = 4;
pub const DEFAULT_QUANTITY: i64 = 2;
pub const DEFAULT_READERS: usize = 4;
pub const DEFAULT_PRODUCTS: usize = 2;
pub const DEFAULT_STOCK: i64 = 10;

impl Default for Parameters {
    fn default() -> Self {
        Parameters {
            window_s: DEFAULT_WINDOW_S,
            order_loops: DEFAULT_ORDER_LOOPS,
            quantity: DEFAULT_QUANTITY,
            readers: DEFAULT_READERS,
            products: DEFAULT_PRODUCTS,
            stock: DEFAULT_STOCK,
            seed: 1,
        }
    }
}

impl Parameters {
    /// Refuses knobs that would make the experiment measure something else.
    /// The one that matters: c·q ≤ S. With more units asked for at once than
    /// a product holds, an order could find the stock taken by the others'
    /// reservations and be refused for stock, not for funds.
    pub fn check(&self) -> anyhow::Result<()> {
        if !(self.window_s > 0.0 && self.window_s.is_finite() && self.window_s <= 3_600.0) {
            bail!(
                "--window must be a number of seconds above 0 and at most 3600 (got {})",
                self.window_s
            );
        }
        if self.order_loops == 0 || self.readers == 0 || self.products == 0 {
            bail!("--order-loops, --readers and --products must each be at least 1");
        }
        if !(1..=1_000).contains(&self.quantity) {
            bail!(
                "--quantity must be 1 to 1000, API.md's limit (got {})",
                self.quantity
            );
        }
        if !(1..=1_000_000_000).contains(&self.stock) {
            bail!("--stock must be 1 to 1000000000 (got {})", self.stock);
        }
        let asked = (self.order_loops as i64).saturating_mul(self.quantity);
        if asked > self.stock {
            bail!(
                "--order-loops × --quantity must not exceed --stock ({} × {} = {asked} > {}): \
                 an order could then be refused for stock instead of funds",
                self.order_loops,
                self.quantity,
                self.stock
            );
        }
        Ok(())
    }

    pub fn window(&self) -> Duration {
        Duration::from_secs_f64(self.window_s)
    }
}

/// What `shoplab anomalies` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub bin_dir: PathBuf,
    pub backend: Backend,
    /// The results folder (default `results/anomalies-<timestamp>/`).
    pub out: Option<PathBuf>,
    pub parameters: Parameters,
    /// The deployments, in the order they run and print.
    pub deployments: Vec<Kind>,
}

/// Runs the experiment on both deployments, prints it and writes
/// `anomalies.json`. Fails (after printing and writing) when a run was not
/// valid.
impl Experiment for Options {
    type Result = AnomaliesResult;
    const PREFIX: &'static str = "anomalies-";
    const FILE: &'static str = "anomalies.json";

    fn out(&self) -> Option<PathBuf> {
        self.out.clone()
    }

    async fn measure(
        &self,
        _out: &Path,
        stamp: Stamp,
        _earlier: &[AnomaliesResult],
    ) -> anyhow::Result<AnomaliesResult> {
        let parameters = self.parameters;
        parameters.check()?;
        let build_profile = experiment::build_profile(&self.bin_dir);
        let storage = self.backend.name();
        eprintln!(
            "shoplab anomalies: {storage}, {build_profile} build; {} s window, {} order loops \
             of {} units, {} readers, {} products of {} units, seed {}",
            parameters.window_s,
            parameters.order_loops,
            parameters.quantity,
            parameters.readers,
            parameters.products,
            parameters.stock,
            parameters.seed
        );
        let mut databases = Databases::new(&self.backend, "anom");
        let measured = until_interrupted(measure_both(self, &mut databases)).await;
        databases.drop_all().await;
        let runs = measured?;
        Ok(AnomaliesResult {
            stamp,
            build_profile,
            storage,
            parameters,
            valid: runs.iter().all(|run| run.valid),
            runs,
        })
    }

    fn render(&self, results: &[AnomaliesResult]) {
        results.iter().for_each(table::print);
    }

    fn check(&self, results: &[AnomaliesResult]) -> anyhow::Result<()> {
        let invalid: Vec<String> = results
            .iter()
            .flat_map(|result| &result.runs)
            .filter(|run| !run.valid)
            .map(|run| format!("{}: {}", run.deployment, run.problems.join("; ")))
            .collect();
        if !invalid.is_empty() {
            bail!(
                "the experiment did not run properly (invalid run): {}",
                invalid.join(" | ")
            );
        }
        Ok(())
    }
}

async fn measure_both(
    options: &Options,
    databases: &mut Databases,
) -> anyhow::Result<Vec<RunFigures>> {
    let mut runs = Vec::new();
    for &kind in &options.deployments {
        let storage = databases.fresh(kind)?;
        let run = measure(kind, &options.bin_dir, storage, &options.parameters).await?;
        for problem in &run.problems {
            eprintln!("  {}: INVALID run: {problem}", run.deployment);
        }
        runs.push(run);
    }
    Ok(runs)
}

/// One deployment, started fresh on `storage`, seeded, observed for the
/// window, checked and stopped.
pub async fn measure(
    kind: Kind,
    bin_dir: &Path,
    storage: Storage,
    parameters: &Parameters,
) -> anyhow::Result<RunFigures> {
    parameters.check()?;
    let step = Step::begin(format!("{}: starting on fresh databases", kind.name()));
    let deployment = Deployment::start(&DeployOptions::new(kind, bin_dir.to_path_buf(), storage))
        .await
        .with_context(|| format!("cannot start the {}", kind.label()))?;
    step.done(&format!(
        "up in {:.0} ms",
        deployment.startup.as_secs_f64() * 1e3
    ));
    let outcome = observe(&deployment, parameters).await;
    deployment.stop().await;
    outcome
}

async fn observe(deployment: &Deployment, parameters: &Parameters) -> anyhow::Result<RunFigures> {
    let kind = deployment.kind;
    let shop = ShopClient::new(&deployment.base_url);
    let probe = Probe::seed(&shop, parameters)
        .await
        .with_context(|| format!("seeding the {}", kind.label()))?;
    let step = Step::begin(format!(
        "{}: {} s of {} order loops and {} readers",
        kind.name(),
        parameters.window_s,
        parameters.order_loops,
        parameters.readers
    ));
    let observed = window::observe(&shop, &probe, parameters).await?;
    step.done(&format!(
        "{} orders, {} reads, {} dirty",
        observed.orders.placed, observed.reads.total, observed.reads.dirty
    ));
    let final_stock = window::final_stock(&shop, &probe).await;
    Ok(RunFigures::judge(
        kind.name(),
        deployment.startup.as_secs_f64() * 1e3,
        observed,
        final_stock,
        parameters,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_units_asked_at_once_than_a_product_holds_is_refused() {
        let parameters = Parameters {
            order_loops: 6,
            quantity: 2,
            stock: 10,
            ..Parameters::default()
        };
        let error = parameters.check().expect_err("6 × 2 > 10").to_string();
        assert!(error.contains("6 × 2 = 12 > 10"), "{error}");
        assert!(!error.contains('\n'), "one line: {error}");
        let exact = Parameters {
            order_loops: 5,
            ..parameters
        };
        assert!(exact.check().is_ok(), "5 × 2 = 10 fits");
    }

    #[test]
    fn the_defaults_are_a_valid_experiment() {
        assert!(Parameters::default().check().is_ok());
    }
}
