//! What the commands' arguments share: the flags every experiment takes
//! (its seed, its database, its results folder), and the checks that turn
//! what was typed into options, each failing with a one-line message.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use crate::deployment::Kind;
use crate::scratch::Backend;

/// Connections of a load run unless told otherwise.
pub const DEFAULT_CONNECTIONS: usize = 8;

/// What every experiment takes: its seed, where it keeps its data and
/// where it writes its results.
#[derive(clap::Args)]
pub struct ExperimentArgs {
    /// Seed of the data set, the request streams and anything else the run
    /// draws at random: the same seed, the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run on PostgreSQL: postgres://USER@HOST:PORT/ANY. The run creates its
    /// own databases under unique names and drops them afterwards (mind the
    /// connection budget: docs/OPERATIONS.md).
    #[arg(long)]
    pub database_url: Option<String>,
    /// The results folder (default results/[COMMAND-]<timestamp>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// SQLite (the default), or fresh databases on the PostgreSQL server named.
pub fn backend(database_url: Option<String>) -> anyhow::Result<Backend> {
    match database_url {
        None => Ok(Backend::Sqlite),
        Some(url) if is_postgres(&url) => Ok(Backend::Postgres(url)),
        Some(url) => {
            bail!("--database-url takes postgres://... (SQLite is the default; got {url})")
        }
    }
}

/// Whether `url` names a PostgreSQL server.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A positive, finite number of seconds.
pub fn seconds(flag: &str, value: f64) -> anyhow::Result<Duration> {
    if !(value > 0.0 && value.is_finite() && value <= 86_400.0) {
        bail!("{flag} must be a number of seconds above 0 (got {value})");
    }
    Ok(Duration::from_secs_f64(value))
}

/// Where a deployment of `kind` keeps its data unless told otherwise:
/// ./data/monolith, ./data/micro, ./data/modular, ...
pub fn default_data_dir(kind: Kind) -> PathBuf {
    PathBuf::from("data").join(kind.dir_name())
}
