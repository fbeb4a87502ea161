//! What every HTTP server of the lab does alike: the app's shared frame, the
//! [`Application`] that binds it to an address before it runs, and the one
//! line a process prints when it is ready.
//!
//! Every binary (the monolith, each service, the gateway) starts through
//! [`Application`], and so can a bench that wants a server inside its own
//! process: one way to start each server, in the manner of
//! zero-to-production's `Application::build`.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, HttpServer};

use super::{contract, drain, hop_log, internal_token, metrics, request_id};

/// An app with API.md's frame (request ids, 404/405 bodies, query errors)
/// around the routes `configure` adds.
pub fn shop_app(
    configure: impl FnOnce(&mut web::ServiceConfig),
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // The last `wrap` runs first: the request id is set before anything can
    // refuse the request, so every answer carries it (and the hop log, when
    // the process keeps one, sees it).
    App::new()
        .wrap(Condition::new(
            internal_token::current().is_some(),
            from_fn(internal_token::guard),
        ))
        .wrap(Condition::new(
            hop_log::installed(),
            from_fn(hop_log::served),
        ))
        .wrap(from_fn(drain::close_when_draining))
        .wrap(from_fn(contract::refuse_oversized))
        .wrap(from_fn(request_id::propagate))
        // Outermost: every answer is counted, the refusals above included,
        // and timed from the request's arrival.
        .wrap(Condition::new(
            shoplab_common::metrics::enabled(),
            from_fn(metrics::served),
        ))
        .configure(contract)
        .configure(configure)
}

/// How long a server keeps an idle connection open. The lab's HTTP clients
/// drop idle connections sooner ([`CLIENT_IDLE`]), so a client never sends a
/// request on a connection the server is just closing: that race would look
/// like an answer lost on the way, which a saga must treat as "maybe done".
pub const SERVER_KEEP_ALIVE: Duration = Duration::from_secs(30);

/// How long a server, told to stop (SIGTERM), goes on serving the requests
/// it has already taken before it exits: it accepts no new ones meanwhile.
/// The harness waits a little longer than this before it kills a process.
pub const SHUTDOWN_WITHIN: Duration = Duration::from_secs(10);

/// How long the lab's HTTP clients keep an idle pooled connection.
pub const CLIENT_IDLE: Duration = Duration::from_secs(10);

/// A server bound to its address (so its port is known, even when it asked
/// for port 0) that has not started serving yet.
///
/// Binding and running are two steps because what comes before binding may
/// not run inside an async runtime: a deployment opens its database first
/// (diesel blocks). Nothing here needs a runtime until
/// [`run_until_stopped`](Self::run_until_stopped) is awaited.
pub struct Application {
    name: String,
    addrs: Vec<SocketAddr>,
    server: Server,
    /// The operator's `/metrics` endpoint, when the process has one
    /// (`--metrics-addr`, `metrics.rs`).
    metrics: Option<metrics::Endpoint>,
}

/// Where a server listens: an address to bind, or a listener bound already.
enum Listen<'a> {
    Addr(&'a str),
    Listener(TcpListener),
}

impl std::fmt::Display for Listen<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Addr(addr) => f.write_str(addr),
            Listen::Listener(listener) => match listener.local_addr() {
                Ok(addr) => write!(f, "{addr}"),
                Err(_) => f.write_str("a bound listener"),
            },
        }
    }
}

/// The address could not be listened on (in use, not ours, not an address).
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}")]
pub struct BindError {
    addr: String,
    #[source]
    source: std::io::Error,
}

impl Application {
    /// Binds `addr` (port 0 picks a free port) to an app with API.md's frame
    /// around the routes `configure` adds. `name` is the process's name in
    /// the line [`announce_and_run`](Self::announce_and_run) prints. If the
    /// process was given `--metrics-addr` (`SettingsArgs::load`), that
    /// address is bound too, to the `/metrics` endpoint (`metrics.rs`).
    ///
    /// `configure` is cloned and called once per worker thread, so it should
    /// capture only cheap clones (`web::Data` is an `Arc`).
    pub fn bind<F>(name: &str, addr: &str, configure: F) -> Result<Self, BindError>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        Self::serve(name, Listen::Addr(addr), configure)
    }

    /// [`bind`](Self::bind), on a listener bound already: for a process
    /// that must know its own address before it builds its routes (a group
    /// of components that calls its own members over HTTP,
    /// `microservices/group`).
    pub fn listen<F>(name: &str, listener: TcpListener, configure: F) -> Result<Self, BindError>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        Self::serve(name, Listen::Listener(listener), configure)
    }

    fn serve<F>(name: &str, listen: Listen<'_>, configure: F) -> Result<Self, BindError>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let server = HttpServer::new(move || {
            // Moved in, not borrowed: the app must not outlive its factory's
            // captures (`shop_app`'s return type names the closure's type).
            let configure = configure.clone();
            shop_app(move |app| configure(app))
        })
        .keep_alive(SERVER_KEEP_ALIVE)
        .shutdown_timeout(SHUTDOWN_WITHIN.as_secs())
        // A process drains before it stops (`drain.rs`): the signals are
        // watched there, not by actix.
        .disable_signals();
        let addr = listen.to_string();
        let server = match listen {
            Listen::Addr(addr) => server.bind(addr),
            Listen::Listener(listener) => server.listen(listener),
        }
        .map_err(|source| BindError { addr, source })?;
        let addrs = server.addrs();
        // `run` only builds the server's future: no worker starts until it is
        // awaited, so this needs no runtime yet.
        let server = server.run();
        let metrics = match metrics::take_address() {
            Some(addr) => Some(metrics::Endpoint::bind(&addr).map_err(|source| BindError {
                addr: format!("{addr} (--metrics-addr)"),
                source,
            })?),
            None => None,
        };
        Ok(Self {
            name: name.to_owned(),
            addrs,
            server,
            metrics,
        })
    }

    /// The port it listens on (the first address's, if a host name resolved
    /// to several).
    pub fn port(&self) -> u16 {
        self.addrs.first().map_or(0, SocketAddr::port)
    }

    /// Every address it listens on.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Where its `/metrics` endpoint listens (none without `--metrics-addr`).
    pub fn metrics_addrs(&self) -> &[SocketAddr] {
        self.metrics
            .as_ref()
            .map_or(&[], |endpoint| &endpoint.addrs)
    }

    /// A handle to stop the server from elsewhere (a bench that started it
    /// in process stops it this way; a process is stopped by SIGTERM).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped through [`handle`](Self::handle)
    /// (signals are [`announce_and_run`](Self::announce_and_run)'s business),
    /// and the metrics endpoint with it. Await it inside an actix or tokio
    /// runtime; the workers are threads of their own.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Some(metrics) = self.metrics else {
            return self.server.await;
        };
        // The metrics endpoint serves until the public server has stopped.
        let stop_metrics = metrics.server.handle();
        let public = async move {
            let served = self.server.await;
            stop_metrics.stop(true).await;
            served
        };
        let (served, _) = futures_util::future::join(public, metrics.server).await;
        served
    }

    /// What a binary's `main` does with its application: prints
    /// `NAME listening on http://ADDR` on stdout (the line `shoplab up` and
    /// the tests wait for, so that a process started on port 0 can say which
    /// port it got; with a metrics endpoint, `NAME metrics on http://ADDR`
    /// comes first), then serves on an actix runtime of its own, blocking the
    /// calling thread until the server is stopped: SIGTERM or SIGINT drain
    /// it, then stop it gracefully (`drain.rs`).
    pub fn announce_and_run(self) -> std::io::Result<()> {
        // Before the "listening on" line, so that whoever waits for that
        // line has read this one too.
        for addr in self.metrics_addrs() {
            println!("{} metrics on http://{addr}", self.name);
        }
        announce(&self.name, &self.addrs);
        let served = actix_web::rt::System::new().block_on(async move {
            actix_web::rt::spawn(drain::on_signal(self.handle()));
            actix_web::rt::spawn(hop_log::on_signals());
            self.run_until_stopped().await
        });
        // The last requests' hop lines are on disk before the process exits.
        hop_log::finish();
        served
    }
}

/// Prints `NAME listening on http://ADDR` on stdout for every address: the
/// line `shoplab up`, the harness and the tests wait for. Servers built
/// without the shop's frame (the harness's floor) print it too.
pub fn announce(name: &str, addrs: &[SocketAddr]) {
    for addr in addrs {
        println!("{name} listening on http://{addr}");
    }
}
