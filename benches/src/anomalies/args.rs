//! `shoplab anomalies`'s arguments, and the options they make.

use std::path::PathBuf;

use super::{Options, Parameters};
use crate::cli::{backend, ExperimentArgs};
use crate::deployment::Kind;

/// Count dirty reads: what a saga gives up (isolation, the I of ACID),
/// seen from outside.
///
/// An order reserves stock, then charges the wallet. The monolith does
/// both in one database transaction; the microservices commit the
/// reservation in the catalog service first and release it when the
/// charge fails. For each deployment, started fresh: seed probe products
/// of --stock units each and users with empty wallets; then, for
/// --window seconds, --order-loops loops place orders of --quantity
/// units on the probe products, every one bound to fail with 409
/// insufficient_funds, while --readers loops read GET /products/{id}.
/// A dirty read is a 200 whose stock is below --stock: stock held by an
/// order that never happened.
///
/// The modular monolith (one process, a database per component, the same
/// saga, no network) runs too by default: with it, the table says whether
/// the dirty reads come from the split databases or from the network.
///
/// Prints `<deployment>: N dirty reads` for each, a table,
/// and the countermeasures with their cost; writes anomalies.json. A run
/// is invalid if an order gets any other answer, a read is not a 200,
/// or a product does not end with --stock units; the command then
/// exits 1. Needs --order-loops × --quantity ≤ --stock.
#[derive(clap::Args)]
pub struct Args {
    /// Seconds the order loops and the readers run, per deployment.
    #[arg(long, default_value_t = super::DEFAULT_WINDOW_S)]
    pub window: f64,
    /// Order loops at once (c), each as its own user with an empty wallet.
    #[arg(long, default_value_t = super::DEFAULT_ORDER_LOOPS)]
    pub order_loops: usize,
    /// Units of one probe product each order asks for (q).
    #[arg(long, default_value_t = super::DEFAULT_QUANTITY)]
    pub quantity: i64,
    /// Readers at once (R), each reading GET /products/{id} in a loop.
    #[arg(long, default_value_t = super::DEFAULT_READERS)]
    pub readers: usize,
    /// Probe products the orders and the readers share.
    #[arg(long, default_value_t = super::DEFAULT_PRODUCTS)]
    pub products: usize,
    /// Units each probe product is seeded with (S); a read showing fewer is
    /// dirty.
    #[arg(long, default_value_t = super::DEFAULT_STOCK)]
    pub stock: i64,
    /// The deployments, comma-separated, in the order they run and print:
    /// monolith, micro, modular, modular-http, group:GROUPING,
    /// group-http:GROUPING.
    #[arg(long, value_delimiter = ',', default_value = "monolith,modular,micro")]
    pub deployments: Vec<Kind>,
    #[command(flatten)]
    pub run: ExperimentArgs,
}

impl Args {
    /// The options these arguments ask for, with the binaries in `bin_dir`.
    pub fn options(self, bin_dir: PathBuf) -> anyhow::Result<Options> {
        let parameters = Parameters {
            window_s: self.window,
            order_loops: self.order_loops,
            quantity: self.quantity,
            readers: self.readers,
            products: self.products,
            stock: self.stock,
            seed: self.run.seed,
        };
        parameters.check()?;
        Ok(Options {
            bin_dir,
            backend: backend(self.run.database_url)?,
            out: self.run.out,
            parameters,
            deployments: self.deployments,
        })
    }
}
