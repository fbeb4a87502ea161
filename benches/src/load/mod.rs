//! The shop's load: the workloads (`read`, `browse`, `order`, `mix`), the
//! data set they draw from, and the glue that sends them with the lab's
//! load generator, the `loadgen` crate (an engine that knows nothing of the
//! shop: requests come to it through a trait, labelled with strings).
//!
//! A run here is the engine's run with a [`Workload`] in place of the
//! engine's stream: [`drive`] checks that the data set serves the workload,
//! then hands the engine a stream that draws the workload's requests from
//! the data set.
//!
//! Used by `shoplab load` (on its own, like wrk), `compare`, `scale` and
//! `rollout`; `isolation` sends its four groups with the engine directly.

pub mod standalone;
pub mod workload;

use std::time::Duration;

use rand::rngs::StdRng;
use tokio::sync::mpsc;

pub use loadgen::{Mode, Outcome, Percentiles, Recorder, Report, Sample, Summary};
pub use workload::{DataSet, Endpoint, Mix, Request, SeedSize, Workload};

/// One run of the generator.
#[derive(Debug, Clone)]
pub struct Run {
    pub base_url: String,
    pub workload: Workload,
    pub mode: Mode,
    pub duration: Duration,
    /// The request stream's seed: the same seed sends the same requests.
    pub seed: u64,
    /// A request with no answer after this long counts as a `timeout` error.
    pub timeout: Duration,
    /// Prefix of the `X-Request-Id`s sent, so a run's requests can be found
    /// in the deployment's logs.
    pub request_id_prefix: String,
}

/// Runs `run` over `data` with `http`, calling `progress` with the share of
/// the run done (0.0..=1.0) now and then.
pub async fn drive(
    http: &reqwest::Client,
    run: &Run,
    data: &DataSet,
    progress: impl Fn(f64),
) -> anyhow::Result<Report> {
    drive_observed(http, run, data, progress, Observe::default()).await
}

/// What an experiment that needs more than the summary asks of a run.
#[derive(Debug, Default)]
pub struct Observe {
    /// Every sample, as it arrives (with its due time: an experiment that
    /// changes the deployment mid-run splits the run by it).
    pub samples: Option<mpsc::UnboundedSender<Sample>>,
    /// Send each order with an `Idempotency-Key` (its request id), as a
    /// careful client does: the load balancer may then retry it on another
    /// replica when a connection is refused.
    pub idempotency_keys: bool,
}

/// [`drive`], with what `observe` asks for.
pub async fn drive_observed(
    http: &reqwest::Client,
    run: &Run,
    data: &DataSet,
    progress: impl Fn(f64),
    observe: Observe,
) -> anyhow::Result<Report> {
    data.check_serves(&run.workload)?;
    let engine_run = loadgen::Run {
        base_url: run.base_url.clone(),
        name: run.workload.name().into(),
        mode: run.mode,
        duration: run.duration,
        seed: run.seed,
        timeout: run.timeout,
        request_id_prefix: run.request_id_prefix.clone(),
        pacing: loadgen::Pacing::Precise,
        start: None,
    };
    let stream = Stream {
        workload: run.workload.clone(),
        data: data.clone(),
        idempotency_keys: observe.idempotency_keys,
    };
    loadgen::drive(http, &engine_run, stream, progress, observe.samples).await
}

/// A workload's requests over a data set, as the engine takes them.
struct Stream {
    workload: Workload,
    data: DataSet,
    idempotency_keys: bool,
}

impl loadgen::Requests for Stream {
    fn next(&self, rng: &mut StdRng) -> loadgen::Request {
        let request = self.workload.next(rng, &self.data);
        let id_headers: &'static [&'static str] =
            if self.idempotency_keys && request.endpoint == Endpoint::Order {
                &["idempotency-key"]
            } else {
                &[]
            };
        loadgen::Request {
            label: request.endpoint.label().into(),
            method: request.method,
            path: request.path,
            body: request.body,
            expected_status: request.endpoint.expected_status(),
            id_headers,
        }
    }
}

/// The HTTP client the lab sends load with: the engine's, closing idle
/// connections before the deployments' servers do.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    loadgen::http_client(shoplab_http::server::CLIENT_IDLE)
}
