//! Scratch databases: fresh storage for every deployment an experiment
//! starts (SQLite files in temporary directories, or databases created on a
//! PostgreSQL server under unique names), and only those removed afterwards.

use anyhow::Context;

use crate::deployment::{Kind, Storage};
use crate::postgres;
use crate::progress::Step;

/// Where the deployments keep their data during an experiment.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Fresh SQLite files in temporary directories (the default).
    Sqlite,
    /// Fresh databases on this server (`postgres://USER@HOST:PORT/ANY`),
    /// created under unique names and dropped afterwards.
    Postgres(String),
}

impl Backend {
    /// How results name it: `sqlite` or `postgres`.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// How the progress lines name it: `SQLite` or `PostgreSQL`.
    pub fn label(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }
}

/// Fresh storage for each start, and what must be removed afterwards.
pub struct Databases {
    backend: Backend,
    /// SQLite: the temporary directories (removed when dropped).
    directories: Vec<tempfile::TempDir>,
    /// PostgreSQL: every database this run created, and only those.
    created: Vec<String>,
    /// Names are `shoplab_<command>_<run>_<n>`, so a leftover says whose it is.
    command: &'static str,
    run: String,
}

impl Databases {
    pub fn new(backend: &Backend, command: &'static str) -> Self {
        Databases {
            backend: backend.clone(),
            directories: Vec::new(),
            created: Vec::new(),
            command,
            run: uuid::Uuid::new_v4().simple().to_string()[..10].to_owned(),
        }
    }

    pub fn fresh(&mut self, kind: Kind) -> anyhow::Result<Storage> {
        match &self.backend {
            Backend::Sqlite => {
                let directory = tempfile::tempdir().context("cannot make a scratch directory")?;
                let storage = Storage::Sqlite(directory.path().to_path_buf());
                self.directories.push(directory);
                Ok(storage)
            }
            Backend::Postgres(server) => {
                let name = format!(
                    "shoplab_{}_{}_{}",
                    self.command,
                    self.run,
                    self.created.len()
                );
                let storage = Storage::Postgres(postgres::with_database(server, &name)?);
                // Deployment::start creates them; they are ours to drop.
                self.created.extend(storage.urls(kind)?);
                Ok(storage)
            }
        }
    }

    pub async fn fresh_floor(&mut self) -> anyhow::Result<String> {
        match &self.backend {
            Backend::Sqlite => {
                let directory = tempfile::tempdir().context("cannot make a scratch directory")?;
                let url = format!("sqlite://{}", directory.path().join("floor.db").display());
                self.directories.push(directory);
                Ok(url)
            }
            Backend::Postgres(server) => {
                let url = postgres::with_database(
                    server,
                    &format!("shoplab_{}_{}_floor", self.command, self.run),
                )?;
                let create = url.clone();
                tokio::task::spawn_blocking(move || postgres::ensure_database(&create)).await??;
                self.created.push(url.clone());
                Ok(url)
            }
        }
    }

    /// Drops every PostgreSQL database this run created.
    pub async fn drop_all(&mut self) {
        let created = std::mem::take(&mut self.created);
        if created.is_empty() {
            return;
        }
        let step = Step::begin(format!(
            "dropping the {} databases this run created",
            created.len()
        ));
        let dropping = tokio::task::spawn_blocking(move || {
            created
                .iter()
                .filter_map(|url| postgres::drop_database(url).err().map(|_| url.clone()))
                .collect::<Vec<_>>()
        })
        .await;
        step.done(&match dropping {
            Ok(failed) if failed.is_empty() => "dropped".to_owned(),
            Ok(failed) => format!("could not drop {}", failed.join(", ")),
            Err(_) => format!(
                "the dropping task failed: check for shoplab_{}_* databases",
                self.command
            ),
        });
    }
}
