//! A grown deployment started on fresh SQLite databases: its start-up
//! (spawn to every process's `/health` passing) and its idle memory. The
//! monolith and the modular monolith are started as the lab starts them
//! (`deployment::Deployment`), their generated components mounted inside;
//! the microservices too, with each generated component's service spawned
//! beside them at the same moment.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::deployment::{wait_for_health, Deployment, Kind, Options, Storage};
use crate::process::Process;

use super::shop::component;

/// How long a deployment idles after start-up before its memory is read.
const IDLE: Duration = Duration::from_secs(1);

/// Starts per deployment: the figures are their medians.
const STARTS: usize = 3;

pub struct Started {
    pub startup_ms: f64,
    pub rss_idle_mib: f64,
    /// The microservices only: catalog01's service started alone.
    pub one_service_ms: Option<f64>,
}

/// Starts `deployment` of the shop grown to `components` [`STARTS`] times,
/// each on fresh databases under `scratch`, from the binaries in
/// `bin_dir`: the median start-up and idle memory.
pub async fn measure(
    deployment: &str,
    bin_dir: &Path,
    components: usize,
    scratch: &Path,
) -> anyhow::Result<Started> {
    let mut starts = Vec::new();
    for _ in 0..STARTS {
        starts.push(start_once(deployment, bin_dir, components, scratch).await?);
    }
    let mut alone = Vec::new();
    if deployment == "microservices" {
        for _ in 0..STARTS {
            let databases =
                tempfile::tempdir_in(scratch).context("cannot make a scratch directory")?;
            let started = Instant::now();
            let process = service(bin_dir, component(1), databases.path()).await?;
            alone.push(started.elapsed().as_secs_f64() * 1000.0);
            process.stop().await;
        }
    }
    Ok(Started {
        startup_ms: median(starts.iter().map(|started| started.startup_ms).collect()),
        rss_idle_mib: median(starts.iter().map(|started| started.rss_idle_mib).collect()),
        one_service_ms: (!alone.is_empty()).then(|| median(alone)),
    })
}

/// The middle of `figures` (not empty: [`STARTS`] of them).
fn median(mut figures: Vec<f64>) -> f64 {
    figures.sort_by(f64::total_cmp);
    figures[figures.len() / 2]
}

/// One start: measured, then stopped.
async fn start_once(
    deployment: &str,
    bin_dir: &Path,
    components: usize,
    scratch: &Path,
) -> anyhow::Result<Started> {
    std::fs::create_dir_all(scratch)?;
    let databases = tempfile::tempdir_in(scratch).context("cannot make a scratch directory")?;
    let kind = match deployment {
        "monolith" => Kind::Monolith,
        "modular" => Kind::MODULAR,
        _ => Kind::Micro,
    };
    let options = Options::new(
        kind,
        bin_dir.to_path_buf(),
        Storage::Sqlite(databases.path().to_path_buf()),
    );
    let extras = if kind == Kind::Micro { components } else { 0 };
    let started = Instant::now();
    let (shop, services) = tokio::join!(
        Deployment::start(&options),
        futures_util::future::join_all((1..=extras).map(|index| service(
            bin_dir,
            component(index),
            databases.path()
        )))
    );
    let startup = started.elapsed();
    let (mut up, mut failed) = (Vec::new(), None);
    for service in services {
        match service {
            Ok(process) => up.push(process),
            Err(error) => failed = failed.or(Some(error)),
        }
    }
    let result = match (shop, failed) {
        (Ok(shop), None) => {
            tokio::time::sleep(IDLE).await;
            let rss = shop.rss_bytes() + up.iter().filter_map(Process::rss_bytes).sum::<u64>();
            shop.stop().await;
            Ok(Started {
                startup_ms: startup.as_secs_f64() * 1000.0,
                rss_idle_mib: rss as f64 / f64::from(1 << 20),
                one_service_ms: None,
            })
        }
        (Ok(shop), Some(error)) => {
            shop.stop().await;
            Err(error)
        }
        (Err(error), _) => Err(error),
    };
    for process in up {
        process.stop().await;
    }
    result.with_context(|| format!("starting the grown {deployment}"))
}

/// A generated component's service, up and passing `/health`.
async fn service(bin_dir: &Path, name: String, databases: &Path) -> anyhow::Result<Process> {
    let args = [
        "--addr".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--database-url".to_owned(),
        format!(
            "sqlite://{}",
            databases.join(format!("{name}.db")).display()
        ),
    ];
    let process = Process::spawn(bin_dir, &format!("shoplab-{name}"), &args).await?;
    wait_for_health(&process.url, &name).await?;
    Ok(process)
}
