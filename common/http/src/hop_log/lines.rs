//! The three kinds of hop line: `served` (the middleware, one a request a
//! process serves), `called` (a [`Call`] to another process) and
//! `function` (a [`Function`] call in process), and [`within`], which runs
//! a future with a hop current. What a line holds and how hops nest is in
//! `mod.rs`.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpMessage;

use super::{current, enabled, enter, process, Current, HopId, PARENT_HEADER, SERVING, TARGET};
use crate::contract::RouteTemplate;
use crate::RequestId;

/// The middleware: one `served` line per request, after its answer, with
/// the route's template (`/products/{id}`, never `/products/17`); the
/// handler runs with this hop current.
pub async fn served(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !enabled() {
        return next.call(request).await;
    }
    let started = Started::now();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map_or_else(String::new, |id| id.as_str().to_owned());
    let parent = request
        .headers()
        .get(PARENT_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(HopId::parse);
    let method = request.method().to_string();
    let hop = HopId::fresh();
    let current = Current {
        request_id: request_id.clone(),
        hop,
    };
    let response = SERVING.scope(current, next.call(request)).await?;
    let micros = started.micros();
    // Read once answered, from the resource that served it.
    let route = RouteTemplate::of(response.request())
        .unwrap_or_else(|| response.request().path().to_owned().into());
    tracing::info!(
        target: TARGET,
        process = process(),
        hop = "served",
        request_id,
        hop_id = %hop,
        parent = parent.map(|parent| parent.to_string()).unwrap_or_default(),
        method,
        route = &*route,
        status = response.status().as_u16(),
        started_us = started.since_epoch_us,
        micros,
    );
    Ok(response)
}

/// When a hop started: on the wall clock, which every process of the
/// machine shares (for ordering hops across processes), and on the
/// monotonic one (for its duration).
struct Started {
    since_epoch_us: u64,
    at: Instant,
}

impl Started {
    fn now() -> Self {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self {
            since_epoch_us: u64::try_from(since_epoch.as_micros()).unwrap_or(u64::MAX),
            at: Instant::now(),
        }
    }

    fn micros(&self) -> u64 {
        u64::try_from(self.at.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// A call this process is making to another, logged as one `called` line
/// when its answer comes. [`Call::start`] is `None`, and costs nothing, when
/// the process keeps no hop log: both callers (the services' client to
/// their peers and the gateway's) sit on every hop's path.
pub struct Call {
    request_id: String,
    parent: Option<HopId>,
    hop: HopId,
    peer: String,
    method: String,
    path: String,
    started: Started,
}

impl Call {
    /// Starts timing a call of `METHOD path` to `peer` (the service and
    /// the replica's address, named only when the line will be written) on
    /// behalf of `request_id`, inside the current hop.
    pub fn start(
        request_id: &str,
        method: &str,
        path: &str,
        peer: impl FnOnce() -> String,
    ) -> Option<Call> {
        enabled().then(|| Call {
            request_id: request_id.to_owned(),
            parent: current().map(|current| current.hop),
            hop: HopId::fresh(),
            peer: peer(),
            method: method.to_owned(),
            path: path.to_owned(),
            started: Started::now(),
        })
    }

    /// The header the call must carry ([`PARENT_HEADER`] and this call's
    /// id), so that the peer's `served` line hangs under it.
    pub fn header(&self) -> (&'static str, String) {
        (PARENT_HEADER, self.hop.to_string())
    }

    /// The peer answered `status` (0: no answer).
    pub fn answered(self, status: u16) {
        tracing::info!(
            target: TARGET,
            process = process(),
            hop = "called",
            request_id = self.request_id,
            hop_id = %self.hop,
            parent = self.parent.map(|parent| parent.to_string()).unwrap_or_default(),
            peer = self.peer,
            method = self.method,
            route = self.path,
            status,
            started_us = self.started.since_epoch_us,
            micros = self.started.micros(),
        );
    }
}

/// A component call made through the component interfaces (`users.user`,
/// `catalog.reserve`): a function call in the monolith, the start of an
/// HTTP call in the services. Logged as one `function` line when it
/// returns; while it runs ([`Function::inside`]) it is the current hop, so
/// the HTTP call it makes (in the services) hangs under it.
pub struct Function {
    request_id: String,
    parent: HopId,
    hop: HopId,
    name: &'static str,
    started: Started,
}

impl Function {
    /// Starts timing the call `name`; `None` (nothing logged) without a hop
    /// log, or outside any request.
    pub fn start(name: &'static str) -> Option<Function> {
        let outer = current()?;
        Some(Function {
            request_id: outer.request_id,
            parent: outer.hop,
            hop: HopId::fresh(),
            name,
            started: Started::now(),
        })
    }

    /// The call's future, with this hop current whenever it runs.
    pub fn inside<F: Future>(&self, call: F) -> impl Future<Output = F::Output> {
        within(
            Some(Current {
                request_id: self.request_id.clone(),
                hop: self.hop,
            }),
            call,
        )
    }

    /// The call returned with `outcome` (ok, refused, timeout, unavailable).
    pub fn returned(self, outcome: &str) {
        tracing::info!(
            target: TARGET,
            process = process(),
            hop = "function",
            request_id = self.request_id,
            hop_id = %self.hop,
            parent = %self.parent,
            method = "call",
            route = self.name,
            outcome,
            started_us = self.started.since_epoch_us,
            micros = self.started.micros(),
        );
    }
}

/// `future`, with `current` as the current hop each time it is polled,
/// on whichever thread polls it: how a future (a component call, a task
/// spawned for a request) stays inside its hop across `.await`s, where a
/// thread-local set once would leak to whatever else the thread runs.
pub async fn within<F: Future>(current: Option<Current>, future: F) -> F::Output {
    let Some(current) = current else {
        return future.await;
    };
    let mut future = pin!(future);
    poll_fn(|cx| {
        let _entered = enter(Some(current.clone()));
        future.as_mut().poll(cx)
    })
    .await
}
