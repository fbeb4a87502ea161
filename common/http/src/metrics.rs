//! Metrics at the edge: the middleware that counts and times every request
//! a process serves, and the operator's endpoint, `http://ADDR/metrics`
//! (`--metrics-addr ADDR`), where Prometheus scrapes them.
//!
//! The endpoint is a second, small actix-web server on an address of its
//! own, never a route of the public API: API.md stays the same in both
//! deployments, and an operator's port can be kept off the network the
//! shop's clients reach. It runs beside the public server in the same actix
//! system and stops with it (`server.rs`, `Application`). The exporter
//! crate's own HTTP listener would bring a second runtime on a thread of its
//! own that no SIGTERM stops cleanly; serving `render()` with the server
//! every process already has needs neither.
//!
//! Off unless `--metrics-addr` is given: without it no recorder is
//! installed, the middleware is left out of the app (`Condition`), and no
//! endpoint is bound.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use ::metrics::{Counter, Histogram};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::contract::RouteTemplate;
use shoplab_common::metrics::{
    self as shop_metrics, DURATION_BUCKETS, HTTP_REQUESTS, HTTP_REQUEST_DURATION,
};

/// The `route` of a request whose path no route has: one value for all of
/// them, so that a scanner trying paths cannot grow the label set.
pub const UNMATCHED: &str = "unmatched";

/// The address `--metrics-addr` asked for, until the process's server binds
/// it ([`take_address`]).
static ASKED: Mutex<Option<String>> = Mutex::new(None);

/// Turns metrics on for this process: installs the recorder, and remembers
/// `addr` for the endpoint its server binds next. Only the first call
/// counts (a service loads its settings twice, a test may start several
/// servers in one process).
pub fn install(addr: &str) -> anyhow::Result<()> {
    if shop_metrics::enabled() {
        return Ok(());
    }
    install_recorder()?;
    *lock_asked() = Some(addr.to_owned());
    Ok(())
}

/// How often histogram samples are folded into their buckets when nobody
/// scrapes: without it, samples would pile up in memory between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder for this process, keeps its handle (it
/// renders the text format), and tells the domain's metrics they are on
/// (`shoplab_common::metrics::turn_on`, which describes every metric).
/// [`install`] calls it once.
fn install_recorder() -> anyhow::Result<()> {
    let handle = PrometheusBuilder::new()
        .set_buckets(&DURATION_BUCKETS)?
        .install_recorder()?;
    start_upkeep(handle.clone())?;
    RECORDER.get_or_init(|| handle);
    shop_metrics::turn_on();
    Ok(())
}

/// The text of every metric, in Prometheus's text format (`None` when
/// metrics are off).
pub fn render() -> Option<String> {
    let handle = RECORDER.get()?;
    // Publishes descriptions recorded since the last render as well.
    handle.run_upkeep();
    Some(handle.render())
}

/// A thread of its own, so that no runtime needs to exist for it.
fn start_upkeep(handle: PrometheusHandle) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        })?;
    Ok(())
}

/// The address asked for, once: the first server bound in the process
/// serves the endpoint.
pub(super) fn take_address() -> Option<String> {
    lock_asked().take()
}

fn lock_asked() -> std::sync::MutexGuard<'static, Option<String>> {
    // An address or nothing: valid whatever a holder did.
    ASKED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The operator's endpoint, bound, not yet serving.
pub struct Endpoint {
    pub server: Server,
    pub addrs: Vec<SocketAddr>,
}

impl Endpoint {
    /// Binds `addr` (port 0 picks a free port) to `GET /metrics`. One worker
    /// is plenty for a scrape a second. It takes no signals of its own: it
    /// is stopped when the public server has stopped, so it answers scrapes
    /// while that one drains.
    pub fn bind(addr: &str) -> std::io::Result<Self> {
        let server = HttpServer::new(|| App::new().route("/metrics", web::get().to(scrape)))
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .bind(addr)?;
        let addrs = server.addrs();
        Ok(Self {
            server: server.run(),
            addrs,
        })
    }
}

/// Every metric of the process, in Prometheus's text format.
async fn scrape() -> HttpResponse {
    match render() {
        Some(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        None => HttpResponse::NotFound().finish(),
    }
}

/// The middleware: one count and one duration per request, by route
/// template (`/products/{id}`, never `/products/17`), method and status.
/// The duration runs to the answer's head (a body the client reads slowly
/// is not the server's time).
pub async fn served(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(request.method());
    let answered = next.call(request).await;
    let (route, status) = match &answered {
        Ok(response) => (route_of(response.request()), response.status()),
        Err(error) => (
            Route::Static(UNMATCHED),
            error.as_response_error().status_code(),
        ),
    };
    record(route, method, status, started.elapsed().as_secs_f64());
    answered
}

/// A request's route, as its label says it.
enum Route {
    /// Routed: the template its resource keeps (or [`UNMATCHED`]).
    Static(&'static str),
    /// Answered before routing (a refusal by a middleware): the template
    /// worked out from its path, the slow way, as this is rare.
    Matched(String),
}

fn route_of(request: &HttpRequest) -> Route {
    match RouteTemplate::of(request) {
        Some(Cow::Borrowed(template)) => Route::Static(template),
        Some(Cow::Owned(matched)) => Route::Matched(matched),
        None => Route::Static(UNMATCHED),
    }
}

/// One count and one duration, through handles this thread keeps for each
/// route, method and status it has served: after the first request of a
/// kind, recording is two atomic updates, with no label built, hashed or
/// looked up in the recorder's registry.
fn record(route: Route, method: &'static str, status: StatusCode, seconds: f64) {
    thread_local! {
        static ROUTED: RefCell<HashMap<(&'static str, &'static str, u16), Handles>> =
            RefCell::new(HashMap::new());
        static REFUSED: RefCell<HashMap<(String, &'static str, u16), Handles>> =
            RefCell::new(HashMap::new());
    }
    let status = status.as_u16();
    let count = |(count, duration): &mut Handles| {
        count.increment(1);
        duration.record(seconds);
    };
    match route {
        Route::Static(template) => ROUTED.with(|kept| {
            count(
                kept.borrow_mut()
                    .entry((template, method, status))
                    .or_insert_with(|| handles(template, method, status)),
            )
        }),
        Route::Matched(pattern) => REFUSED.with(|kept| {
            let mut kept = kept.borrow_mut();
            count(
                kept.entry((pattern.clone(), method, status))
                    .or_insert_with(|| handles(&pattern, method, status)),
            )
        }),
    }
}

/// A route's count and duration, by method and status.
type Handles = (Counter, Histogram);

fn handles(route: &str, method: &'static str, status: u16) -> Handles {
    (
        ::metrics::counter!(
            HTTP_REQUESTS,
            "route" => route.to_owned(),
            "method" => method,
            "status" => status.to_string(),
        ),
        ::metrics::histogram!(
            HTTP_REQUEST_DURATION,
            "route" => route.to_owned(),
            "method" => method
        ),
    )
}

/// HTTP's standard methods by name; any other a client makes up is `other`,
/// for the same reason as [`UNMATCHED`].
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    STANDARD
        .iter()
        .find(|(standard, _)| standard == method)
        .map_or("other", |(_, label)| label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_up_method_is_labelled_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        let made_up = Method::from_bytes(b"FROBNICATE").expect("a valid token");
        assert_eq!(method_label(&made_up), "other");
    }
}
