//! The hop log's file: bounded, so a long run keeps at most twice
//! [`MAX_BYTES`] on disk and nothing in memory. Past that it is moved aside
//! to `FILE.old` (replacing an older one) and started again; `shoplab
//! trace` reads both.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

/// How large a hop log grows before it is moved aside.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// A log file that is moved aside to `FILE.old` when it passes [`MAX_BYTES`].
#[derive(Clone)]
pub(super) struct CappedFile {
    inner: Arc<Mutex<Capped>>,
}

struct Capped {
    path: PathBuf,
    file: File,
    written: u64,
}

impl CappedFile {
    pub(super) fn open(path: &Path) -> std::io::Result<Self> {
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
