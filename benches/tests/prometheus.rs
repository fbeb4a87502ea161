//! A real Prometheus scrapes both deployments: Debian's `prometheus`, on
//! loopback, with the scrape configuration `shoplab up --prometheus-config`
//! writes (built here by the same library code, one job per deployment),
//! while both run a short load. Its HTTP API then gives a request rate for
//! every process of both, and component calls under one metric name for
//! both: what an operator's dashboard would show.
//!
//! Ignored where `prometheus` is not installed; CI installs it and runs
//! this with `--ignored`.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shoplab::client::ShopClient;
use shoplab::deployment::{Deployment, Kind, Options, Storage};
use shoplab::prometheus::{scrape_config, targets};
use tokio::process::{Child, Command};

mod mugs;

use mugs::{bin_dir, stock_the_shop};

/// How long Prometheus may take to start, and then to have scraped enough
/// for every rate.
const PATIENCE: Duration = Duration::from_secs(30);

async fn start(kind: Kind, scratch: &Path) -> Deployment {
    let mut options = Options::new(kind, bin_dir(), Storage::Sqlite(scratch.join(kind.label())));
    options.metrics = true;
    let deployment = Deployment::start(&options)
        .await
        .expect("the deployment starts with metrics");
    stock_the_shop(&ShopClient::new(&deployment.base_url)).await;
    deployment
}

/// A free loopback port (Prometheus binds it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("loopback has free ports")
        .port()
}

/// `prometheus` with `config`, its data under `scratch`, its API on
/// loopback; killed when dropped.
async fn start_prometheus(config: &Path, scratch: &Path) -> (Child, String) {
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            scratch.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("prometheus starts (apt-get install prometheus)");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(response) = reqwest::get(format!("{base}/-/ready")).await {
            if response.status() == 200 {
                return (child, base);
            }
        }
        assert!(Instant::now() < deadline, "prometheus was not ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An instant query's answer: each series's labels and value.
async fn query(prometheus: &str, promql: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    let answer: Value = reqwest::Client::new()
        .get(format!("{prometheus}/api/v1/query"))
        .query(&[("query", promql)])
        .send()
        .await
        .expect("prometheus answers")
        .json()
        .await
        .expect("a JSON answer");
    assert_eq!(answer["status"], "success", "{promql}: {answer}");
    let series = answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    series
        .iter()
        .map(|one| {
            let labels = serde_json::from_value(one["metric"].clone()).unwrap_or_default();
            let value = one["value"][1]
                .as_str()
                .and_then(|text| text.parse().ok())
                .unwrap_or(f64::NAN);
            (labels, value)
        })
        .collect()
}

/// Reads, wallet reads and orders against `shop`, about 50 a second, until
/// `stop` is set (and never past a minute): every process of either
/// deployment serves some of them.
async fn short_load(shop: ShopClient, stop: Arc<AtomicBool>) {
    let order = json!({"user_id": 1, "items": [{"product_id": 1, "quantity": 1}]});
    let until = Instant::now() + Duration::from_secs(60);
    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
        let _ = shop.get("/products/1").await;
        let _ = shop.get("/users/1/wallet").await;
        let _ = shop.post("/orders", &order).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
}

/// Polls `promql` until it has a series above zero for every
/// `(job, process)` in `expected`, and returns its last answer.
async fn until_every_process_has_a_rate(
    prometheus: &str,
    promql: &str,
    expected: &[(String, String)],
) -> Vec<(BTreeMap<String, String>, f64)> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let answer = query(prometheus, promql).await;
        let positive = |job: &str, process: &str| {
            answer.iter().any(|(labels, value)| {
                labels.get("job").map(String::as_str) == Some(job)
                    && labels.get("process").map(String::as_str) == Some(process)
                    && *value > 0.0
            })
        };
        if expected.iter().all(|(job, process)| positive(job, process)) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "{promql}: not every process has a rate above 0: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
#[ignore = "needs Debian's prometheus (apt-get install prometheus)"]
async fn a_real_prometheus_sees_a_request_rate_for_every_process_of_both_deployments() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let monolith = start(Kind::Monolith, scratch.path()).await;
    let micro = start(Kind::Micro, scratch.path()).await;
    let jobs = [
        (monolith.kind.label(), targets(&monolith)),
        (micro.kind.label(), targets(&micro)),
    ];
    let expected: Vec<(String, String)> = jobs
        .iter()
        .flat_map(|(job, targets)| {
            targets
                .iter()
                .map(|target| (job.to_string(), target.process.clone()))
        })
        .collect();
    assert_eq!(
        expected.len(),
        6,
        "one monolith, five microservices: {expected:?}"
    );
    let config = scratch.path().join("prometheus.yml");
    std::fs::write(&config, scrape_config(&jobs)).expect("the configuration is written");
    let (mut prometheus_process, prometheus) = start_prometheus(&config, scratch.path()).await;

    let stop = Arc::new(AtomicBool::new(false));
    let load = [&monolith, &micro].map(|deployment| {
        let shop = ShopClient::new(&deployment.base_url);
        tokio::spawn(short_load(shop, Arc::clone(&stop)))
    });

    let rates = "sum by (job, process) (rate(shoplab_http_requests_total[5s]))";
    let answer = until_every_process_has_a_rate(&prometheus, rates, &expected).await;
    println!("{rates}");
    for (labels, value) in &answer {
        println!("  {labels:?} {value:.2}");
    }
    let up = query(&prometheus, "up").await;
    assert_eq!(up.len(), 6, "{up:?}");
    assert!(
        up.iter().all(|(_, value)| *value == 1.0),
        "every target scraped: {up:?}"
    );

    // One metric name, both deployments: a function call against an HTTP call.
    let calls = "sum by (job) (rate(shoplab_component_calls_total[5s]))";
    let by_job = query(&prometheus, calls).await;
    for job in ["monolith", "microservices"] {
        assert!(
            by_job.iter().any(
                |(labels, value)| labels.get("job").map(String::as_str) == Some(job)
                    && *value > 0.0
            ),
            "{calls}: no component calls for {job}: {by_job:?}"
        );
    }
    let latency = "histogram_quantile(0.5, sum by (job, le) \
                   (rate(shoplab_component_call_duration_seconds_bucket[5s])))";
    println!("{calls}");
    for (labels, value) in &by_job {
        println!("  {labels:?} {value:.2}");
    }
    println!("{latency}");
    for (labels, value) in query(&prometheus, latency).await {
        println!("  {labels:?} {value:.6}");
    }

    stop.store(true, Ordering::Relaxed);
    for task in load {
        let _ = task.await;
    }
    let _ = prometheus_process.kill().await;
    monolith.stop().await;
    micro.stop().await;
}
