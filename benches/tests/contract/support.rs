//! How a check runs: on a fresh deployment with fresh storage, torn down
//! afterwards whatever happened.
//!
//! Each test starts its own deployment (ids start at 1, nothing is shared),
//! so tests can run in parallel and in any order. SQLite files live in a
//! temporary directory; on PostgreSQL every test gets databases of its own,
//! named `shoplab_t_<uuid>`, and drops them at the end even when the check
//! panicked.

use std::future::Future;
use std::panic::{resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use anyhow::Context;
use futures_util::FutureExt;
use shoplab::client::ShopClient;
use shoplab::containers::{compose_dir, Project, Stack};
use shoplab::deployment::{Deployment, Kind, Options, Storage};
use shoplab::postgres;

/// The environment variable naming the PostgreSQL server to test on, as
/// `postgres://USER@HOST:PORT/ANY_NAME`. The PostgreSQL variants are
/// ignored unless asked for (`--include-ignored`), and fail without it.
const POSTGRES_ENV: &str = "SHOPLAB_TEST_PG";

/// The PostgreSQL server to test on. The PostgreSQL variants are
/// `#[ignore]`d (run them with `SHOPLAB_TEST_PG=... cargo test --
/// --include-ignored`); one asked to run without a server fails: it must
/// never pass without having run.
pub fn postgres_server() -> anyhow::Result<String> {
    std::env::var(POSTGRES_ENV).map_err(|_| {
        anyhow::anyhow!("{POSTGRES_ENV} is not set: the PostgreSQL variants need postgres://USER@HOST:PORT/NAME")
    })
}

/// Where a deployment under test keeps its data.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a check may return: nothing (it asserts) or an `anyhow::Result`
/// (it also uses `?` on requests).
pub trait Outcome {
    fn into_result(self) -> anyhow::Result<()>;
}

impl Outcome for () {
    fn into_result(self) -> anyhow::Result<()> {
        Ok(())
    }
}

impl Outcome for anyhow::Result<()> {
    fn into_result(self) -> anyhow::Result<()> {
        self
    }
}

/// A check's outcome, with a panic (a failed assertion) caught rather than
/// unwinding, so that whatever the check did, the storage is cleaned up first.
type Caught = std::thread::Result<anyhow::Result<()>>;

/// Starts a `kind` deployment on fresh `backend` storage, runs `check`
/// against it, stops it and removes its data.
pub async fn run<Check, Running, Returned>(
    kind: Kind,
    backend: Backend,
    check: Check,
) -> anyhow::Result<()>
where
    Check: FnOnce(ShopClient) -> Running,
    Running: Future<Output = Returned>,
    Returned: Outcome,
{
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::TempDir::new().context("cannot create a temporary directory")?;
            let caught = run_on(kind, Storage::Sqlite(dir.path().to_path_buf()), check).await;
            // The deployment has stopped; now the files can go.
            drop(dir);
            rethrow(caught)
        }
        Backend::Postgres => {
            let server = postgres_server()?;
            let name = format!("shoplab_t_{}", uuid::Uuid::new_v4().simple());
            let storage = Storage::Postgres(postgres::with_database(&server, &name)?);
            let caught = run_on(kind, storage.clone(), check).await;
            let dropped = drop_databases(&storage, kind).await;
            rethrow(caught)?;
            dropped
        }
    }
}

/// Starts, checks, stops: the deployment is stopped even if the check panicked.
async fn run_on<Check, Running, Returned>(kind: Kind, storage: Storage, check: Check) -> Caught
where
    Check: FnOnce(ShopClient) -> Running,
    Running: Future<Output = Returned>,
    Returned: Outcome,
{
    let options = Options::new(kind, bin_dir(), storage);
    let deployment = match Deployment::start(&options).await {
        Ok(deployment) => deployment,
        Err(error) => {
            return Ok(Err(
                error.context(format!("cannot start the {} deployment", kind.label()))
            ))
        }
    };
    let shop = ShopClient::new(&deployment.base_url);
    let caught = AssertUnwindSafe(check(shop)).catch_unwind().await;
    deployment.stop().await;
    caught.map(|outcome| {
        outcome
            .into_result()
            .with_context(|| format!("against the {} deployment", kind.label()))
    })
}

/// Starts `stack` from the lab's compose files as a project of its own
/// (images from `scripts/images.sh`), runs `check` against its published
/// base URL, and removes the project's containers, networks and volumes.
pub async fn run_in_containers<Check, Running, Returned>(
    stack: Stack,
    backend: Backend,
    check: Check,
) -> anyhow::Result<()>
where
    Check: FnOnce(ShopClient) -> Running,
    Running: Future<Output = Returned>,
    Returned: Outcome,
{
    let overrides: &[&str] = match backend {
        Backend::Sqlite => &[],
        // Its PostgreSQL server a container too (scripts/postgres-image.sh).
        Backend::Postgres => &["postgres.yml"],
    };
    let project = Project::up_with(stack, &compose_dir(), overrides)
        .await
        .with_context(|| format!("cannot start the {} compose project", stack.name()))?;
    let shop = ShopClient::new(&project.base_url);
    let caught = AssertUnwindSafe(check(shop)).catch_unwind().await;
    let name = project.name.clone();
    project.down().await;
    rethrow(caught.map(|outcome| {
        outcome
            .into_result()
            .with_context(|| format!("against the compose project {name}"))
    }))
}

/// Passes a check's error on, or resumes its panic where the test can see it.
fn rethrow(caught: Caught) -> anyhow::Result<()> {
    caught.unwrap_or_else(|panic| resume_unwind(panic))
}

/// Drops every database a deployment of `kind` on `storage` used.
async fn drop_databases(storage: &Storage, kind: Kind) -> anyhow::Result<()> {
    for url in storage.urls(kind)? {
        tokio::task::spawn_blocking(move || postgres::drop_database(&url))
            .await
            .context("the task dropping a database panicked")??;
    }
    Ok(())
}

/// Where cargo put the deployments' binaries: next to `shoplab`'s own.
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_shoplab"))
        .parent()
        .expect("a binary path always has a parent directory")
        .to_path_buf()
}

/// The mixed grouping the suite runs on beside the modular monolith: users
/// with orders, catalog with payments. Orders then calls users in process
/// and the other two over HTTP, and payments calls users back in the
/// orders process, so the two groups call each other both ways.
pub fn mixed_grouping() -> Kind {
    Kind::Group(
        "users+orders/catalog+payments"
            .parse()
            .expect("a partition of the four components"),
        shoplab::deployment::Calls::InProcess,
    )
}

/// Makes eleven tests of each check, `module::check::{DEPLOYMENT}_{BACKEND}`:
/// monolith, microservices, modular and grouped, each on `sqlite` and
/// `postgres` (processes on loopback), and monolith and microservices in
/// `compose` (containers on the images of `scripts/images.sh`, SQLite), the
/// microservices also on PostgreSQL in a container (`compose_postgres`).
macro_rules! contract {
    ($($check:ident),+ $(,)?) => {
        $(
            mod $check {
                use $crate::support::{run, Backend};
                use shoplab::deployment::Kind;

                #[tokio::test]
                async fn monolith_sqlite() -> anyhow::Result<()> {
                    run(Kind::Monolith, Backend::Sqlite, super::$check).await
                }

                #[tokio::test]
                async fn microservices_sqlite() -> anyhow::Result<()> {
                    run(Kind::Micro, Backend::Sqlite, super::$check).await
                }

                #[tokio::test]
                async fn modular_sqlite() -> anyhow::Result<()> {
                    run(Kind::MODULAR, Backend::Sqlite, super::$check).await
                }

                #[tokio::test]
                async fn grouped_sqlite() -> anyhow::Result<()> {
                    run($crate::support::mixed_grouping(), Backend::Sqlite, super::$check).await
                }

                #[tokio::test]
                #[ignore = "needs PostgreSQL: SHOPLAB_TEST_PG=postgres://USER@HOST:PORT/NAME, --include-ignored"]
                async fn monolith_postgres() -> anyhow::Result<()> {
                    run(Kind::Monolith, Backend::Postgres, super::$check).await
                }

                #[tokio::test]
                #[ignore = "needs PostgreSQL: SHOPLAB_TEST_PG=postgres://USER@HOST:PORT/NAME, --include-ignored"]
                async fn microservices_postgres() -> anyhow::Result<()> {
                    run(Kind::Micro, Backend::Postgres, super::$check).await
                }

                #[tokio::test]
                #[ignore = "needs PostgreSQL: SHOPLAB_TEST_PG=postgres://USER@HOST:PORT/NAME, --include-ignored"]
                async fn modular_postgres() -> anyhow::Result<()> {
                    run(Kind::MODULAR, Backend::Postgres, super::$check).await
                }

                #[tokio::test]
                #[ignore = "needs PostgreSQL: SHOPLAB_TEST_PG=postgres://USER@HOST:PORT/NAME, --include-ignored"]
                async fn grouped_postgres() -> anyhow::Result<()> {
                    run($crate::support::mixed_grouping(), Backend::Postgres, super::$check).await
                }

                #[tokio::test]
                #[ignore = "needs Docker and the images: scripts/images.sh, then --include-ignored"]
                async fn monolith_compose() -> anyhow::Result<()> {
                    $crate::support::run_in_containers(
                        shoplab::containers::Stack::Monolith,
                        Backend::Sqlite,
                        super::$check,
                    )
                    .await
                }

                #[tokio::test]
                #[ignore = "needs Docker and the images: scripts/images.sh, then --include-ignored"]
                async fn microservices_compose() -> anyhow::Result<()> {
                    $crate::support::run_in_containers(
                        shoplab::containers::Stack::Microservices,
                        Backend::Sqlite,
                        super::$check,
                    )
                    .await
                }

                #[tokio::test]
                #[ignore = "needs Docker and the images: scripts/images.sh and scripts/postgres-image.sh, then --include-ignored"]
                async fn microservices_compose_postgres() -> anyhow::Result<()> {
                    $crate::support::run_in_containers(
                        shoplab::containers::Stack::Microservices,
                        Backend::Postgres,
                        super::$check,
                    )
                    .await
                }
            }
        )+
    };
}

pub(crate) use contract;
