//! A counting pass's batch: a workload's requests, drawn from its seeded
//! stream (or one request again and again), sent one at a time, each required to answer the status that
//! counts as success. One at a time, so that each request takes the same
//! path through the stack in every run: at a higher concurrency, how many
//! requests one wake-up serves depends on timing, and so would the counts.

use std::time::Duration;

use anyhow::{bail, Context};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::load::{DataSet, Workload};

/// How long one request may take under callgrind, where a process runs 20
/// to 50 times slower and one thread at a time.
const REQUEST_WITHIN: Duration = Duration::from_secs(120);

/// One request of a batch, ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) method: reqwest::Method,
    /// The path and query, after the base URL.
    pub(crate) path: String,
    /// Sent as `application/json`.
    pub(crate) body: Option<Vec<u8>>,
    /// The status of a request that succeeded.
    pub(crate) expected: u16,
}

/// Requests against one base URL: a workload's, or one request again and
/// again (the floor's `/echo`, say).
pub(crate) struct Batch<'a> {
    http: &'a reqwest::Client,
    base_url: &'a str,
    name: &'static str,
    draw: Box<dyn Fn(&mut StdRng) -> Outgoing + Send + Sync + 'a>,
    seed: u64,
}

impl<'a> Batch<'a> {
    /// `workload`'s requests over `data`, drawn from the stream `seed` seeds.
    pub(crate) fn of_workload(
        http: &'a reqwest::Client,
        base_url: &'a str,
        workload: &'a Workload,
        data: &'a DataSet,
        seed: u64,
    ) -> anyhow::Result<Self> {
        data.check_serves(workload)?;
        Ok(Batch {
            http,
            base_url,
            name: workload.name(),
            draw: Box::new(move |rng| {
                let request = workload.next(rng, data);
                Outgoing {
                    expected: request.endpoint.expected_status(),
                    method: request.method,
                    path: request.path,
                    body: request.body,
                }
            }),
            seed,
        })
    }

    /// The same request every time.
    pub(crate) fn repeating(
        http: &'a reqwest::Client,
        base_url: &'a str,
        name: &'static str,
        request: Outgoing,
    ) -> Self {
        Batch {
            http,
            base_url,
            name,
            draw: Box::new(move |_| request.clone()),
            seed: 0,
        }
    }

    /// What it sends, as file names and progress lines name it: `read`, `echo`.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// `count` requests of another stream than the batch's (so the batch's
    /// own requests are not sent twice).
    pub(crate) async fn warm_up(&self, count: usize) -> anyhow::Result<()> {
        self.send_stream(count, self.seed.wrapping_add(1)).await
    }

    /// The batch: `count` requests of the seeded stream.
    pub(crate) async fn send(&self, count: usize) -> anyhow::Result<()> {
        self.send_stream(count, self.seed).await
    }

    async fn send_stream(&self, count: usize, seed: u64) -> anyhow::Result<()> {
        let mut rng = StdRng::seed_from_u64(seed);
        for index in 0..count {
            let request = (self.draw)(&mut rng);
            let mut call = self
                .http
                .request(
                    request.method.clone(),
                    format!("{}{}", self.base_url, request.path),
                )
                .timeout(REQUEST_WITHIN);
            if let Some(body) = request.body {
                call = call
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body);
            }
            let response = call.send().await.with_context(|| {
                format!(
                    "request {} of {count} ({} {}) got no answer: the count is refused",
                    index + 1,
                    request.method,
                    request.path
                )
            })?;
            let status = response.status().as_u16();
            // Read to the end: the connection is then free for the next one.
            let body = response.bytes().await.unwrap_or_default();
            if status != request.expected {
                bail!(
                    "request {} of {count} ({} {}) answered {status}, not {}: {}; \
                     a count from a batch with errors is refused",
                    index + 1,
                    request.method,
                    request.path,
                    request.expected,
                    String::from_utf8_lossy(&body).trim()
                );
            }
        }
        Ok(())
    }
}
