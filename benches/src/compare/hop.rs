//! The cost of one hop, measured in the same run as everything else.
//!
//! B is the plainest HTTP round trip the stack can make: a small JSON `POST`
//! to the floor's bare `/echo`, one at a time over a kept-alive connection,
//! sent from the deployment's cores as the deployment's own hops are.
//! The gateway hop is what the gateway adds to a request: the median of
//! `GET /products/{id}` through it, minus the same request sent straight to
//! the catalog service (interleaved, so drift hits both alike). The bare
//! relay is the same request through the floor's `/relay`, an actix-web
//! server that sends it on with a reqwest client and nothing else: what any
//! second process on this stack adds, whoever writes it. The gateway's own
//! code is what its hop costs beyond the relay's. The internal
//! hop is what one component call between services costs beyond the work it
//! asks for: orders sent one at a time with the hop logs on, and for every
//! component call a service made, the caller's time for it less the time
//! the callee spent serving it (`internal`). A hop close to B costs what
//! HTTP costs; one far above B costs something else too (thread hand-offs,
//! copies, a second parse).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use super::figures::HopFigures;
use crate::deployment::Deployment;
use crate::load::DataSet;
use crate::stats::median_ms;

/// Requests sent before timing starts, to open connections and warm caches.
const WARM_UP: usize = 100;

/// Measures B with both of reqwest's clients, the gateway hop and the bare
/// relay's (the floor's `/relay`, to the same catalog service). B's
/// client runs on `cores` (the deployment's, when pinned): a hop inside the
/// deployment goes from one of its processes to another on the same cores,
/// so B must too, or it would carry a wake-up across cores that the hop it
/// is compared with does not.
pub async fn measure(
    floor_url: &str,
    gateway_url: &str,
    catalog_url: &str,
    product: i64,
    samples: usize,
    cores: Option<Vec<usize>>,
) -> anyhow::Result<HopFigures> {
    let echo = format!("{floor_url}/echo");
    let (b_blocking_ms, b_async_ms) = round_trips(echo, samples, cores).await?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()?;
    let catalog_port = reqwest::Url::parse(catalog_url)
        .ok()
        .and_then(|url| url.port_or_known_default())
        .with_context(|| format!("no port in the catalog's URL {catalog_url}"))?;
    let (via_path, relay_path, direct_path) = (
        format!("{gateway_url}/products/{product}"),
        format!("{floor_url}/relay/{catalog_port}/products/{product}"),
        format!("{catalog_url}/products/{product}"),
    );
    let (mut via, mut relay, mut direct) = (Vec::new(), Vec::new(), Vec::new());
    for index in 0..WARM_UP + samples {
        for (url, times) in [
            (&via_path, &mut via),
            (&relay_path, &mut relay),
            (&direct_path, &mut direct),
        ] {
            let started = Instant::now();
            let response = http.get(url).send().await?;
            anyhow::ensure!(
                response.status().is_success(),
                "GET {url} answered {}",
                response.status()
            );
            response.bytes().await?;
            if index >= WARM_UP {
                times.push(started.elapsed());
            }
        }
    }
    let via_gateway_ms = median_ms(&via);
    let via_relay_ms = median_ms(&relay);
    let direct_to_catalog_ms = median_ms(&direct);
    let gateway_hop_ms = via_gateway_ms - direct_to_catalog_ms;
    let relay_hop_ms = via_relay_ms - direct_to_catalog_ms;
    Ok(HopFigures {
        b_blocking_ms,
        b_async_ms,
        via_gateway_ms,
        via_relay_ms,
        direct_to_catalog_ms,
        gateway_hop_ms,
        gateway_hop_over_b: gateway_hop_ms / b_async_ms,
        relay_hop_ms,
        relay_hop_over_b: relay_hop_ms / b_async_ms,
        samples,
        internal_hop_ms: None,
        internal_hop_over_b: None,
        internal_hop_calls: 0,
        counted: None,
    })
}

/// The request ids of the orders the internal hop is measured with.
const INTERNAL_PREFIX: &str = "cmp-internal-hop-";

/// The internal hop, in milliseconds, and how many component calls it is
/// the median of: `orders` orders sent through `deployment` (the
/// microservices) one at a time, so nothing queues, with its hop logs (in
/// `logs`) on; then, for every `called` line a service (not the gateway)
/// wrote for them, its time less the time of the `served` line its callee
/// wrote under it. What is left is the hop itself: both sides' HTTP and
/// JSON, and the wire. The hop logs are paused again afterwards.
pub async fn internal(
    deployment: &Deployment,
    logs: PathBuf,
    data: &DataSet,
    orders: usize,
) -> anyhow::Result<(f64, usize)> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()?;
    let url = format!("{}/orders", deployment.base_url);
    deployment.hop_logs(true);
    let sent = send_orders(&http, &url, data, orders).await;
    deployment.hop_logs(false);
    sent?;
    // The hop logs' writers flush every 50 ms (`queue.rs`).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let hops = tokio::task::spawn_blocking(move || {
        crate::trace::hops_where(
            &[logs],
            |line| line.contains(INTERNAL_PREFIX),
            |id| id.starts_with(INTERNAL_PREFIX),
        )
    })
    .await??;
    let served: HashMap<&str, u64> = hops
        .iter()
        .filter(|hop| hop.hop == "served" && !hop.parent.is_empty())
        .map(|hop| (hop.parent.as_str(), hop.micros))
        .collect();
    let hops_ms: Vec<Duration> = hops
        .iter()
        .filter(|hop| hop.hop == "called" && !hop.process.starts_with("shoplab-gateway"))
        .filter_map(|call| {
            let handled = served.get(call.hop_id.as_str())?;
            Some(Duration::from_micros(call.micros.saturating_sub(*handled)))
        })
        .collect();
    anyhow::ensure!(
        !hops_ms.is_empty(),
        "no component call of the {orders} orders was found in the hop logs"
    );
    let calls = hops_ms.len();
    Ok((median_ms(&hops_ms), calls))
}

/// `orders` orders of one unit, each after the last was answered, the
/// first few as a warm-up (their hops are logged under another id).
async fn send_orders(
    http: &reqwest::Client,
    url: &str,
    data: &DataSet,
    orders: usize,
) -> anyhow::Result<()> {
    let (users, products) = (&data.users, &data.products);
    anyhow::ensure!(
        !users.is_empty() && !products.is_empty(),
        "no data set to order from"
    );
    for index in 0..WARM_UP / 10 + orders {
        let body = json!({
            "user_id": users[index % users.len()],
            "items": [{"product_id": products[index % products.len()], "quantity": 1}],
        });
        let id = if index < WARM_UP / 10 {
            format!("cmp-warm-{index}")
        } else {
            format!("{INTERNAL_PREFIX}{index}")
        };
        let response = http
            .post(url)
            .header("x-request-id", id)
            .json(&body)
            .send()
            .await?;
        response.bytes().await?;
    }
    Ok(())
}

pub fn small_body() -> Vec<u8> {
    br#"{"order_id":12345,"items":[{"product_id":7,"quantity":2}]}"#.to_vec()
}

/// B with reqwest's async client alone, as [`round_trips`] measures it
/// (on a thread of its own, with a single-threaded runtime), not pinned:
/// the median round trip of a small JSON POST to `url`, in milliseconds.
pub async fn b_async(url: &str, samples: usize) -> anyhow::Result<f64> {
    let url = url.to_owned();
    on_own_thread(None, move || async_round_trips(&url, samples)).await
}

/// B with reqwest's blocking client, then with its async client, on a
/// thread of its own pinned to `cores` (the blocking client runs a runtime
/// of its own and must not live inside ours; the async one gets a
/// single-threaded runtime on the same thread). Medians in milliseconds.
async fn round_trips(
    url: String,
    samples: usize,
    cores: Option<Vec<usize>>,
) -> anyhow::Result<(f64, f64)> {
    on_own_thread(cores, move || {
        let b_blocking = blocking_round_trips(&url, samples)?;
        let b_async = async_round_trips(&url, samples)?;
        Ok((b_blocking, b_async))
    })
    .await
}

/// Runs `measure` on a thread of its own, pinned to `cores` if given
/// (threads it starts inherit that), and waits for it without holding a
/// thread of the runtime.
async fn on_own_thread<T: Send + 'static>(
    cores: Option<Vec<usize>>,
    measure: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let thread = std::thread::spawn(move || -> anyhow::Result<T> {
        if let Some(cores) = &cores {
            crate::pin::pin_current(cores).context("cannot pin B's client")?;
        }
        measure()
    });
    tokio::task::spawn_blocking(move || thread.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the round-trip thread panicked"))?
        .context("measuring B")
}

/// The median of `samples` round trips with reqwest's blocking client, after
/// [`WARM_UP`] more.
fn blocking_round_trips(url: &str, samples: usize) -> anyhow::Result<f64> {
    let body = small_body();
    let blocking = reqwest::blocking::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()?;
    let mut times = Vec::with_capacity(samples);
    for index in 0..WARM_UP + samples {
        let started = Instant::now();
        let response = blocking
            .post(url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()?;
        response.bytes()?;
        if index >= WARM_UP {
            times.push(started.elapsed());
        }
    }
    Ok(median_ms(&times))
}

/// The same with reqwest's async client, on a single-threaded runtime of
/// its own on this thread.
fn async_round_trips(url: &str, samples: usize) -> anyhow::Result<f64> {
    let body = small_body();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let http = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .build()?;
        let mut times = Vec::with_capacity(samples);
        for index in 0..WARM_UP + samples {
            let started = Instant::now();
            let response = http
                .post(url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await?;
            response.bytes().await?;
            if index >= WARM_UP {
                times.push(started.elapsed());
            }
        }
        anyhow::Ok(median_ms(&times))
    })
}
