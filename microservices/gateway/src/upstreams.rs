//! The services behind the gateway, and the one client that reaches them:
//! [`Upstreams`] picks a replica, passes its guard, sends the request with
//! its id and what is left of its deadline, retries on another replica only
//! what API.md makes safe to repeat, and reads the answer within the
//! gateway's limits. `lib.rs` says which service owns which route.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use shoplab_common::components::Component;
use shoplab_common::deadline::{Deadline, DEADLINE_HEADER};
use shoplab_common::ShopError;
use shoplab_http::server::CLIENT_IDLE;
use shoplab_http::{hop_log, internal_token, ApiError, Budget, REQUEST_ID_HEADER};
use shoplab_service::balance::Replicas;
use shoplab_service::failure::{token_refused, transport_error};
use shoplab_service::guard::{Guard, GuardArgs};
use shoplab_service::HopDelay;

use crate::{Behind, EdgeLimits};

/// How much longer than a request's deadline the gateway waits for the
/// service: enough for the service's own `timeout` answer, sent when the
/// deadline passes, to arrive first.
pub const ABOVE_DEADLINE: Duration = Duration::from_millis(250);

/// The services behind the gateway, and the client that reaches them.
#[derive(Clone)]
pub struct Upstreams {
    pub(crate) http: reqwest::Client,
    pub(crate) budget: Budget,
    hop_delay: HopDelay,
    pub(crate) behind: Arc<Behind>,
    /// A guard per pool of replicas, in [`Behind::pools`]'s order: the
    /// gateway fails fast on a frozen service as the services do on their
    /// peers (`shoplab_service::guard`).
    guards: Arc<[Guard]>,
    pub(crate) limits: EdgeLimits,
}

/// Whether a request whose connection was refused may go to another
/// replica. A refused connection means the request was never delivered,
/// but the gateway retries only what API.md makes safe to repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A read, or an order carrying its Idempotency-Key.
    Safe,
    /// Anything else: one replica, one try.
    Never,
}

impl Upstreams {
    /// `behind`: the services (or monoliths) and their base URLs. `budget`:
    /// how long one request may take (`--deadline-ms`). `hop_delay`: the
    /// wait before each request to a service (`--hop-delay-us`).
    /// `health_interval`: how often each replica of a pool that has several
    /// is asked for its `/health` (`--health-interval-ms`). `guard`: each
    /// pool's bulkhead and circuit breaker. `limits`: how slow a body and
    /// how large an answer may be.
    pub fn new(
        behind: Behind,
        budget: Budget,
        hop_delay: HopDelay,
        health_interval: Duration,
        guard: GuardArgs,
        limits: EdgeLimits,
    ) -> anyhow::Result<Self> {
        // A redirect is the client's to follow, not the gateway's: it is
        // passed back as it came (and checking each answer for one costs).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(1))
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(CLIENT_IDLE)
            .build()?;
        // A service is failing when it leaves a request unanswered for the
        // longest deadline the gateway passes on (`--deadline-ms`): a
        // client's shorter `X-Deadline-Ms` running out says nothing of it.
        // (A request with the whole budget is given up on at its deadline
        // and `ABOVE_DEADLINE` more, past this limit whatever its body's
        // reading took.)
        let limit = budget.0;
        let guards = behind
            .pools()
            .into_iter()
            .map(|pool| {
                pool.watch(health_interval);
                Guard::new(pool.service(), guard, limit)
            })
            .collect();
        Ok(Self {
            http,
            budget,
            hop_delay,
            behind: Arc::new(behind),
            guards,
            limits,
        })
    }

    /// A service's whole answer body, read within the deadline's time and
    /// at most `--max-answer-bytes` of it: 502 past that, before reading
    /// further.
    pub(crate) async fn answer_body(
        &self,
        service: Component,
        deadline: Deadline,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, ApiError> {
        let limit = self.limits.max_answer_bytes;
        let too_large = || ApiError::AnswerTooLarge {
            service: service.name(),
            limit,
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            let chunk = response
                .chunk()
                .await
                .map_err(|error| transport_error(service.name(), deadline.remaining(), &error))?;
            let Some(chunk) = chunk else {
                return Ok(body);
            };
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
    }

    /// The guard of the pool that serves `upstream`'s paths.
    fn guard(&self, upstream: Component) -> Option<&Guard> {
        let at = match &*self.behind {
            Behind::Monolith(_) => 0,
            Behind::Services(_) => Component::ALL.iter().position(|&known| known == upstream)?,
        };
        self.guards.get(at)
    }

    /// The replicas that serve `upstream`'s paths.
    fn replicas(&self, upstream: Component) -> &Replicas {
        match &*self.behind {
            Behind::Monolith(monoliths) => monoliths,
            Behind::Services(services) => services.of(upstream),
        }
    }

    /// Sends a request to one replica of `upstream`: every request the
    /// gateway passes through or makes for `/audit` goes through here.
    /// `build` makes the request for a replica's base URL. A replica that
    /// refuses the connection is marked down and, if `retry` allows, the
    /// request goes to the next one.
    pub(crate) async fn send(
        &self,
        upstream: Component,
        deadline: Deadline,
        retry: Retry,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ShopError> {
        let admitted = self.guard(upstream).map(Guard::admit).transpose()?;
        let delivered = self.deliver(upstream, deadline, retry, build).await?;
        if let Some(admitted) = admitted {
            admitted.record(&delivered);
        }
        match delivered {
            // A service that refuses the gateway's internal token is
            // misconfigured: 503, never a public 401 (API.md).
            Ok(response) if response.status() == reqwest::StatusCode::UNAUTHORIZED => {
                Err(token_refused(self.replicas(upstream).service()))
            }
            delivered => delivered,
        }
    }

    /// Gets the request to a replica and its answer back. The outer error
    /// is ours; the inner one says the service could not be reached or did
    /// not answer.
    async fn deliver(
        &self,
        upstream: Component,
        deadline: Deadline,
        retry: Retry,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<Result<reqwest::Response, ShopError>, ShopError> {
        let replicas = self.replicas(upstream);
        let mut tried = Vec::new();
        loop {
            let Some(replica) = replicas.pick(&tried) else {
                return Ok(Err(ShopError::Unreachable(format!(
                    "no replica of the {} service can be reached",
                    replicas.service()
                ))));
            };
            let timeout = deadline.remaining() + ABOVE_DEADLINE;
            match self
                .send_to(replicas.service(), deadline, build(replica.url()))
                .await?
            {
                Ok(response) => return Ok(Ok(response)),
                Err(error) if error.is_connect() => {
                    replica.refused();
                    tried.push(replica.index());
                    let again = retry == Retry::Safe
                        && tried.len() < replicas.len()
                        && !deadline.remaining().is_zero();
                    if !again {
                        return Ok(Err(transport_error(replicas.service(), timeout, &error)));
                    }
                }
                Err(error) => return Ok(Err(transport_error(replicas.service(), timeout, &error))),
            }
        }
    }

    /// One request to one process, after the hop delay. It carries what is
    /// left of `deadline`, and is given up on just after it (`timeout`,
    /// 504). The wait is async (`HopDelay::wait`), so it holds up this
    /// request only, never the worker. The outer error is ours; the inner
    /// one is the transport's, for the caller to judge.
    pub(crate) async fn send_to(
        &self,
        service: &str,
        deadline: Deadline,
        request: reqwest::RequestBuilder,
    ) -> Result<Result<reqwest::Response, reqwest::Error>, ShopError> {
        self.hop_delay.wait().await;
        let timeout = deadline.remaining() + ABOVE_DEADLINE;
        let mut request = request
            .header(DEADLINE_HEADER, deadline.header_value())
            .timeout(timeout);
        if let Some(token) = internal_token::current() {
            request = request.header(internal_token::HEADER, token);
        }
        let mut request = request
            .build()
            .map_err(|error| ShopError::internal("building a request", error))?;
        let request_id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        // The peer is named by its address too: a service may run as several
        // replicas.
        let call = hop_log::Call::start(
            request_id,
            request.method().as_str(),
            request.url().path(),
            || format!("{service} {}", request.url().origin().ascii_serialization()),
        );
        if let Some(call) = &call {
            let (name, value) = call.header();
            if let Ok(value) = HeaderValue::from_str(&value) {
                request
                    .headers_mut()
                    .insert(HeaderName::from_static(name), value);
            }
        }
        let sent = self.http.execute(request).await;
        if let Some(call) = call {
            let status = sent
                .as_ref()
                .map_or(0, |response| response.status().as_u16());
            call.answered(status);
        }
        Ok(sent)
    }
}
