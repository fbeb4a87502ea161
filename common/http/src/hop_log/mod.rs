//! The hop log: one JSON line per request a process serves, per call it
//! makes to another process and per component call it makes in process,
//! each with the request's `X-Request-Id`, written through `tracing` to a
//! file of the process's own (`--log-file`). With every process of a
//! deployment logging, `shoplab trace <request-id>` shows one request as a
//! tree of hops: where an order spends its time in five services, and where
//! it spends it in the monolith's function calls.
//!
//! Every line has a `hop_id` and, unless it is where the request entered, a
//! `parent`: the hop it happened inside. Within a process the parent is
//! whatever is being served or called at the time (the [`current`] hop);
//! across processes a call sends its own id as `X-Parent-Hop`, and the
//! served line on the other side names it as its parent. This is what
//! distributed tracing (W3C `traceparent`, OpenTelemetry) does, cut down to
//! what the lab needs: the lab runs with no collector.
//!
//! Off unless `--log-file` is given. A line is formatted on the thread that
//! logs it and written by a thread of the hop log's own (`queue.rs`); the
//! file is bounded (`file.rs`). Logging every hop is not free (a microsecond or two
//! a line, more hops in the services than in the monolith), so a running
//! process can be told to pause it (SIGUSR2) and resume it (SIGUSR1):
//! `shoplab compare` measures throughput and CPU with it paused.

mod file;
mod lines;
mod queue;

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::writer::OptionalWriter;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

pub use file::MAX_BYTES;
pub use lines::{served, within, Call, Function};
pub use queue::FLUSH_EVERY;

/// The event target every hop line carries, so a reader can tell them from
/// anything else a library logs.
pub const TARGET: &str = "shoplab::hop";

/// The header a call carries its own hop id in, so the process that serves
/// it can name its parent.
pub const PARENT_HEADER: &str = "x-parent-hop";

static INSTALLED: OnceLock<String> = OnceLock::new();

/// Set by SIGUSR2, cleared by SIGUSR1 ([`on_signals`]).
static PAUSED: AtomicBool = AtomicBool::new(false);

/// The thread that writes the queued lines to the file.
static WRITER: Mutex<Option<queue::Writer>> = Mutex::new(None);

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
    // A request pays for formatting its lines, not for writing them
    // (`queue.rs`).
    let (queued, writer) = queue::start(file::CappedFile::open(path)?)?;
    if QUEUED.set(queued).is_ok() {
        let _ = INSTALLED.set(process.to_owned());
        *queue::lock(&WRITER) = Some(writer);
    }
    Ok(())
}

/// Where the hop lines go once [`install`] has run: nowhere before.
static QUEUED: OnceLock<queue::Queued> = OnceLock::new();

/// The hop log's part of the process's one `tracing` subscriber
/// (`logging.rs`): the events of target [`TARGET`] alone, one JSON line
/// each, to the queue once the hop log is installed.
pub(crate) fn layer<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    let to_queue = || match QUEUED.get() {
        Some(queued) => OptionalWriter::some(queued.clone()),
        None => OptionalWriter::none(),
    };
    tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        // Each line has its own start time (`started_us`).
        .without_time()
        .with_writer(to_queue)
        .with_filter(Targets::new().with_target(TARGET, LevelFilter::INFO))
}

/// Writes every line still queued and stops the writer thread: what a
/// process does last, after its server has stopped (a line queued when a
/// process is killed is lost with it).
pub fn finish() {
    let writer = queue::lock(&WRITER).take();
    if let Some(writer) = writer {
        writer.finish();
    }
}

/// Whether this process keeps a hop log (paused or not): whether its app
/// has the [`served`] middleware.
pub fn installed() -> bool {
    INSTALLED.get().is_some()
}

/// Whether this process writes hop lines now.
pub fn enabled() -> bool {
    installed() && !PAUSED.load(Ordering::Relaxed)
}

/// Watches SIGUSR2 (pause the hop log) and SIGUSR1 (resume it) for as long
/// as the process runs. Watched whether or not the process keeps a hop log,
/// so that neither signal kills a process that keeps none (their default
/// action is to terminate).
pub async fn on_signals() {
    use actix_web::rt::signal::unix::{signal, SignalKind};

    let (Ok(mut resume), Ok(mut pause)) = (
        signal(SignalKind::user_defined1()),
        signal(SignalKind::user_defined2()),
    ) else {
        tracing::warn!("cannot watch SIGUSR1 and SIGUSR2: the hop log cannot be paused");
        return;
    };
    loop {
        tokio::select! {
            Some(()) = resume.recv() => PAUSED.store(false, Ordering::Relaxed),
            Some(()) = pause.recv() => PAUSED.store(true, Ordering::Relaxed),
            else => return,
        }
    }
}

fn process() -> &'static str {
    INSTALLED.get().map_or("", String::as_str)
}

/// One hop's id: 64 random bits, printed as 16 hex digits. Ids are drawn
/// independently in every process; two hops of one request sharing one is
/// a one-in-2^64 chance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HopId(u64);

impl HopId {
    fn fresh() -> Self {
        HopId(rand::random())
    }

    /// The id a caller sent (`X-Parent-Hop`); anything but 16 hex digits is
    /// no parent at all.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 16)
            .then(|| u64::from_str_radix(text, 16).ok())
            .flatten()
            .map(HopId)
    }
}

impl std::fmt::Display for HopId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{:016x}", self.0)
    }
}

/// The hop a process is inside of, for one request: what a line logged now
/// names as its parent.
#[derive(Debug, Clone)]
pub struct Current {
    request_id: String,
    hop: HopId,
}

tokio::task_local! {
    /// The request being served, on the async side: set around the
    /// handler's future by [`served`].
    static SERVING: Current;
}

thread_local! {
    /// The hop a thread is inside of while it runs work for a request:
    /// set by [`enter`], from `run_blocking` on a blocking thread, and by
    /// [`within`] each time it polls a future.
    static WITHIN: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// The hop this code runs inside of, if the process keeps a hop log and
/// the code runs for a request.
pub fn current() -> Option<Current> {
    if !enabled() {
        return None;
    }
    WITHIN
        .with(|within| within.borrow().clone())
        .or_else(|| SERVING.try_with(Current::clone).ok())
}

/// Makes `current` the current hop of this thread until the guard drops:
/// how work moved to a blocking thread stays inside the request it runs for.
pub fn enter(current: Option<Current>) -> Entered {
    let previous = current.map(|current| WITHIN.with(|within| within.replace(Some(current))));
    Entered { previous }
}

/// Restores the thread's previous hop when dropped.
#[must_use = "the hop is current only while this lives"]
pub struct Entered {
    /// `None`: nothing was entered, nothing to restore.
    previous: Option<Option<Current>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            WITHIN.with(|within| *within.borrow_mut() = previous);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hop_id_reads_back_as_it_was_written() {
        let hop = HopId(0x00ab_cdef_0123_4567);
        assert_eq!(hop.to_string(), "00abcdef01234567");
        assert_eq!(HopId::parse(&hop.to_string()), Some(hop));
    }

    #[test]
    fn anything_but_sixteen_hex_digits_is_no_parent() {
        for text in [
            "",
            "abc",
            "00abcdef0123456",
            "00abcdef012345678",
            "zzabcdef01234567",
        ] {
            assert_eq!(HopId::parse(text), None, "{text:?}");
        }
    }
}
