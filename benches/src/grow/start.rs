//! A grown deployment started on fresh SQLite databases, as the lab starts
//! every deployment (`deployment::Deployment`; for the microservices each
//! generated component's service too, behind the gateway): its start-up
//! (spawn to every process's `/health` passing) and idle memory, and the
//! redeploy of the changed component under a light load: the monolith (or
//! the modular monolith) restarted whole, against catalog01's service
//! alone, with the lab's rollout machinery (`Deployment::replace`).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::deployment::{wait_for_health, Deployment, Kind, Options, Storage};
use crate::process::Process;
use crate::stats::median;

use super::shop::component;

/// How long a deployment idles after start-up before its memory is read.
const IDLE: Duration = Duration::from_secs(1);

/// Starts per deployment: the figures are their medians.
const STARTS: usize = 3;

/// The light load during a redeploy: reads of one of catalog01's products,
/// one every this often, each its own request (an open loop).
const LOAD_EVERY: Duration = Duration::from_millis(20);

/// The load before the redeploy starts and after it ends.
const AROUND: Duration = Duration::from_millis(500);

pub struct Started {
    pub startup_ms: f64,
    pub rss_idle_mib: f64,
    /// The microservices only: catalog01's service started alone.
    pub one_service_ms: Option<f64>,
    pub redeploy_s: f64,
    pub redeploy_failed_requests: u64,
    pub redeploy_requests: u64,
}

/// Starts `deployment` of the shop grown to `components` [`STARTS`] times,
/// each on fresh databases under `scratch`, from the binaries in
/// `bin_dir`, each then redeployed: the medians of start-up, idle memory,
/// redeploy time and reads failed. (A redeploy takes either a few tens of
/// milliseconds or about a second more: a stopping actix worker that still
/// holds a connection looks again only once a second, actix-server's
/// `SHUTDOWN_POLL_INTERVAL`.)
pub async fn measure(
    deployment: &str,
    kind: Kind,
    bin_dir: &Path,
    components: usize,
    scratch: &Path,
) -> anyhow::Result<Started> {
    std::fs::create_dir_all(scratch)?;
    let (mut startups, mut memory) = (Vec::new(), Vec::new());
    let (mut redeploys, mut failures, mut sent) = (Vec::new(), Vec::new(), 0);
    for _ in 0..STARTS {
        let databases = tempfile::tempdir_in(scratch).context("cannot make a scratch directory")?;
        let mut options = Options::new(
            kind,
            bin_dir.to_path_buf(),
            Storage::Sqlite(databases.path().to_path_buf()),
        );
        options.grown = if kind == Kind::Micro { components } else { 0 };
        let shop = Deployment::start(&options)
            .await
            .with_context(|| format!("starting the grown {deployment}"))?;
        startups.push(shop.startup.as_secs_f64() * 1000.0);
        tokio::time::sleep(IDLE).await;
        memory.push(shop.rss_bytes() as f64 / f64::from(1 << 20));
        let redeployed = redeploy(&shop, kind).await;
        shop.stop().await;
        let (seconds, failed, requests) = redeployed?;
        redeploys.push(seconds);
        failures.push(failed as f64);
        sent += requests;
    }
    let mut alone = Vec::new();
    if kind == Kind::Micro {
        for _ in 0..STARTS {
            alone.push(one_service(bin_dir, scratch).await?);
        }
    }
    Ok(Started {
        startup_ms: median(&startups),
        rss_idle_mib: median(&memory),
        one_service_ms: (!alone.is_empty()).then(|| median(&alone)),
        redeploy_s: median(&redeploys),
        redeploy_failed_requests: median(&failures) as u64,
        redeploy_requests: sent / STARTS as u64,
    })
}

/// catalog01's service started alone on a fresh database: spawn to its
/// `/health` passing, in milliseconds.
async fn one_service(bin_dir: &Path, scratch: &Path) -> anyhow::Result<f64> {
    let databases = tempfile::tempdir_in(scratch).context("cannot make a scratch directory")?;
    let name = component(1);
    let args = [
        "--addr".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--database-url".to_owned(),
        format!(
            "sqlite://{}",
            databases.path().join(format!("{name}.db")).display()
        ),
    ];
    let started = Instant::now();
    let process = Process::spawn(bin_dir, &format!("shoplab-{name}"), &args).await?;
    wait_for_health(&process.url, &name).await?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    process.stop().await;
    Ok(elapsed)
}

/// Restarts what a change to catalog01 redeploys (the monolith, the
/// modular monolith, or catalog01's service) while reads of a catalog01
/// product go on: seconds from the restart's start until every `/health`
/// passes again, and the reads that failed of those sent.
async fn redeploy(shop: &Deployment, kind: Kind) -> anyhow::Result<(f64, u64, u64)> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let base = shop.base_url.clone();
    let created: serde_json::Value = client
        .post(format!("{base}/{}/products", component(1)))
        .json(&serde_json::json!({"name": "Mug", "price_cents": 1250, "stock": 10}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["id"]
        .as_i64()
        .context("the created product has no id")?;
    let url = format!("{base}/{}/products/{id}", component(1));
    let (sent, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let running = Arc::new(AtomicBool::new(true));
    let load = {
        let (sent, failed, running) = (sent.clone(), failed.clone(), running.clone());
        tokio::spawn(async move {
            let mut reads = tokio::task::JoinSet::new();
            let mut every = tokio::time::interval(LOAD_EVERY);
            while running.load(Ordering::Relaxed) {
                every.tick().await;
                let (client, url, failed) = (client.clone(), url.clone(), failed.clone());
                sent.fetch_add(1, Ordering::Relaxed);
                reads.spawn(async move {
                    let ok = client
                        .get(&url)
                        .send()
                        .await
                        .is_ok_and(|reply| reply.status().is_success());
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            while reads.join_next().await.is_some() {}
        })
    };
    tokio::time::sleep(AROUND).await;
    let name = match kind {
        Kind::Micro => format!("shoplab-{}", component(1)),
        _ => shop
            .members()
            .first()
            .map(|member| member.name.clone())
            .context("the deployment has no process")?,
    };
    let started = Instant::now();
    let replaced = shop.replace(&name).await;
    let healthy = wait_for_health(&base, "the grown shop").await;
    let seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(AROUND).await;
    running.store(false, Ordering::Relaxed);
    load.await?;
    replaced?;
    healthy?;
    Ok((
        seconds,
        failed.load(Ordering::Relaxed),
        sent.load(Ordering::Relaxed),
    ))
}
