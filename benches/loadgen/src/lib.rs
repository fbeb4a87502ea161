//! The lab's load generator: a stream of requests sent to one base URL, in
//! an open loop (a constant arrival rate, for latency) or a closed loop (C
//! connections as fast as they go, for maximum throughput), with every
//! request's latency in an HDR histogram.
//!
//! It knows nothing of the shop. What to send comes through [`Requests`]:
//! each request carries a label (how the report groups it, such as
//! `GET /products/{id}`) and the status that counts as success. The shop's
//! workloads live in the harness (`shoplab::load`).
//!
//! The open loop is free of coordinated omission, as wrk2 makes wrk: each
//! request is due at its scheduled time whether or not earlier ones have
//! answered, and its latency counts from that scheduled time. A stall of the
//! server then shows in the percentiles of every request that should have
//! been sent during it, not only in the one request that was waiting. The
//! closed loop cannot see that (while a connection waits it sends nothing),
//! which is why it measures throughput and the open loop measures latency.
//!
//! Like wrk2, the open loop sends over a bounded number of connections: a
//! request due while every connection is busy waits for one, and that wait
//! counts in its latency. Without the bound, a stall would make the
//! generator open a new connection for every request due during it, and the
//! storm of connections would become the load under test.

mod pace;
mod record;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::Method;
use serde::Serialize;
use tokio::sync::{mpsc, Semaphore};

pub use record::{Outcome, Percentiles, Recorder, Sample, Slow, Summary};

/// How a request is grouped in the report: `GET /products/{id}`, say.
pub type Label = Cow<'static, str>;

/// One request, ready to send.
#[derive(Debug, Clone)]
pub struct Request {
    pub label: Label,
    pub method: Method,
    /// The path and query, appended to the run's base URL.
    pub path: String,
    /// Sent as `application/json`.
    pub body: Option<Vec<u8>>,
    /// The status of a request that succeeded: any other counts as an error.
    pub expected_status: u16,
    /// Headers sent with the request's id as their value, besides
    /// `X-Request-Id` (an `Idempotency-Key`, say).
    pub id_headers: &'static [&'static str],
}

/// A seeded stream of requests: the same seed draws the same requests in
/// the same order.
pub trait Requests: Send + Sync + 'static {
    fn next(&self, rng: &mut StdRng) -> Request;
}

/// How requests are sent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A constant arrival rate, requests per second, over at most
    /// `connections` connections.
    Open { rate: f64, connections: usize },
    /// This many connections, each sending its next request when the last
    /// one has answered.
    Closed { connections: usize },
}

impl Mode {
    pub fn describe(&self) -> String {
        match self {
            Mode::Open { rate, connections } => {
                format!("open loop at {rate:.0} req/s, up to {connections} connections")
            }
            Mode::Closed { connections } => format!("closed loop, {connections} connections"),
        }
    }
}

/// An open loop's bound on connections that is no bound: as many
/// connections as requests in flight.
pub const UNBOUNDED: usize = Semaphore::MAX_PERMITS;

/// How an open loop waits for a request's due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pacing {
    /// Within a few microseconds of the schedule, at the cost of a core
    /// yielding in the last ticks before each send (see `pace`): for
    /// requests ~100 µs apart.
    #[default]
    Precise,
    /// On the runtime's timer, up to a tick (1 ms) late: for slow streams,
    /// where a spinning core would itself be load on the machine.
    Timer,
}

/// One run of the generator.
#[derive(Debug, Clone)]
pub struct Run {
    pub base_url: String,
    /// What the requests are, named in the report (`workload`).
    pub name: String,
    pub mode: Mode,
    pub duration: Duration,
    /// The request stream's seed: the same seed sends the same requests.
    pub seed: u64,
    /// A request with no answer after this long counts as a `timeout` error.
    pub timeout: Duration,
    /// Prefix of the `X-Request-Id`s sent (`PREFIX-N`), so a run's requests
    /// can be found in the deployment's logs.
    pub request_id_prefix: String,
    /// Open loop only.
    pub pacing: Pacing,
    /// Open loop only: when the schedule starts (by default, a moment after
    /// the run does), so a run can line up with something timed elsewhere.
    pub start: Option<Instant>,
}

/// What a run measured: the top level is what `shoplab load --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub workload: String,
    pub mode: Mode,
    pub duration_s: f64,
    pub seed: u64,
    /// Over all requests.
    #[serde(flatten)]
    pub all: Summary,
    /// Per label.
    pub endpoints: BTreeMap<String, Summary>,
    /// Open loop only: how late requests went out against their schedule.
    pub send_lag_ms: Option<Percentiles>,
    /// Wall time from the first send to the last answer.
    pub elapsed_s: f64,
}

/// Runs `run`, drawing from `requests`, with `http`; calls `progress` with
/// the share of the run done (0.0..=1.0) now and then, and sends every
/// sample to `samples`, if given, as it arrives (with its due time: an
/// experiment that changes the deployment mid-run splits the run by it).
pub async fn drive<R: Requests>(
    http: &reqwest::Client,
    run: &Run,
    requests: R,
    progress: impl Fn(f64),
    samples: Option<mpsc::UnboundedSender<Sample>>,
) -> anyhow::Result<Report> {
    let (sent, mut arrived) = mpsc::unbounded_channel::<Sample>();
    let collector = tokio::spawn(async move {
        let mut recorder = Recorder::new();
        while let Some(sample) = arrived.recv().await {
            recorder.add(&sample);
            if let Some(observer) = &samples {
                let _ = observer.send(sample);
            }
        }
        recorder
    });
    let sender = Sender {
        http: http.clone(),
        base_url: run.base_url.trim_end_matches('/').to_owned(),
        timeout: run.timeout,
        prefix: run.request_id_prefix.clone(),
        counter: Arc::new(AtomicU64::new(0)),
    };
    let requests = Arc::new(requests);
    let started = Instant::now();
    let lags = match run.mode {
        Mode::Open { rate, connections } => {
            open_loop(
                &sender,
                run,
                (rate, connections),
                &requests,
                sent,
                &progress,
            )
            .await?
        }
        Mode::Closed { connections } => {
            closed_loop(&sender, run, connections, &requests, sent, &progress).await?;
            None
        }
    };
    let mut recorder = collector.await?;
    let elapsed = started.elapsed();
    for lag in lags.into_iter().flatten() {
        recorder.add_send_lag(lag);
    }
    // Throughput counts over the schedule in an open loop (the rate the
    // deployment was offered) and over the run itself in a closed loop.
    let span = match run.mode {
        Mode::Open { .. } => run.duration,
        Mode::Closed { .. } => elapsed,
    };
    let (all, endpoints, send_lag_ms) = recorder.summary(span);
    progress(1.0);
    Ok(Report {
        workload: run.name.clone(),
        mode: run.mode,
        duration_s: run.duration.as_secs_f64(),
        seed: run.seed,
        all,
        endpoints,
        send_lag_ms,
        elapsed_s: elapsed.as_secs_f64(),
    })
}

/// Sends one request and says how it went.
#[derive(Clone)]
struct Sender {
    http: reqwest::Client,
    base_url: String,
    timeout: Duration,
    prefix: String,
    counter: Arc<AtomicU64>,
}

impl Sender {
    /// Sends `request`; its latency counts from `since`.
    async fn send(&self, request: Request, since: Instant) -> Sample {
        let number = self.counter.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("{}-{number}", self.prefix);
        let mut builder = self
            .http
            .request(request.method, format!("{}{}", self.base_url, request.path))
            .header("x-request-id", &request_id)
            .timeout(self.timeout);
        for header in request.id_headers {
            builder = builder.header(*header, &request_id);
        }
        if let Some(body) = request.body {
            builder = builder
                .header("content-type", "application/json")
                .body(body);
        }
        let outcome = match builder.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(_) => Outcome::Status(status),
                    Err(error) if error.is_timeout() => Outcome::Timeout,
                    Err(_) => Outcome::Transport,
                }
            }
            Err(error) if error.is_timeout() => Outcome::Timeout,
            Err(_) => Outcome::Transport,
        };
        Sample {
            label: request.label,
            expected_status: request.expected_status,
            due: since,
            latency: since.elapsed(),
            outcome,
            request_id,
        }
    }
}

/// How long before the first scheduled send the schedule starts: time for
/// the loop to get going, so the first sends are not already late.
const SCHEDULE_LEAD: Duration = Duration::from_millis(5);

/// Sends at `rate` per second for the run's duration over at most
/// `connections` connections, each request due at its scheduled time, each
/// latency from that time. Returns how late the sends were dispatched.
async fn open_loop<R: Requests>(
    sender: &Sender,
    run: &Run,
    (rate, connections): (f64, usize),
    requests: &Arc<R>,
    samples: mpsc::UnboundedSender<Sample>,
    progress: &impl Fn(f64),
) -> anyhow::Result<Option<Vec<Duration>>> {
    anyhow::ensure!(rate > 0.0 && rate.is_finite(), "the rate must be above 0");
    anyhow::ensure!(connections > 0, "at least one connection is needed");
    let total = (rate * run.duration.as_secs_f64()).round() as u64;
    let mut lags = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut rng = StdRng::seed_from_u64(run.seed);
    // One permit per connection: a request holds one while it is in flight.
    let free = Arc::new(Semaphore::new(connections.min(UNBOUNDED)));
    let start = run.start.unwrap_or_else(|| Instant::now() + SCHEDULE_LEAD);
    let mut in_flight = tokio::task::JoinSet::new();
    for index in 0..total {
        let due = start + Duration::from_secs_f64(index as f64 / rate);
        let request = requests.next(&mut rng);
        match run.pacing {
            Pacing::Precise => pace::until(due).await,
            Pacing::Timer => tokio::time::sleep_until(due.into()).await,
        }
        lags.push(due.elapsed());
        let (sender, samples, free) = (sender.clone(), samples.clone(), Arc::clone(&free));
        in_flight.spawn(async move {
            // Waiting for a free connection counts: the latency is from `due`.
            let Ok(_connection) = free.acquire_owned().await else {
                return;
            };
            let _ = samples.send(sender.send(request, due).await);
        });
        // Reap finished tasks as we go, so the set does not grow with the run.
        while in_flight.try_join_next().is_some() {}
        if index % 1024 == 0 {
            progress(index as f64 / total as f64);
        }
    }
    while in_flight.join_next().await.is_some() {}
    Ok(Some(lags))
}

/// `connections` loops, each sending its next request when the last has
/// answered, until the run's duration has passed.
async fn closed_loop<R: Requests>(
    sender: &Sender,
    run: &Run,
    connections: usize,
    requests: &Arc<R>,
    samples: mpsc::UnboundedSender<Sample>,
    progress: &impl Fn(f64),
) -> anyhow::Result<()> {
    anyhow::ensure!(connections > 0, "at least one connection is needed");
    let started = Instant::now();
    let deadline = started + run.duration;
    let mut loops = tokio::task::JoinSet::new();
    for connection in 0..connections {
        let (sender, samples) = (sender.clone(), samples.clone());
        let requests = Arc::clone(requests);
        // Each connection draws its own stream, seeded from the run's seed.
        let mut rng = StdRng::seed_from_u64(run.seed.wrapping_add(connection as u64));
        loops.spawn(async move {
            while Instant::now() < deadline {
                let request = requests.next(&mut rng);
                let sent = Instant::now();
                if samples.send(sender.send(request, sent).await).is_err() {
                    break;
                }
            }
        });
    }
    drop(samples);
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            joined = loops.join_next() => if joined.is_none() { break },
            _ = ticker.tick() => progress(started.elapsed().as_secs_f64() / run.duration.as_secs_f64()),
        }
    }
    Ok(())
}

/// An HTTP client to send with: pooled keep-alive connections (as many as
/// there are requests in flight, which the loops bound), no proxy, Nagle
/// off; a connection idle for `idle` is closed (set it below the server's
/// own keep-alive, so the client never sends on a connection the server is
/// closing).
pub fn http_client(idle: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_idle_timeout(idle)
        .build()?)
}
