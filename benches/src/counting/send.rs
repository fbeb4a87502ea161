//! A counting pass's batch: a workload's requests, drawn from its seeded
//! stream, sent one at a time, each required to answer the status that
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

/// A workload's requests against one deployment.
pub(crate) struct Batch<'a> {
    http: &'a reqwest::Client,
    base_url: &'a str,
    workload: &'a Workload,
    data: &'a DataSet,
    seed: u64,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(
        http: &'a reqwest::Client,
        base_url: &'a str,
        workload: &'a Workload,
        data: &'a DataSet,
        seed: u64,
    ) -> Self {
        Batch {
            http,
            base_url,
            workload,
            data,
            seed,
        }
    }

    pub(crate) fn workload_name(&self) -> &'static str {
        self.workload.name()
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
        self.data.check_serves(self.workload)?;
        let mut rng = StdRng::seed_from_u64(seed);
        for index in 0..count {
            let request = self.workload.next(&mut rng, self.data);
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
            let expected = request.endpoint.expected_status();
            // Read to the end: the connection is then free for the next one.
            let body = response.bytes().await.unwrap_or_default();
            if status != expected {
                bail!(
                    "request {} of {count} ({} {}) answered {status}, not {expected}: {}; \
                     a count from a batch with errors is refused",
                    index + 1,
                    request.method,
                    request.path,
                    String::from_utf8_lossy(&body).trim()
                );
            }
        }
        Ok(())
    }
}
