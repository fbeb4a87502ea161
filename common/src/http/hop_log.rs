//! The hop log: one JSON line per request a process serves and per call it
//! makes to another process, each with the request's `X-Request-Id`, written
//! through `tracing` to a file of the process's own (`--log-file`). With
//! every process of a deployment logging, `shoplab trace <request-id>`
//! follows one request through every hop, and a test can check that no hop
//! drops the id on the way.
//!
//! Off unless `--log-file` is given: the lab's measurements run without it.
//! The file is bounded: past [`MAX_BYTES`] it is moved aside to `FILE.old`
//! (replacing an older one) and started again, so a long run keeps at most
//! twice that on disk and nothing in memory.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing_subscriber::fmt::MakeWriter;

use super::RequestId;

/// How large a hop log grows before it is moved aside.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The event target every hop line carries, so a reader can tell them from
/// anything else a library logs.
pub const TARGET: &str = "shoplab::hop";

static INSTALLED: OnceLock<String> = OnceLock::new();

/// Sends this process's hop lines to `path` (created if missing, appended
/// to), naming the process `process` on each. Only the first call in a
/// process installs; later ones (a test starting several servers in one
/// process) change nothing.
pub fn install(process: &str, path: &Path) -> anyhow::Result<()> {
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let writer = CappedFile::open(path)?;
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer)
        .with_max_level(tracing::Level::INFO)
        .finish();
    if tracing::subscriber::set_global_default(subscriber).is_ok() {
        let _ = INSTALLED.set(process.to_owned());
    }
    Ok(())
}

/// Whether this process writes a hop log.
pub fn enabled() -> bool {
    INSTALLED.get().is_some()
}

fn process() -> &'static str {
    INSTALLED.get().map_or("", String::as_str)
}

/// The middleware: one `served` line per request, after its answer, with
/// the route's template (`/products/{id}`, never `/products/17`).
pub async fn served(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = request.extensions().get::<RequestId>().cloned();
    let method = request.method().to_string();
    let route = request
        .match_pattern()
        .unwrap_or_else(|| request.path().to_owned());
    let response = next.call(request).await?;
    tracing::info!(
        target: TARGET,
        process = process(),
        hop = "served",
        request_id = request_id.as_ref().map_or("", RequestId::as_str),
        method,
        route,
        status = response.status().as_u16(),
        micros = micros(started),
    );
    Ok(response)
}

/// A call this process is making to another, logged as one `called` line
/// when its answer comes. [`Call::start`] is `None`, and costs nothing, when
/// the process keeps no hop log: both callers (the services' blocking client
/// and the gateway's async one) sit on every hop's path.
pub struct Call {
    request_id: String,
    method: String,
    path: String,
    started: Instant,
}

impl Call {
    /// Starts timing a call of `METHOD path` on behalf of `request_id`.
    pub fn start(request_id: &str, method: &str, path: &str) -> Option<Call> {
        enabled().then(|| Call {
            request_id: request_id.to_owned(),
            method: method.to_owned(),
            path: path.to_owned(),
            started: Instant::now(),
        })
    }

    /// `peer` answered `status` (0: no answer).
    pub fn answered(self, peer: &str, status: u16) {
        tracing::info!(
            target: TARGET,
            process = process(),
            hop = "called",
            request_id = self.request_id,
            peer,
            method = self.method,
            route = self.path,
            status,
            micros = micros(self.started),
        );
    }
}

fn micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// A log file that is moved aside to `FILE.old` when it passes [`MAX_BYTES`].
#[derive(Clone)]
struct CappedFile {
    inner: Arc<Mutex<Capped>>,
}

struct Capped {
    path: PathBuf,
    file: File,
    written: u64,
}

impl CappedFile {
    fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        Ok(Self {
            inner: Arc::new(Mutex::new(Capped {
                path: path.to_owned(),
                file,
                written,
            })),
        })
    }
}

impl Capped {
    fn roll_if_full(&mut self) -> std::io::Result<()> {
        if self.written < MAX_BYTES {
            return Ok(());
        }
        let mut old = self.path.clone().into_os_string();
        old.push(".old");
        std::fs::rename(&self.path, old)?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

impl Write for CappedFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut capped = match self.inner.lock() {
            Ok(capped) => capped,
            Err(poisoned) => poisoned.into_inner(),
        };
        capped.roll_if_full()?;
        let written = capped.file.write(bytes)?;
        capped.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.inner.lock() {
            Ok(mut capped) => capped.file.flush(),
            Err(poisoned) => poisoned.into_inner().file.flush(),
        }
    }
}

impl<'a> MakeWriter<'a> for CappedFile {
    type Writer = CappedFile;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
