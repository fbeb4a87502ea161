//! Between the threads that log hop lines and the file: a queue that a
//! thread of the hop log's own empties into the file every
//! [`FLUSH_EVERY`].
//!
//! A logging thread only appends its line to a buffer under a lock held for
//! a copy: no system call, and no thread woken. That matters here: the lab
//! pins a whole deployment to one core, where waking a writer thread for
//! every line (as `tracing-appender`'s non-blocking writer does, which this
//! replaced) added tens of microseconds to a product read through the
//! services. The price is that a line reaches the disk up to
//! [`FLUSH_EVERY`] after it was logged, and that a process killed outright
//! loses what was queued.
//!
//! The queue is bounded ([`MAX_QUEUED`]): if the disk falls that far behind,
//! lines are dropped, and counted, rather than memory grown or requests
//! slowed.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How often the queue is written to the file.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// The most bytes that may wait for the file.
const MAX_QUEUED: usize = 16 * 1024 * 1024;

struct Queue {
    lines: Mutex<Vec<u8>>,
    dropped: AtomicU64,
    stop: Mutex<bool>,
    stopping: Condvar,
}

/// What `tracing`'s formatter writes each line to.
#[derive(Clone)]
pub(super) struct Queued(Arc<Queue>);

/// The writer thread; [`Writer::finish`] writes what is queued and stops it.
pub(super) struct Writer {
    queue: Arc<Queue>,
    thread: JoinHandle<()>,
}

/// A lock that a thread which panicked while holding it does not spoil:
/// the lines (or the writer) behind it are still good.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts the thread that empties the queue into `file`.
pub(super) fn start(mut file: impl Write + Send + 'static) -> std::io::Result<(Queued, Writer)> {
    let queue = Arc::new(Queue {
        lines: Mutex::new(Vec::with_capacity(64 * 1024)),
        dropped: AtomicU64::new(0),
        stop: Mutex::new(false),
        stopping: Condvar::new(),
    });
    let shared = queue.clone();
    let thread = std::thread::Builder::new()
        .name("shoplab-hop-log".into())
        .spawn(move || {
            let mut taken = Vec::with_capacity(64 * 1024);
            let mut failed = false;
            loop {
                let stopped = {
                    let stop = lock(&shared.stop);
                    let (stop, _) = shared
                        .stopping
                        .wait_timeout_while(stop, FLUSH_EVERY, |stop| !*stop)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    *stop
                };
                std::mem::swap(&mut *lock(&shared.lines), &mut taken);
                if !taken.is_empty() {
                    let written = file.write_all(&taken).and_then(|()| file.flush());
                    if let (Err(error), false) = (written, failed) {
                        tracing::error!("cannot write the hop log: {error}");
                        failed = true;
                    }
                    taken.clear();
                }
                if stopped {
                    return;
                }
            }
        })?;
    Ok((Queued(queue.clone()), Writer { queue, thread }))
}

impl Writer {
    /// Writes every queued line, stops the thread, and says on stderr how
    /// many lines were dropped, if any.
    pub(super) fn finish(self) {
        *lock(&self.queue.stop) = true;
        self.queue.stopping.notify_one();
        let _ = self.thread.join();
        let dropped = self.queue.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!("the hop log dropped {dropped} lines: the disk fell behind");
        }
    }
}

impl Write for Queued {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut lines = lock(&self.0.lines);
        if lines.len() + bytes.len() > MAX_QUEUED {
            self.0.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            lines.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Queued {
    type Writer = Queued;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file stand-in that hands what it was given back to the test.
    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<Vec<u8>>>);

    impl Write for Kept {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_queued_is_written_by_the_time_it_finishes() {
        let kept = Kept::default();
        let (queued, writer) = start(kept.clone()).expect("the thread starts");
        for line in 0..1000 {
            let mut queued = queued.clone();
            queued
                .write_all(format!("{line}\n").as_bytes())
                .expect("queued");
        }
        writer.finish();
        let written = String::from_utf8(lock(&kept.0).clone()).expect("text");
        let lines: Vec<_> = written.lines().collect();
        assert_eq!(lines.len(), 1000);
        assert_eq!(lines[999], "999");
    }
}
