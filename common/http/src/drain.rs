//! Stopping without dropping anyone: what a process does between SIGTERM
//! and its exit.
//!
//! 1. It drains: its `/health` answers 503, so a load balancer that checks
//!    it (`balance.rs` in `shoplab-service`) stops sending it requests, and
//!    every answer it still gives says `Connection: close`, so no client
//!    keeps a pooled connection to it.
//! 2. After `--drain-notice-ms` (0 by default: with nothing in front of the
//!    process there is no one to warn), it stops accepting connections and
//!    finishes the requests it has, within
//!    [`SHUTDOWN_WITHIN`](super::server::SHUTDOWN_WITHIN), then exits 0.
//!
//! A second SIGTERM or SIGINT stops it at once. The state is one flag per
//! process, global like the signal that sets it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;

static DRAINING: AtomicBool = AtomicBool::new(false);
static NOTICE: OnceLock<Duration> = OnceLock::new();

/// Whether this process has been told to stop and is draining.
pub fn draining() -> bool {
    DRAINING.load(Ordering::Relaxed)
}

/// How long the process keeps serving, while its `/health` says it is
/// draining, before it stops accepting (`--drain-notice-ms`). Set once, at
/// start-up; later calls change nothing.
pub fn set_notice(notice: Duration) {
    let _ = NOTICE.set(notice);
}

fn notice() -> Duration {
    NOTICE.get().copied().unwrap_or_default()
}

/// Waits for SIGTERM or SIGINT, drains, then stops the server gracefully
/// through `server`; a second signal stops it at once. Runs as a task on
/// the server's own runtime for the whole life of the process.
pub async fn on_signal(server: ServerHandle) {
    use actix_web::rt::signal::unix::{signal, SignalKind};

    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot watch SIGTERM and SIGINT: this process stops only when killed");
        return;
    };
    let stop_signal = async {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
    };
    stop_signal.await;
    DRAINING.store(true, Ordering::Relaxed);
    let graceful = async {
        tokio::time::sleep(notice()).await;
        server.stop(true).await;
    };
    tokio::select! {
        () = graceful => {},
        _ = terminate.recv() => server.stop(false).await,
        _ = interrupt.recv() => server.stop(false).await,
    }
}

/// Middleware: while draining, every answer closes its connection.
pub async fn close_when_draining(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    if draining() {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(response)
}
